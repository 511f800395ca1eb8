"""The deeds routes over HTTP, with organization, deeds and the gateway on the real broker
and databases, and the deeds demo (the article's "552" programme) replayed to 2 July 2021,
while the second quarter's public notice is open: a member's ideas, objections and votes
(as themselves only); an owner unit's officers reporting, and another union's not; the
ledger and its workbook over the officer's subtree; the notice as a page and a PDF; the
public notice only where the union makes it public."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine

from deploy.demo import deeds as demo_deeds
from deploy.demo.organization import load_demo
from services.deeds.service import DeedsService
from services.gateway.service import GatewayService
from services.organization.service import OrganizationService
from tests.service.test_gateway_access import admin_session, person_session
from tests.support.bad_input import database_snapshot
from tests.support.gateway import Client, problem, wait_for_read_models, web_port

API = "/api/v1"
MEMBER, OTHER_MEMBER = "XN0012", "XN0013"  # plain members of 机关工会 (XNY-JG)
WINDOW_OPEN = date(2021, 7, 2)  # the Q2 notice opened on 1 July for 5 working days
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def deeds_stack(start_service, rpc, databases):
    start_service(OrganizationService)
    start_service(DeedsService)
    gateway = start_service(GatewayService)
    with rpc() as proxy:
        load_demo(proxy)
        wait_for_read_models(proxy, ("gateway", "deeds"))
        items = demo_deeds.load_items(proxy)
        demo_deeds.simulate(proxy, items, date(2021, 1, 20), WINDOW_OPEN)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        members = {m["employee_no"]: m for m in proxy.organization.list_members(limit=5000)}
        engine = create_engine(databases["gateway"])
        yield {"base": f"http://127.0.0.1:{web_port(gateway)}", "units": units,
               "members": members, "engine": engine, "proxy": proxy, "items": items,
               "deeds_url": databases["deeds"]}
        engine.dispose()


def deeds_rows(stack):
    return database_snapshot(stack["deeds_url"], ideas="SELECT id, submitter_member_id "
                             "FROM ideas ORDER BY id", votes="SELECT item_id, member_id "
                             "FROM satisfaction_votes ORDER BY id", objections="SELECT "
                             "item_id, member_id FROM objections ORDER BY id", reports="SELECT "
                             "item_id, period FROM reports ORDER BY id")


def open_notice(client):
    notices = client.get(f"{API}/notices")
    assert notices.status_code == 200, notices.text
    return next(n for n in notices.json() if (n["year"], n["quarter"]) == (2021, 2))


def chair_of(stack, code):
    """The employee number of the chair of the union at the unit ``code``."""
    chair = stack["proxy"].organization.recipients(unit_id=stack["units"][code],
                                                   role="chair")[0]
    return next(no for no, m in stack["members"].items() if m["id"] == chair["member_id"])


def test_a_member_proposes_objects_and_votes_as_themselves_only(deeds_stack, monkeypatch):
    stack = deeds_stack
    monkeypatch.setenv("GONGHUI_TODAY", WINDOW_OPEN.isoformat())  # deeds' business date
    me, other = stack["members"][MEMBER], stack["members"][OTHER_MEMBER]
    admin = admin_session(stack)
    member = person_session(stack, admin, MEMBER)
    # A golden idea, from my unit; then it is in my list.
    idea = {"title": "夜班职工热餐", "description": "一线倒班职工夜班无热餐",
            "focus_area": "conditions", "submitted_on": WINDOW_OPEN.isoformat()}
    made = member.post(f"{API}/ideas", json=idea)
    assert made.status_code == 201, made.text
    assert (made.json()["submitter_member_id"], made.json()["submitter_unit_id"]) == (
        me["id"], me["unit_id"])
    mine = member.get(f"{API}/me/ideas").json()
    assert [i["id"] for i in mine["items"]] == [made.json()["id"]]
    # Not as someone else, not from another unit, not someone else's list: nothing written.
    before = deeds_rows(stack)
    problem(member.post(f"{API}/ideas", json={**idea, "submitter_member_id": other["id"]}),
            403)
    problem(member.post(f"{API}/ideas", json={**idea, "submitter_unit_id": stack["units"][
        "XNY-SMGF"]}), 403)
    problem(member.get(f"{API}/me/ideas?submitter_member_id={other['id']}"), 403)
    problem(member.get(f"{API}/ideas"), 404)  # the offices' review queue
    # While the second quarter's notice is open: an objection, as myself only.
    notice = open_notice(member)
    objected, voted = notice["item_ids"][:2]
    objection = {"item_id": objected, "reason": "公示称已办结，但夜班职工仍未受益",
                 "raised_on": WINDOW_OPEN.isoformat()}
    problem(member.post(f"{API}/notices/{notice['id']}/objections",
                        json={**objection, "member_id": other["id"]}), 403)
    # A vote on a completed item: not as someone else; then once.
    vote = {"score": 4, "voted_on": WINDOW_OPEN.isoformat()}
    problem(member.post(f"{API}/deed-items/{voted}/votes",
                        json={**vote, "member_id": other["id"]}), 403)
    assert deeds_rows(stack) == before
    raised = member.post(f"{API}/notices/{notice['id']}/objections", json=objection)
    assert raised.status_code == 201, raised.text
    assert (raised.json()["member_id"], raised.json()["status"]) == (me["id"], "raised")
    cast = member.post(f"{API}/deed-items/{voted}/votes", json=vote)
    assert cast.status_code == 201 and cast.json()["member_id"] == me["id"], cast.text
    problem(member.post(f"{API}/deed-items/{voted}/votes", json={**vote, "score": 5}), 409)
    listed = admin.get(f"{API}/notices/{notice['id']}/objections").json()["items"]
    assert [(o["item_id"], o["member_id"]) for o in listed] == [(objected, me["id"])]
    # The window closes (5 working days): no objection after it, and a member may not date
    # one back inside it (a member's own act is dated today).
    demo_deeds.simulate(stack["proxy"], stack["items"], date(2021, 7, 3), date(2021, 7, 12))
    monkeypatch.setenv("GONGHUI_TODAY", "2021-07-12")
    assert open_notice(member)["status"] == "closed"
    late = {"item_id": voted, "reason": objection["reason"]}
    problem(member.post(f"{API}/notices/{notice['id']}/objections", json={
        **late, "raised_on": "2021-07-12"}), 409)
    problem(member.post(f"{API}/notices/{notice['id']}/objections", json=late), 409)
    dated_back = problem(member.post(f"{API}/notices/{notice['id']}/objections", json={
        **late, "raised_on": WINDOW_OPEN.isoformat()}), 403)
    assert "raised_on" in dated_back["errors"]
    after = deeds_rows(stack)
    assert after["objections"] == [(objected, me["id"])]
    assert after["votes"] == [(voted, me["id"])]


def test_offices_report_and_read_their_subtree_and_notices_are_pages(deeds_stack,
                                                                     start_service):
    stack, units, proxy = deeds_stack, deeds_stack["units"], deeds_stack["proxy"]
    admin = admin_session(stack)
    jjfd = units["XNY-JJFD"]
    officer = person_session(stack, admin, chair_of(stack, "XNY-JJFD"))
    outsider = person_session(stack, admin, chair_of(stack, "XNY-SMGF"))
    # An open item of the wind farm's, not yet reported for July.
    item = next(r for r in proxy.deeds.ledger(owner_unit_id=jjfd, status="open", limit=500)
                if r["last_report_period"] != "2021-07")
    report = {"progress": 70, "text": "7月进展：设备已到货", "period": "2021-07",
              "submitted_on": "2021-07-20"}
    before = deeds_rows(stack)
    problem(outsider.post(f"{API}/deed-items/{item['id']}/reports", json=report), 404)
    problem(outsider.get(f"{API}/deed-items/{item['id']}"), 404)
    assert deeds_rows(stack) == before
    done = officer.post(f"{API}/deed-items/{item['id']}/reports", json=report)
    assert done.status_code == 201, done.text
    assert [r["period"] for r in officer.get(
        f"{API}/deed-items/{item['id']}/reports").json()][-1] == "2021-07"
    # The ledger: a page of the officer's subtree only; outside it, 404.
    subtree = {u["id"] for u in proxy.organization.subtree(unit_id=jjfd)}
    page = officer.get(f"{API}/ledger?limit=5&year=2021")
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) == 5 and page.json()["next_offset"] == 5
    whole = officer.get(f"{API}/ledger?limit=500").json()["items"]
    assert whole and {r["owner_unit_id"] for r in whole} <= subtree
    assert len(whole) == len(proxy.deeds.ledger(unit_id=jjfd, limit=5000))
    assert len(admin.get(f"{API}/ledger?limit=500").json()["items"]) > len(whole)
    problem(officer.get(f"{API}/ledger?unit_id={units['XNY-SMGF']}"), 404)
    problem(officer.get(f"{API}/ledger?owner_unit_id={units['XNY-SMGF']}"), 404)
    ordered = {o["item_id"] for o in officer.get(f"{API}/supervision?limit=500").json()[
        "items"]}
    assert ordered and ordered <= {r["id"] for r in whole}
    # ... and as a workbook for printing: the same items.
    workbook = officer.get(f"{API}/ledger.xlsx?year=2021")
    assert workbook.status_code == 200, workbook.text
    assert workbook.headers["Content-Type"] == XLSX
    assert workbook.headers["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(workbook.content))["实事台账"]
    printed = [(row[4], row[5]) for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert printed == [(r["title"], r["owner_unit_name"]) for r in whole]
    # The notice as a page and as a PDF, for every member; anonymous readers: 401.
    member = person_session(stack, admin, MEMBER)
    notice = open_notice(member)
    titles = {r["id"]: r["title"] for r in admin.get(f"{API}/ledger?limit=500").json()[
        "items"]}
    shown = member.get(f"{API}/notices/{notice['id']}.html")
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/html")
    assert titles[notice["item_ids"][0]] in shown.text and "公示期" in shown.text
    assert shown.headers["Content-Security-Policy"].startswith("default-src 'none'")
    printed_pdf = member.get(f"{API}/notices/{notice['id']}.pdf")
    assert printed_pdf.headers["Content-Type"] == "application/pdf"
    assert printed_pdf.content.startswith(b"%PDF")
    problem(member.get(f"{API}/notices/{notice['id']}.html?file_format=pdf"), 422)
    anonymous = Client(stack["base"])
    problem(anonymous.get(f"{API}/notices/{notice['id']}.html"), 401)
    # The public notice: not there unless the union makes it public (PUBLIC_NOTICES).
    problem(anonymous.get(f"{API}/public/notices/{notice['id']}"), 404)
    problem(anonymous.get(f"{API}/public/notices"), 404)
    public = start_service(GatewayService, PUBLIC_NOTICES=True)
    anyone = Client(f"http://127.0.0.1:{web_port(public)}")
    page = anyone.get(f"{API}/public/notices/{notice['id']}")
    assert page.status_code == 200 and titles[notice["item_ids"][0]] in page.text
    assert [n["id"] for n in anyone.get(f"{API}/public/notices").json()] == [
        n["id"] for n in member.get(f"{API}/notices").json()]
    problem(anyone.get(f"{API}/notices/{notice['id']}.html"), 401)  # the rest stays closed
    problem(anyone.get(f"{API}/public/notices/999999"), 404)
