"""Bad input to every RPC method of the activities service: a typed error naming the field,
and nothing written."""


from datetime import timedelta

import pytest

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from gonghui.actor import Actor
from gonghui.clock import today
from gonghui.errors import Conflict, Forbidden, NotFound, ValidationError
from services.activities.service import ActivitiesService
from services.organization.service import OrganizationService
from tests.support.bad_input import (
    LONE_SURROGATE,
    NUL,
    assert_unstorable_text_refused,
    database_snapshot,
    rpc_methods,
)

# a day in the future whatever the date the suite runs on: not held yet
LATER = (today() + timedelta(days=60)).isoformat()
WHEN = {"starts_at": f"{LATER}T09:00:00", "ends_at": f"{LATER}T11:00:00"}
GOAL = {"description": "全覆盖", "metric": "checkup_coverage", "target": 1.0}

# For each method: arguments with one bad value, and the field the error must name.
BAD_INPUT = {
    "directory_status": ({"verbose": True}, "_schema"),
    "resync_directory": ({"force": True}, "_schema"),
    "create_campaign": ({"code": "Health Year", "name": "全民健康", "theme": "health",
                         "year": 2026, "organiser_unit_id": 1}, "code"),
    "add_goal": ({"campaign_id": 1, **GOAL, "target": 1.5}, "target"),
    "get_campaign": ({"campaign_id": "one"}, "campaign_id"),
    "list_campaigns": ({"year": 1850}, "year"),
    "campaign_progress": ({"campaign_id": 1, "as_of": "2026-02-30"}, "as_of"),
    "open_facility": ({"unit_id": 1, "kind": "swimming_pool", "name": "x"}, "kind"),
    "close_facility": ({"facility_id": 1}, "reason"),
    "get_facility": ({"facility_id": "library"}, "facility_id"),
    "list_facilities": ({"status": "ruined"}, "status"),
    "schedule_activity": ({"kind": "lecture", "name": "讲座", "organiser_unit_id": 1,
                           "starts_at": f"{LATER}T11:00:00", "ends_at": f"{LATER}T09:00:00"},
                          "ends_at"),
    "cancel_activity": ({"activity_id": 1, "reason": "   "}, "reason"),
    "get_activity": ({"activity_id": 0}, "activity_id"),
    "list_activities": ({"date_from": "2026-12-01", "date_to": "2026-11-01"}, "date_to"),
    "sign_up": ({"activity_id": 1, "member_id": None}, "member_id"),
    "cancel_signup": ({"activity_id": 1, "member_id": 1.5}, "member_id"),
    "list_signups": ({"activity_id": True}, "activity_id"),
    "member_signups": ({"member_id": 1, "limit": 0}, "limit"),
    "record_attendance": ({"activity_id": 1, "member_ids": []}, "member_ids"),
    "list_attendance": ({"activity_id": -3}, "activity_id"),
    "record_amount_raised": ({"activity_id": 1, "amount_raised": "-5"}, "amount_raised"),
    "create_recurring": ({"unit_id": 1, "kind": "workplace_exercise", "name": "工间操",
                          "frequency": "weekly", "starts_on": "2026-01-05"}, "weekday"),
    "end_recurring": ({"schedule_id": 1, "ends_on": "next week"}, "ends_on"),
    "get_recurring": ({"schedule_id": 0}, "schedule_id"),
    "list_recurring": ({"kind": "karaoke"}, "kind"),
    "occurrences": ({"schedule_id": 1, "date_from": "x"}, "date_from"),
    "record_participation": ({"schedule_id": 1, "member_ids": [1]}, "held_on"),
    "record_checkup": ({"member_id": 1, "checked_on": "2026-05-01", "provider": "职工医院",
                        "blood_pressure": "120/80"}, "blood_pressure"),
    "checkup_coverage": ({"year": "2026"}, "year"),
    "missing_checkups": ({"year": 2026}, "unit_id"),
    "figures": ({"unit_id": "company"}, "unit_id"),
    "tick": ({"as_of": "soon"}, "as_of"),
    "health": ({"verbose": True}, "_schema"),
    "audit_history": ({"entity_type": "Campaign", "entity_id": 1}, "entity_type"),
}

# Well-formed calls that the current state must refuse.
REFUSED = [
    ("get_activity", {"activity_id": 9999}, NotFound),
    ("get_facility", {"facility_id": 9999}, NotFound),
    ("get_recurring", {"schedule_id": 9999}, NotFound),
    ("open_facility", {"unit_id": 9999, "kind": "staff_library", "name": "x"}, NotFound),
    ("create_campaign", {"code": "health", "name": "again", "theme": "health", "year": 2026,
                         "organiser_unit_id": 1}, Conflict),
    ("sign_up", {"activity_id": 1, "member_id": 99999}, NotFound),
    ("sign_up", {"activity_id": 2, "member_id": 1}, Forbidden),  # women only; XN0001 is male
    ("member_signups", {"member_id": 99999}, NotFound),
    ("record_attendance", {"activity_id": 1, "member_ids": [1]}, Conflict),  # not held yet
    ("record_amount_raised", {"activity_id": 1, "amount_raised": "10"}, Conflict),
    ("missing_checkups", {"year": 2026, "unit_id": 1}, Forbidden),  # no officer role
]

# Otherwise valid calls with a NUL byte or a lone surrogate in a string (the path of the
# field the error names): refused before the database or the broker sees them.
UNSTORABLE_TEXT = [
    ("schedule_activity", {"kind": "lecture", "name": f"讲座{NUL}", "organiser_unit_id": 1,
                           **WHEN}, ("name",)),
    ("create_campaign", {"code": "reading", "name": "全民阅读", "theme": "reading",
                         "year": 2026, "organiser_unit_id": 1,
                         "goals": [{**GOAL, "description": f"全覆盖{LONE_SURROGATE}"}]},
     ("goals", "0", "description")),
    ("list_activities", {"kind": LONE_SURROGATE}, ("kind",)),
]


def test_the_table_covers_every_rpc_method():
    assert sorted(BAD_INPUT) == rpc_methods(ActivitiesService)


def snapshot(url):
    return database_snapshot(url, activities_digest=(
        "SELECT md5(string_agg(id || name || status || next_seq, ',' ORDER BY id)) "
        "FROM activities"))


@pytest.fixture
def loaded(start_service, rpc, databases):
    start_service(OrganizationService)
    start_service(ActivitiesService)
    with rpc(actor=Actor("officer", "T0001")) as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        act = proxy.activities
        act.create_campaign(code="health", name="全民健康", theme="health", year=2026,
                            organiser_unit_id=1, goals=[GOAL])
        act.schedule_activity(kind="match", name="篮球赛", organiser_unit_id=1, **WHEN)
        act.schedule_activity(kind="womens_health", name="女职工瑜伽", organiser_unit_id=1,
                              audience="women", **WHEN)
        act.open_facility(unit_id=1, kind="staff_library", name="职工书屋")
        act.create_recurring(unit_id=2, kind="workplace_exercise", name="工间操",
                             frequency="daily", starts_on="2026-01-05")
        yield act, databases["activities"]


def test_bad_input_gives_a_typed_field_error_and_writes_nothing(loaded):
    act, url = loaded
    before = snapshot(url)
    for method, (arguments, field) in sorted(BAD_INPUT.items()):
        with pytest.raises(ValidationError) as info:
            getattr(act, method)(**arguments)
        assert field in info.value.fields, (method, info.value.fields)
        with pytest.raises(ValidationError):
            getattr(act, method)(not_an_argument=1)
    for method, arguments, error in REFUSED:
        with pytest.raises(error):
            getattr(act, method)(**arguments)
    assert_unstorable_text_refused(act, UNSTORABLE_TEXT)
    assert snapshot(url) == before
