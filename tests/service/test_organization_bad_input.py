"""Bad input to every RPC method: a typed error naming the field, and nothing written."""


import pytest

from deploy.demo.organization import load_demo
from gonghui.errors import Conflict, NotFound, ValidationError
from services.organization.service import OrganizationService
from tests.support.bad_input import (
    LONE_SURROGATE,
    NUL,
    assert_unstorable_text_refused,
    database_snapshot,
    rpc_methods,
)

# For each method: arguments with one bad value, and the field the error must name.
BAD_INPUT = {
    "create_unit": ({"code": "X", "name": "  ", "kind": "plant"}, "name"),
    "rename_unit": ({"unit_id": 0, "name": "x"}, "unit_id"),
    "move_unit": ({"unit_id": 2, "parent_id": "two"}, "parent_id"),
    "close_unit": ({"unit_id": 2, "closed_on": "31/01/2026"}, "closed_on"),
    "get_unit": ({"unit_id": None}, "unit_id"),
    "list_units": ({"kind": "castle"}, "kind"),
    "subtree": ({"unit_id": 1, "include_closed": "perhaps"}, "include_closed"),
    "ancestors": ({}, "unit_id"),
    "establish_union": ({"unit_id": 2, "level": "federation", "name": "x"}, "level"),
    "close_union": ({"unit_id": -1}, "unit_id"),
    "get_union": ({"unit_id": "a"}, "unit_id"),
    "add_member": ({"employee_no": "N1", "name": "张三", "gender": "male", "unit_id": 2,
                    "mobile": "12345"}, "mobile"),
    "update_member": ({"member_id": 1, "email": "not-an-email"}, "email"),
    "member_leaves": ({"member_id": 1, "left_on": "yesterday"}, "left_on"),
    "get_member": ({"member_id": 1.5}, "member_id"),
    "list_members": ({"limit": 0}, "limit"),
    "assign_role": ({"member_id": 1, "unit_id": 2, "role": "king"}, "role"),
    "end_role": ({"assignment_id": "x"}, "assignment_id"),
    "recipients": ({"unit_id": 2, "role": "member"}, "role"),
    "start_term": ({"unit_id": 2, "starts_on": "2026-01-01"}, "ends_on"),
    "current_term": ({"unit_id": True}, "unit_id"),
    "record_election": ({"unit_id": 2, "held_on": "2026-01-01", "term_starts_on": "2026-01-01",
                         "term_ends_on": "2031-01-01", "committee": [{"member_id": 1}]},
                        "committee"),
    "tick": ({"as_of": "soon"}, "as_of"),
    "coverage_report": ({"as_of": "2026-02-30"}, "as_of"),
    "record_training": ({"title": "t", "kind": "external", "organiser_unit_id": 1,
                         "starts_on": "2026-01-01", "ends_on": "2026-01-02", "hours": 0,
                         "attendee_ids": [1]}, "hours"),
    "list_trainings": ({"year": 1850}, "year"),
    "record_field_visit": ({"unit_id": 2, "kind": "party", "visited_on": "2026-01-01",
                            "visitor_ids": [1], "findings": "f"}, "kind"),
    "list_field_visits": ({"offset": -1}, "offset"),
    "record_meeting": ({"unit_id": 2, "kind": "seminar", "title": "t",
                        "held_on": "2026-01-01", "tasks": [{"description": "d"}]}, "tasks"),
    "list_meetings": ({"unit_id": "x"}, "unit_id"),
    "close_action_item": ({"action_item_id": 1, "closing_note": ""}, "closing_note"),
    "list_action_items": ({"overdue_as_of": "x"}, "overdue_as_of"),
    "draft_regulation": ({"title": "t", "category": "poem", "issuing_unit_id": 1,
                          "body": "b"}, "category"),
    "issue_regulation": ({"regulation_id": 1}, "effective_on"),
    "revise_regulation": ({"regulation_id": 1, "body": "b", "effective_on": "2026-01-01"},
                          "change_summary"),
    "repeal_regulation": ({"regulation_id": 1}, "reason"),
    "list_regulations": ({"status": "lost"}, "status"),
    "regulation_history": ({"regulation_id": "one"}, "regulation_id"),
    "import_file": ({"kind": "units", "file_format": "ods", "content_base64": "eA=="},
                    "file_format"),
    "export_file": ({"kind": "pets", "file_format": "csv"}, "kind"),
    "health": ({"verbose": True}, "_schema"),
    "audit_history": ({"entity_type": "unit", "entity_id": 1, "limit": 0}, "limit"),
    "terms_due": ({"unit_id": 1, "within_days": -1}, "within_days"),
    "directory_snapshot": ({"part": "pets"}, "part"),
    "directory_status": ({"since": 1}, "_schema"),
}

# Well-formed calls that the current state must refuse.
REFUSED = [
    ("get_unit", {"unit_id": 9999}, NotFound),
    ("move_unit", {"unit_id": 1, "parent_id": 2}, Conflict),
    ("add_member", {"employee_no": "XN0001", "name": "重复", "gender": "male", "unit_id": 1},
     Conflict),
    ("record_training", {"title": "t", "kind": "external", "organiser_unit_id": 1,
                         "starts_on": "2026-01-01", "ends_on": "2026-01-02", "hours": 3,
                         "attendee_ids": [1, 99999]}, NotFound),
    ("issue_regulation", {"regulation_id": 1, "effective_on": "2026-01-01"}, Conflict),
    ("establish_union", {"unit_id": 1, "level": "company_union", "name": "x"}, Conflict),
]


# Otherwise valid calls with a NUL byte or a lone surrogate in a string (the path of the
# field the error names): refused before the database or the broker sees them.
UNSTORABLE_TEXT = [
    ("list_units", {"domain": f"x{NUL}y"}, ("domain",)),
    ("list_units", {"domain": LONE_SURROGATE}, ("domain",)),
    ("list_units", {f"domain{NUL}": "x"}, ("_schema",)),
    ("create_unit", {"code": "N1", "name": f"新{NUL}车间", "kind": "workshop", "parent_id": 2},
     ("name",)),
    ("record_field_visit", {"unit_id": 2, "kind": "visit", "visited_on": "2026-01-01",
                            "visitor_ids": [1], "findings": "f",
                            "actions": [{"description": f"整改{LONE_SURROGATE}",
                                         "owner_unit_id": 2, "due_on": "2026-02-01"}]},
     ("actions", "0", "description")),
]


def test_the_table_covers_every_rpc_method():
    assert sorted(BAD_INPUT) == rpc_methods(OrganizationService)


def snapshot(url):
    return database_snapshot(url, units_digest=(
        "SELECT md5(string_agg(id || name || coalesce(parent_id, 0), ',' ORDER BY id)) "
        "FROM units"))


@pytest.fixture
def loaded(start_service, rpc, databases):
    start_service(OrganizationService)
    with rpc() as proxy:
        load_demo(proxy)
        yield proxy.organization, databases["organization"]


def test_bad_input_gives_a_typed_field_error_and_writes_nothing(loaded):
    org, url = loaded
    before = snapshot(url)
    for method, (arguments, field) in sorted(BAD_INPUT.items()):
        with pytest.raises(ValidationError) as info:
            getattr(org, method)(**arguments)
        assert field in info.value.fields, (method, info.value.fields)
        with pytest.raises(ValidationError):
            getattr(org, method)(not_an_argument=1)
    for method, arguments, error in REFUSED:
        with pytest.raises(error):
            getattr(org, method)(**arguments)
    assert_unstorable_text_refused(org, UNSTORABLE_TEXT)
    assert snapshot(url) == before
