"""Deeds: bad input to every RPC method and every illegal state change give a typed error
and write nothing; ideas tell their submitter; objections and non-conformance; the read
model keeps escalation working while organization is down."""

import time
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from gonghui import directory
from gonghui.calendar import WorkingCalendar
from gonghui.errors import Conflict, NotFound, ValidationError
from services.deeds import rules
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.bad_input import (
    LONE_SURROGATE,
    NUL,
    assert_unstorable_text_refused,
    database_snapshot,
    rpc_methods,
)
from tests.support.deeds_helpers import load_union

BAD_INPUT = {
    "resync_directory": ({"full": True}, "_schema"),
    "directory_status": ({"x": 1}, "_schema"),
    "submit_idea": ({"title": "t", "description": "d", "focus_area": "weather",
                     "submitter_unit_id": 2}, "focus_area"),
    "review_idea": ({"idea_id": 1, "step": "accepted"}, "step"),
    "accept_idea": ({"idea_id": 1, "list_id": 1, "owner_unit_id": 2, "batch": "gold",
                     "planned_completion": "2021-06-30"}, "batch"),
    "get_idea": ({"idea_id": "a"}, "idea_id"),
    "list_ideas": ({"status": "lost"}, "status"),
    "create_list": ({"level": "national", "year": 2021, "unit_id": 1, "title": "t"}, "level"),
    "get_list": ({"list_id": 0}, "list_id"),
    "list_lists": ({"level": "national"}, "level"),
    "create_item": ({"list_id": 1, "title": "t", "focus_area": "talent", "batch": "care",
                     "owner_unit_id": 2, "planned_completion": "2021-13-01"},
                    "planned_completion"),
    "get_item": ({"item_id": 0}, "item_id"),
    "submit_report": ({"item_id": 1, "progress": 120, "text": "t"}, "progress"),
    "list_reports": ({"item_id": None}, "item_id"),
    "complete_item": ({"item_id": 1}, "summary"),
    "mark_non_conforming": ({"item_id": 1, "feedback": "f"}, "new_deadline"),
    "close_supervision": ({"order_id": 1, "explanation": " "}, "explanation"),
    "list_supervision": ({"status": "ajar"}, "status"),
    "get_supervision": ({"order_id": "x"}, "order_id"),
    "get_notice": ({"notice_id": -3}, "notice_id"),
    "list_notices": ({"year": 2021}, "_schema"),
    "raise_objection": ({"notice_id": 1, "item_id": 1, "member_id": 1}, "reason"),
    "review_objection": ({"objection_id": 1, "upheld": "maybe", "note": "n"}, "upheld"),
    "get_objection": ({"objection_id": None}, "objection_id"),
    "list_objections": ({"notice_id": 1, "status": "pending"}, "status"),
    "render_notice": ({"notice_id": 1, "file_format": "docx"}, "file_format"),
    "vote_satisfaction": ({"item_id": 1, "member_id": 1, "score": 6}, "score"),
    "set_evaluation_weights": ({"weights": {"completion": "high"}}, "weights"),
    "get_evaluation": ({"year": 2021, "quarter": 5}, "quarter"),
    "make_commitment": ({"owner_kind": "unit", "owner_unit_id": 2, "title": "t",
                         "metric": "m", "target": 0, "starts_on": "2021-01-01",
                         "ends_on": "2021-12-31"}, "target"),
    "report_commitment": ({"commitment_id": 1, "value": -1}, "value"),
    "get_commitment": ({"commitment_id": -1}, "commitment_id"),
    "compare_commitments": ({"year": "2021"}, "year"),
    "ledger": ({"track": "sideways"}, "track"),
    "export_ledger": ({"batch": "gold"}, "batch"),
    "figures": ({"level": "cosmic"}, "level"),
    "tick": ({}, "as_of"),
    "list_focus_areas": ({"lang": "en"}, "_schema"),
    "name_focus_areas": ({"names": {"weather": "天气"}}, "names"),
    "health": ({"deep": True}, "_schema"),
    "audit_history": ({"entity_type": "item", "entity_id": ""}, "entity_id"),
}

# Otherwise valid calls with a NUL byte or a lone surrogate in a string (the path of the
# field the error names): refused before the database or the broker sees them.
UNSTORABLE_TEXT = [
    ("submit_idea", {"title": f"夜班{NUL}热餐", "description": "d", "focus_area": "conditions",
                     "submitter_unit_id": 2}, ("title",)),
    ("submit_report", {"item_id": 1, "progress": 10, "text": f"进展{LONE_SURROGATE}",
                       "period": "2021-02", "submitted_on": "2021-02-20"}, ("text",)),
    ("name_focus_areas", {"names": {"key_work": f"重点{LONE_SURROGATE}"}},
     ("names", "key_work")),
    ("set_evaluation_weights", {"weights": {f"completion{NUL}": 1.0}}, ("weights",)),
]


def test_the_table_covers_every_rpc_method():
    assert sorted(BAD_INPUT) == rpc_methods(DeedsService)


def snapshot(url):
    return database_snapshot(url, items=(
        "SELECT id, status, progress FROM items ORDER BY id"))


@pytest.fixture
def world(start_service, rpc, databases):
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        members = {m["unit_id"]: m["id"] for m in proxy.organization.list_members(limit=5000)}
        deeds = proxy.deeds
        party = deeds.create_list(level="party_committee", year=2021, unit_id=units["XNY"],
                                  title="党委实事清单")
        item = deeds.create_item(list_id=party["id"], title="倒班宿舍热水改造",
                                 focus_area="conditions", batch="warm_heart",
                                 owner_unit_id=units["XNY-JJFD"],
                                 responsible_member_id=members[units["XNY-JJFD"]],
                                 planned_completion="2021-06-30", created_on="2021-01-10")
        yield proxy, units, members, party, item, databases["deeds"]


def test_bad_input_gives_a_typed_field_error_and_writes_nothing(world):
    proxy, *_, url = world
    before = snapshot(url)
    for method, (arguments, field) in sorted(BAD_INPUT.items()):
        with pytest.raises(ValidationError) as info:
            getattr(proxy.deeds, method)(**arguments)
        assert field in info.value.fields, (method, info.value.fields)
    assert_unstorable_text_refused(proxy.deeds, UNSTORABLE_TEXT)
    assert snapshot(url) == before


def test_illegal_state_changes_are_refused_and_write_nothing(world):
    proxy, units, members, party, item, url = world
    deeds = proxy.deeds
    deeds.complete_item(item_id=item["id"], completed_on="2021-05-20", summary="完工")
    idea = deeds.submit_idea(title="夜班热餐", description="d", focus_area="conditions",
                             submitter_unit_id=units["XNY-SYCN"])
    deeds.review_idea(idea_id=idea["id"], step="declined", reason="已有食堂改造项目覆盖")
    deeds.tick(as_of="2021-07-01")  # opens the Q2 notice with the completed item
    notice = deeds.list_notices()[0]
    deeds.tick(as_of="2021-07-12")  # closes it
    before = snapshot(url)
    refused = [
        ("submit_report", {"item_id": item["id"], "progress": 50, "text": "late news"},
         Conflict),
        ("complete_item", {"item_id": item["id"], "summary": "again"}, Conflict),
        ("review_idea", {"idea_id": idea["id"], "step": "argued"}, Conflict),
        ("accept_idea", {"idea_id": idea["id"], "list_id": party["id"], "owner_unit_id": 2,
                         "batch": "care", "planned_completion": "2021-12-01"}, Conflict),
        ("raise_objection", {"notice_id": notice["id"], "item_id": item["id"],
                             "member_id": 5, "reason": "热水仍不稳定",
                             "raised_on": "2021-07-20"}, Conflict),
        ("mark_non_conforming", {"item_id": item["id"], "feedback": "f",
                                 "new_deadline": "2021-12-01"}, Conflict),
        ("get_item", {"item_id": 999}, NotFound),
        ("create_list", {"level": "party_committee", "year": 2021, "unit_id": units["XNY"],
                         "title": "twice"}, Conflict),
        ("set_evaluation_weights", {"weights": {"completion": 1.0}}, Conflict),
        ("make_commitment", {"owner_kind": "member", "owner_unit_id": 2, "title": "t",
                             "metric": "m", "target": 5, "starts_on": "2021-01-01",
                             "ends_on": "2021-12-31"}, Conflict),
    ]
    for method, arguments, error in refused:
        with pytest.raises(error):
            getattr(deeds, method)(**arguments)
    assert snapshot(url) == before


NO_UNIT, NO_MEMBER = 999999, 888888


def test_unknown_units_and_members_are_not_found_and_write_nothing(world):
    """Every method naming a unit or a member looks it up in deeds' read model of the tree:
    an unknown one is NotFound (naming the id and the argument) before anything is written;
    the same calls with real ids work."""
    proxy, units, members, party, item, url = world
    deeds = proxy.deeds
    unit, member = units["XNY-SMGF"], members[units["XNY-SMGF"]]
    deeds.complete_item(item_id=item["id"], completed_on="2021-06-10", summary="完工")
    deeds.tick(as_of="2021-07-01")  # the Q2 notice opens with the completed item
    notice = deeds.list_notices()[0]
    idea = deeds.submit_idea(title="增设母婴室", description="d", focus_area="conditions",
                             submitter_unit_id=unit)
    deeds.review_idea(idea_id=idea["id"], step="argued")
    deeds.review_idea(idea_id=idea["id"], step="studied")
    new_item = {"list_id": party["id"], "title": "职工书屋", "focus_area": "conditions",
                "batch": "warm_heart", "planned_completion": "2021-12-31",
                "created_on": "2021-07-02"}
    commitment = {"title": "培训", "metric": "次", "target": 4, "starts_on": "2021-01-01",
                  "ends_on": "2021-12-31"}
    calls = {  # method: (arguments with real ids, the argument to replace, the unknown id)
        "create_item": [({**new_item, "owner_unit_id": unit}, "owner_unit_id", NO_UNIT),
                        ({**new_item, "owner_unit_id": unit, "responsible_member_id": member},
                         "responsible_member_id", NO_MEMBER)],
        "create_list": [({"level": "grassroots", "year": 2021, "unit_id": unit,
                          "title": "神木光伏电站实事清单"}, "unit_id", NO_UNIT)],
        "submit_idea": [({"title": "夜班热餐", "description": "d", "focus_area": "conditions",
                          "submitter_unit_id": unit}, "submitter_unit_id", NO_UNIT),
                        ({"title": "夜班热餐", "description": "d", "focus_area": "conditions",
                          "submitter_unit_id": unit, "submitter_member_id": member},
                         "submitter_member_id", NO_MEMBER)],
        "accept_idea": [({"idea_id": idea["id"], "list_id": party["id"], "batch": "care",
                          "owner_unit_id": unit, "planned_completion": "2021-12-01",
                          "accepted_on": "2021-07-02"}, "owner_unit_id", NO_UNIT)],
        "make_commitment": [({**commitment, "owner_kind": "unit", "owner_unit_id": unit},
                             "owner_unit_id", NO_UNIT),
                            ({**commitment, "owner_kind": "member", "owner_unit_id": unit,
                              "owner_member_id": member}, "owner_member_id", NO_MEMBER)],
        "vote_satisfaction": [({"item_id": item["id"], "member_id": member, "score": 5,
                                "voted_on": "2021-07-02"}, "member_id", NO_MEMBER)],
        "raise_objection": [({"notice_id": notice["id"], "item_id": item["id"],
                              "member_id": member, "reason": "热水仍不稳定",
                              "raised_on": "2021-07-02"}, "member_id", NO_MEMBER)],
        "list_ideas": [({"submitter_member_id": member}, "submitter_member_id", NO_MEMBER),
                       ({"unit_id": unit}, "unit_id", NO_UNIT)],
        "list_supervision": [({"owner_unit_id": unit}, "owner_unit_id", NO_UNIT),
                             ({"unit_id": unit}, "unit_id", NO_UNIT)],
        "ledger": [({"owner_unit_id": unit}, "owner_unit_id", NO_UNIT),
                   ({"unit_id": unit}, "unit_id", NO_UNIT)],
        "export_ledger": [({"owner_unit_id": unit}, "owner_unit_id", NO_UNIT),
                          ({"unit_id": unit}, "unit_id", NO_UNIT)],
        "figures": [({"unit_id": unit}, "unit_id", NO_UNIT)],
        "list_objections": [({"notice_id": notice["id"], "unit_id": unit}, "unit_id",
                             NO_UNIT)],
    }
    before = snapshot(url)
    for method, cases in calls.items():
        for arguments, field, unknown in cases:
            with pytest.raises(NotFound) as info:
                getattr(deeds, method)(**{**arguments, field: unknown})
            assert str(unknown) in info.value.message, (method, info.value.message)
            assert list(info.value.details) == [field], (method, info.value.details)
    assert snapshot(url) == before
    for method, cases in calls.items():
        for arguments, _, _ in cases:
            getattr(deeds, method)(**arguments)
    rows = deeds.ledger(owner_unit_id=unit)  # names from the read model, not "#<id>"
    assert len(rows) == 3 and {r["owner_unit_name"] for r in rows} == {"神木光伏电站"}
    assert {r["responsible_member_name"] is None or r["responsible_member_name"][0] != "#"
            for r in rows} == {True}


def test_idea_flow_and_the_submitter_hears_of_the_deed(world, subscribe):
    proxy, units, members, party, _, _ = world
    sub = subscribe("deeds.events")
    deeds = proxy.deeds
    submitter = members[units["XNY-SMGF"]]
    idea = deeds.submit_idea(title="增设爱心母婴室", description="女职工哺乳期无专用房间",
                             focus_area="conditions", submitter_unit_id=units["XNY-SMGF"],
                             submitter_member_id=submitter)
    with pytest.raises(Conflict):
        deeds.accept_idea(idea_id=idea["id"], list_id=party["id"], batch="care",
                          owner_unit_id=units["XNY-SMGF"], planned_completion="2021-08-01")
    deeds.review_idea(idea_id=idea["id"], step="argued")
    deeds.review_idea(idea_id=idea["id"], step="studied")
    item = deeds.accept_idea(idea_id=idea["id"], list_id=party["id"], batch="care",
                             owner_unit_id=units["XNY-SMGF"], planned_completion="2021-08-01",
                             accepted_on="2021-02-01")
    assert item["idea_id"] == idea["id"]
    deeds.submit_report(item_id=item["id"], progress=40, text="选址完成", period="2021-03",
                        submitted_on="2021-03-20")
    deeds.complete_item(item_id=item["id"], completed_on="2021-07-30", summary="已投用")
    seen = [m for m in sub.collect(8) if m["body"]["data"].get("idea_id") == idea["id"]]
    types = [m["body"]["type"] for m in seen]
    assert types.count("deeds.idea_reviewed") == 3
    for message in seen:
        data = message["body"]["data"]
        if message["body"]["type"].startswith("deeds.idea"):
            assert data["submitter_member_id"] == submitter
        else:
            assert data["idea_submitter_member_id"] == submitter, message["body"]["type"]


def test_objection_upheld_sends_the_item_back_as_non_conforming(world):
    proxy, units, members, party, item, _ = world
    deeds = proxy.deeds
    deeds.complete_item(item_id=item["id"], completed_on="2021-06-10", summary="完工")
    deeds.tick(as_of="2021-07-01")
    notice = deeds.list_notices()[0]
    assert notice["item_ids"] == [item["id"]]
    assert deeds.get_item(item_id=item["id"])["track"] == "completed_awaiting_notice"
    objection = deeds.raise_objection(notice_id=notice["id"], item_id=item["id"],
                                      member_id=members[units["XNY-JJFD"]],
                                      reason="二号楼热水仍时断时续", raised_on="2021-07-02")
    with pytest.raises(Conflict):
        deeds.review_objection(objection_id=objection["id"], upheld=True, note="属实")
    deeds.review_objection(objection_id=objection["id"], upheld=True, note="属实，需整改",
                           new_deadline="2021-09-30", reviewed_on="2021-07-05")
    changed = deeds.get_item(item_id=item["id"])
    assert changed["status"] == "non_conforming" and changed["track"] == "non_conforming"
    assert changed["reopened_on"] == "2021-07-05" and changed["completed_on"] is None
    assert changed["feedback"] == "属实，需整改"
    # Being redone, it owes monthly reports again.
    deeds.submit_report(item_id=item["id"], progress=80, text="整改中", period="2021-08",
                        submitted_on="2021-08-20")
    import base64
    import io

    from openpyxl import load_workbook

    exported = deeds.export_ledger(year=2021)
    assert exported["objections"] == 1
    objections = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"])))[
        "公示异议"]
    assert [c.value for c in objections[4]][1:] == [
        "2021年第2季度", "倒班宿舍热水改造", "锦界风电场", objections["E4"].value,
        "二号楼热水仍时断时续", objections["G4"].value, "成立", "属实，需整改"]
    assert objections["E4"].value and not objections["E4"].value.startswith("#")
    html = deeds.render_notice(notice_id=notice["id"])
    page = base64.b64decode(html["content_base64"]).decode()
    assert "倒班宿舍热水改造" in page and "公示期" in page
    pdf = base64.b64decode(deeds.render_notice(notice_id=notice["id"],
                                               file_format="pdf")["content_base64"])
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # a Chinese TrueType font is embedded (bin/install adds one)


def test_escalation_uses_the_read_model_while_organization_is_down(start_service, rpc,
                                                                  subscribe, amqp_uri,
                                                                  databases):
    sub = subscribe("deeds.events", "supervision_escalated")
    organization = start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        listed = proxy.organization.list_units(limit=5000)
        units = {u["code"]: u["id"] for u in listed}
        company_name = next(u["name"] for u in listed if u["code"] == "XNY")
        company_officers = {r["member_id"] for role in ("chair", "vice_chair")
                            for r in proxy.organization.recipients(unit_id=units["XNY"],
                                                                   role=role)}
        deeds = proxy.deeds
        lst = deeds.create_list(level="grassroots", year=2021, unit_id=units["XNY-SLGF"],
                                title="基层清单")
        item = deeds.create_item(list_id=lst["id"], title="运行班休息室改造",
                                 focus_area="conditions", batch="warm_heart",
                                 owner_unit_id=units["XNY-SLGF-1"],
                                 planned_completion="2021-12-31", created_on="2021-01-10")
        organization.kill()
        calendar = WorkingCalendar()
        due = rules.due_date("2021-02", 25, calendar)
        day, escalations = due, []
        while day <= date(2021, 3, 31) and len(escalations) < 2:
            day = day.fromordinal(day.toordinal() + 1)
            if deeds.tick(as_of=day.isoformat())["supervision_escalated"]:
                escalations = [o for o in deeds.list_supervision(limit=100)
                               if o["escalation_level"] > 0]
        orders = deeds.list_supervision(limit=100)
        february = [o for o in orders if o["period"] == "2021-02"][0]
        assert february["item_id"] == item["id"]
        assert february["escalation_level"] == 2  # union group → grassroots → company
        assert february["escalated_to_unit_id"] == units["XNY"]
        top = [m["body"]["data"] for m in sub.collect(2)
               if m["body"]["data"]["escalation_level"] == 2]
        # The event names the union told by its unit (notifications resolves its officers,
        # issue 11 §2), with the name from deeds' read model; it names no officer itself.
        assert top and top[0]["escalated_to_unit_id"] == units["XNY"]
        assert top[0]["escalated_to_unit_name"] == company_name
        assert top[0]["recipient_member_ids"] == []
        # …and deeds' read model, organization still down, knows the officers of the union
        # escalated to.
        engine = create_engine(databases["deeds"])
        with Session(engine) as session:
            assert set(directory.officers(session, units["XNY"])) == company_officers
        engine.dispose()
        # No union above the company's: past its deadline the order is marked at the top
        # and stays open there, and later ticks neither escalate nor re-read it.
        day = date.fromisoformat(february["deadline"])
        for _ in range(3):
            day = day.fromordinal(day.toordinal() + 1)
            assert deeds.tick(as_of=day.isoformat())["supervision_escalated"] == 0
        february = [o for o in deeds.list_supervision(limit=100) if o["period"] == "2021-02"][0]
        assert february["at_top"] and february["status"] == "open"
        assert february["escalation_level"] == 2

        # The tree grows above the company (organization's events, as it would send them):
        # the parked order is looked at again and escalates to the new top union.
        from gonghui.actor import Actor
        from gonghui.amqp import ConfirmingPublisher
        from gonghui.events import build_envelope
        from services.organization import events as org_events

        group_unit, group_union = 9001, 9001
        publisher = ConfirmingPublisher(amqp_uri)
        for declared, data in (
                (org_events.UNIT_CREATED, {"unit_id": group_unit, "unit_name": "集团",
                                           "code": "GROUP", "kind": "company",
                                           "parent_id": None}),
                (org_events.UNION_ESTABLISHED, {"unit_id": group_unit, "unit_name": "集团",
                                                "union_id": group_union,
                                                "union_name": "集团工会",
                                                "level": "company_union"}),
                (org_events.UNIT_MOVED, {"unit_id": units["XNY"], "unit_name": "新能源公司",
                                         "old_parent_id": None, "new_parent_id": group_unit,
                                         "new_parent_name": "集团"})):
            envelope = build_envelope(declared, data, Actor("system", "test"))
            publisher.publish_batch([("organization.events", declared.name, envelope, {})])
        publisher.close()
        deadline = time.monotonic() + 20
        while deeds.list_supervision(limit=100)[0]["at_top"] or deeds.directory_status()[
                "units"] < len(units) + 1:
            assert time.monotonic() < deadline, "deeds did not take the new tree"
            time.sleep(0.2)
        day = day.fromordinal(day.toordinal() + 1)
        assert deeds.tick(as_of=day.isoformat())["supervision_escalated"] >= 1
        february = [o for o in deeds.list_supervision(limit=100) if o["period"] == "2021-02"][0]
        assert february["escalation_level"] == 3 and not february["at_top"]
        assert february["escalated_to_unit_id"] == group_unit


def test_ledger_export_figures_focus_names_and_commitments(world):
    import base64
    import io

    from openpyxl import load_workbook

    proxy, units, members, party, item, _ = world
    deeds = proxy.deeds
    deeds.submit_report(item_id=item["id"], progress=30, text="招标完成", period="2021-02",
                        submitted_on="2021-02-20")
    exported = deeds.export_ledger(year=2021)
    sheet = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"]))).active
    assert sheet["A1"].value.endswith("项目台账") and sheet["E3"].value == "实事项目"
    assert sheet["E4"].value == "倒班宿舍热水改造" and sheet["L4"].value == 1
    assert sheet.print_title_rows == "$3:$3"
    # the details: a sheet each of the reports, supervision orders and objections
    book = load_workbook(io.BytesIO(base64.b64decode(exported["content_base64"])))
    assert book.sheetnames == ["实事台账", "月度汇报", "督办单", "公示异议"]
    assert (exported["reports"], exported["supervision_orders"], exported["objections"]) == (
        1, 0, 0)
    reports = book["月度汇报"]
    assert [c.value for c in reports[4]][:5] == [1, "倒班宿舍热水改造", "锦界风电场", "2021-02",
                                                 30]
    assert reports["F4"].value == "招标完成" and reports["J4"].value == "是"
    assert reports.print_title_rows == "$3:$3" and reports.freeze_panes == "A4"
    assert book["督办单"]["A4"].value is None  # no orders: header only
    plain = deeds.export_ledger(year=2021, details=False)
    assert plain["reports"] is None and load_workbook(io.BytesIO(base64.b64decode(
        plain["content_base64"]))).sheetnames == ["实事台账"]
    figures = deeds.figures(year=2021)
    assert figures == [{"unit_id": units["XNY-JJFD"], "unit_name": "锦界风电场",
                        "level": "party_committee", "items": 1,
                        "tracks": {"on_track": 1, "under_supervision": 0,
                                   "completed_awaiting_notice": 0, "publicly_noticed": 0,
                                   "non_conforming": 0},
                        "reports": 1, "reports_on_time": 1, "on_time_rate": 1.0}]
    renamed = deeds.name_focus_areas(names={"key_work": "聚焦2021年重点工作落地落实"})
    assert renamed[0] == {"code": "key_work", "name": "聚焦2021年重点工作落地落实"}
    assert len(deeds.list_focus_areas()) == 5
    a = deeds.make_commitment(owner_kind="unit", owner_unit_id=units["XNY-SMGF"], title="a",
                              metric="个", target=10, starts_on="2021-01-01",
                              ends_on="2021-12-31")
    b = deeds.make_commitment(owner_kind="member", owner_unit_id=units["XNY-SMGF"],
                              owner_member_id=members[units["XNY-SMGF"]], title="b",
                              metric="次", target=4, starts_on="2021-01-01",
                              ends_on="2021-12-31")
    deeds.report_commitment(commitment_id=a["id"], value=5, reported_on="2021-06-30")
    deeds.report_commitment(commitment_id=b["id"], value=3, reported_on="2021-06-30")
    with pytest.raises(Conflict):
        deeds.report_commitment(commitment_id=b["id"], value=4, reported_on="2022-01-05")
    ranked = deeds.compare_commitments(year=2021)
    assert [(c["id"], c["rank"], c["ratio"]) for c in ranked] == [
        (b["id"], 1, 0.75), (a["id"], 2, 0.5)]


def test_weighted_sub_items_roll_up_into_their_parent(world):
    proxy, units, members, party, _, _ = world
    deeds = proxy.deeds
    parent = deeds.create_item(list_id=party["id"], title="“两堂一舍”升级",
                               focus_area="conditions", batch="warm_heart",
                               owner_unit_id=units["XNY-SMGF"],
                               planned_completion="2021-10-31", created_on="2021-01-10")
    subs = [deeds.create_item(list_id=party["id"], title=title, focus_area="conditions",
                              batch="warm_heart", owner_unit_id=units["XNY-SMGF"],
                              planned_completion="2021-10-31", parent_item_id=parent["id"],
                              weight=weight, created_on="2021-01-10")
            for title, weight in (("食堂改造", 1.0), ("宿舍改造", 3.0))]
    with pytest.raises(Conflict):
        deeds.submit_report(item_id=parent["id"], progress=10, text="x", period="2021-02")
    with pytest.raises(Conflict):  # sub-items go one level deep, in the same list
        deeds.create_item(list_id=party["id"], title="x", focus_area="conditions",
                          batch="care", owner_unit_id=2, planned_completion="2021-10-31",
                          parent_item_id=subs[0]["id"])
    deeds.submit_report(item_id=subs[0]["id"], progress=100, text="完工", period="2021-02",
                        submitted_on="2021-02-20")
    deeds.submit_report(item_id=subs[1]["id"], progress=40, text="施工", period="2021-02",
                        submitted_on="2021-02-20")
    assert deeds.get_item(item_id=parent["id"])["progress"] == 55  # (100×1 + 40×3) / 4
    with pytest.raises(Conflict):
        deeds.complete_item(item_id=parent["id"], summary="not yet")
    for sub in subs:
        deeds.complete_item(item_id=sub["id"], completed_on="2021-09-30", summary="完工")
    assert deeds.complete_item(item_id=parent["id"], completed_on="2021-09-30",
                               summary="全部完工")["status"] == "completed"
    # Only leaves owe monthly reports: the parent never gets a reminder of its own.
    due = deeds.tick(as_of="2021-03-22")
    assert due["report_due"] == 1  # the fixture's item; none for the finished family


def test_quarterly_evaluation_scores_each_unit_from_its_quarter(world):
    """Two quarters replayed day by day: each unit's row in the evaluation counts its own
    items, reports (on time, late, missed), supervision orders, upheld objections and votes
    of that quarter only."""
    proxy, units, members, party, item, _ = world
    deeds = proxy.deeds
    unit_a, unit_b = units["XNY-JJFD"], units["XNY-SMGF"]

    def new_item(title, unit):
        return deeds.create_item(list_id=party["id"], title=title, focus_area="conditions",
                                 batch="warm_heart", owner_unit_id=unit,
                                 planned_completion="2021-09-30", created_on="2021-01-10")

    silent, redone = new_item("职工书屋", unit_a), new_item("健身房", unit_b)

    def report(target, period, on):
        deeds.submit_report(item_id=target["id"], progress=50, text="推进中", period=period,
                            submitted_on=on)

    def complete(target, on):
        deeds.complete_item(item_id=target["id"], completed_on=on, summary="完工")

    def object_and_uphold(on):
        notice = deeds.list_notices()[0]
        objection = deeds.raise_objection(notice_id=notice["id"], item_id=redone["id"],
                                          member_id=members[unit_a], reason="器材未到位",
                                          raised_on=on)
        deeds.review_objection(objection_id=objection["id"], upheld=True, note="补齐器材",
                               new_deadline="2021-05-31")

    script = {
        # Q1: A reports February on time, March late; its second item never reports.
        # B reports February, completes in March and gets a vote.
        date(2021, 2, 20): [lambda: report(item, "2021-02", "2021-02-20"),
                            lambda: report(redone, "2021-02", "2021-02-20")],
        date(2021, 3, 10): [lambda: complete(redone, "2021-03-10")],
        date(2021, 3, 15): [lambda: deeds.vote_satisfaction(
            item_id=redone["id"], member_id=members[unit_b], score=4, voted_on="2021-03-15")],
        date(2021, 3, 30): [lambda: report(item, "2021-03", "2021-03-30")],
        # Q2: an objection to B's item is upheld during the Q1 notice; B reports April on
        # time and completes again; A completes both items before April's reports are due.
        date(2021, 4, 2): [lambda: object_and_uphold("2021-04-02")],
        date(2021, 4, 12): [lambda: complete(item, "2021-04-12"),
                            lambda: complete(silent, "2021-04-12")],
        date(2021, 4, 20): [lambda: report(redone, "2021-04", "2021-04-20")],
        date(2021, 5, 10): [lambda: complete(redone, "2021-05-10")],
    }
    day = date(2021, 2, 1)
    while day <= date(2021, 7, 31):
        for action in script.get(day, []):
            action()
        deeds.tick(as_of=day.isoformat())
        day = day.fromordinal(day.toordinal() + 1)

    def rows(quarter):
        return {row["unit_id"]: {k: row[k] for k in (
            "completion_rate", "on_time_rate", "supervision_orders", "upheld_objections",
            "satisfaction")} for row in deeds.get_evaluation(year=2021, quarter=quarter)[
            "ranking"]}

    assert rows(1) == {
        # owed: A's 2 reports (1 on time, 1 late) and 2 never sent; 3 orders (Mar, Feb+Mar)
        unit_a: {"completion_rate": 0.0, "on_time_rate": 0.25, "supervision_orders": 3,
                 "upheld_objections": 0, "satisfaction": None},
        # completed in Q1 but sent back by April's upheld objection: not complete any more
        unit_b: {"completion_rate": 0.0, "on_time_rate": 1.0, "supervision_orders": 0,
                 "upheld_objections": 0, "satisfaction": 0.75}}
    assert rows(2) == {
        unit_a: {"completion_rate": 1.0, "on_time_rate": 1.0, "supervision_orders": 0,
                 "upheld_objections": 0, "satisfaction": None},
        unit_b: {"completion_rate": 1.0, "on_time_rate": 1.0, "supervision_orders": 0,
                 "upheld_objections": 1, "satisfaction": None}}
    # Sent back and completed again, B's item is noticed again with the next quarter's.
    notices = {(n["year"], n["quarter"]): n for n in deeds.list_notices()}
    assert notices[(2021, 1)]["item_ids"] == [redone["id"]]
    assert sorted(notices[(2021, 2)]["item_ids"]) == sorted(
        [item["id"], silent["id"], redone["id"]])
    assert deeds.get_item(item_id=redone["id"])["track"] == "publicly_noticed"


def test_the_track_table_gives_every_item_exactly_one_track():
    assert tuple(rules.TRACK_RULES) == rules.TRACKS
    for status in rules.ITEM_STATUSES:
        for supervised in (False, True):
            assert rules.track(status, supervised) in rules.TRACKS
    with pytest.raises(ValueError):
        rules.track("lost", False)


def test_operator_exports_the_ledger_from_the_command_line(world, amqp_uri, monkeypatch,
                                                           tmp_path, capsys):
    from openpyxl import load_workbook

    from deploy import cli

    proxy, units, members, party, item, _ = world
    proxy.deeds.submit_report(item_id=item["id"], progress=40, text="设备到货",
                              period="2021-03", submitted_on="2021-03-20")
    monkeypatch.setenv("GONGHUI_AMQP_URI", amqp_uri)
    target = tmp_path / "台账.xlsx"
    assert cli.main(["export", "ledger", str(target), "--year", "2021"]) == 0
    assert "ledger of 1 items, 1 monthly reports" in capsys.readouterr().out
    book = load_workbook(target)
    assert book.sheetnames == ["实事台账", "月度汇报", "督办单", "公示异议"]
    assert book["月度汇报"]["F4"].value == "设备到货"
    assert cli.main(["export", "ledger", str(target), "--items-only"]) == 0
    assert load_workbook(target).sheetnames == ["实事台账"]
    assert cli.main(["export", "ledger", str(tmp_path / "ledger.csv")]) == 2
    assert "name the file *.xlsx" in capsys.readouterr().err
