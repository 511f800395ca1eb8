"""Paged lists and their total over HTTP (issue 12: "lists are paged … with the total"),
with organization, activities, deeds, notifications and the gateway on the real broker and
databases and the demo union loaded: every paged route answers ``{"items", "total",
"limit", "offset", "next_offset"}``; walked page by page at a small limit its items add up
to the total, which no page changes; the total is the number of rows the filters match,
counted here straight from each service's database; a filter changes it. The RPCs behind
the routes answer as before without ``with_total``."""

from dataclasses import replace
from datetime import date

import pytest

from deploy.demo import deeds as demo_deeds
from gonghui.actor import Actor
from gonghui.audit import AuditHistory, AuditQuery
from services.activities.service import ActivitiesService
from services.deeds.service import DeedsService
from services.gateway.policy import AUDIT
from services.gateway.routes import ROUTES
from services.gateway.routing import Route, check_table
from services.notifications.service import NotificationsService
from tests.service.test_gateway_access import (  # noqa: F401 - stack is a fixture
    admin_session,
    person_session,
    stack,
)
from tests.service.test_gateway_deeds import (  # noqa: F401 - deeds_stack is a fixture
    WINDOW_OPEN,
    deeds_stack,
    open_notice,
)
from tests.support.gateway import problem, wait_for_read_models, wait_until
from tests.support.notifications import scalar as count

API = "/api/v1"
CHAIR, ME, COLLEAGUE, LEAVER = "XN0007", "XN0012", "XN0011", "XN0013"  # of 机关工会 (XNY-JG)
MAY = date(2021, 5, 10)
# The paged route with a path argument: walked in the test that raises the objections.
NEEDS_A_RECORD = {"/notices/<int:notice_id>/objections"}
SUBTREE = """WITH RECURSIVE below(id) AS (SELECT CAST(:unit AS integer)
             UNION ALL SELECT u.id FROM units u JOIN below ON u.parent_id = below.id)"""


def walk(client, path, limit, **query):
    """Every item of a paged route at ``limit`` a page, following ``next_offset``; each
    page's shape checked and its total the same as every other's. Returns (items, total)."""
    found, totals, offset = [], set(), 0
    while offset is not None:
        answer = client.get(API + path, params={**query, "limit": limit, "offset": offset})
        assert answer.status_code == 200, (path, answer.text)
        page = answer.json()
        assert set(page) == {"items", "total", "limit", "offset", "next_offset"}, path
        assert (page["limit"], page["offset"]) == (limit, offset), path
        assert len(page["items"]) == min(limit, page["total"] - offset), path
        totals.add(page["total"])
        found.extend(page["items"])
        offset = page["next_offset"]
        assert offset is None or offset == page["offset"] + limit, path
    assert len(totals) == 1, (path, totals)
    total = totals.pop()
    assert len(found) == total, path
    return found, total


def total_of(client, path, **query):
    """The total of a paged route (one item asked for)."""
    answer = client.get(API + path, params={**query, "limit": 1})
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()["total"]


@pytest.fixture
def services_first(start_service, notifications_config):
    """The services that keep a read model of the tree, started before the demo is loaded."""
    start_service(NotificationsService, **notifications_config)
    start_service(ActivitiesService)
    start_service(DeedsService)


@pytest.fixture
def site(services_first, stack, rpc, databases, monkeypatch):  # noqa: F811
    """The demo union on 10 May 2021 (the business date), and in it: ideas of two members
    (one argued), lectures and matches of two unions that month, two regulations of 机关工会
    (every member under it finds them in the inbox), the deed lists' items, and a member
    who left."""
    monkeypatch.setenv("GONGHUI_TODAY", MAY.isoformat())  # a member's own act is dated today
    units, members = stack["units"], stack["members"]
    jg, smgf = units["XNY-JG"], units["XNY-SMGF"]
    with rpc() as proxy:
        wait_for_read_models(proxy, ["activities", "deeds", "notifications"])
        for title in ("职工休息室管理办法", "倒班宿舍管理办法"):
            regulation = proxy.organization.draft_regulation(
                title=title, category="management_rule", issuing_unit_id=jg, body="……")
            proxy.organization.issue_regulation(regulation_id=regulation["id"],
                                                effective_on="2021-05-01")
        for n, (kind, unit) in enumerate([("lecture", jg)] * 5 + [("match", jg)] * 2
                                         + [("lecture", smgf)]):
            day = MAY.replace(day=10 + n)
            proxy.activities.schedule_activity(
                kind=kind, name=f"活动{n}", organiser_unit_id=unit,
                starts_at=f"{day}T14:00:00+08:00", ends_at=f"{day}T16:00:00+08:00")
        demo_deeds.load_items(proxy)
        proxy.organization.member_leaves(member_id=members[LEAVER]["id"],
                                         left_on="2021-04-30")
    made = {}
    for employee_no, ideas in ((ME, 5), (COLLEAGUE, 2)):
        with rpc(actor=Actor("member", employee_no)) as member:
            made[employee_no] = [member.deeds.submit_idea(
                title=f"金点子{n}", description="……", focus_area="conditions",
                submitter_member_id=members[employee_no]["id"], submitted_on=str(MAY))
                for n in range(ideas)]
    with rpc() as proxy:
        proxy.deeds.review_idea(idea_id=made[ME][0]["id"], step="argued")
    return {**stack, "databases": databases}


def test_every_paged_route_walks_to_its_total(site):
    admin = admin_session(site)
    me = person_session(site, admin, ME)
    walked = {}
    for route in ROUTES:
        if not route.paged or route.path in NEEDS_A_RECORD:
            continue
        client = me if route.self_member else admin
        query = {"unit_id": site["units"]["XNY"]} if route.path == "/terms-due" else {}
        items, total = walk(client, route.path, 3, **query)
        whole = client.get(API + route.path, params={**query, "limit": 500}).json()
        assert whole["total"] == total and whole["items"] == items, route.path
        assert whole["next_offset"] is None, route.path
        walked[route.path] = total
    assert {r.path for r in ROUTES if r.paged} - set(walked) == NEEDS_A_RECORD
    # Enough rows that the walks above crossed pages on the lists this site fills.
    assert all(walked[p] > 3 for p in ("/units", "/members", "/ideas", "/me/ideas",
                                       "/activities", "/ledger", "/me/inbox", "/regulations"))
    # Past the end: no items, the same total, no next page.
    past = admin.get(f"{API}/units", params={"offset": 10_000}).json()
    assert (past["items"], past["total"], past["next_offset"]) == ([], walked["/units"], None)


def test_the_totals_count_the_rows_the_filters_match(site):
    units, members, urls = site["units"], site["members"], site["databases"]
    jg = units["XNY-JG"]
    admin = admin_session(site)
    me = person_session(site, admin, ME)
    org, deeds, activities = urls["organization"], urls["deeds"], urls["activities"]
    # Members of a unit: its subtree, or the unit alone; with those who left, or not.
    in_jg = f"{SUBTREE} SELECT count(*) FROM members WHERE unit_id IN (SELECT id FROM below)"
    staying = count(org, in_jg + " AND left_on IS NULL", unit=jg)
    assert walk(admin, "/members", 7, unit_id=jg)[1] == staying > 7
    assert total_of(admin, "/members", unit_id=jg, include_left="true") == count(
        org, in_jg, unit=jg) == staying + 1
    # The company alone (its own staff), or with every unit under it.
    top = units["XNY"]
    everyone = count(org, "SELECT count(*) FROM members WHERE left_on IS NULL")
    assert total_of(admin, "/members", unit_id=top) == everyone > staying
    assert total_of(admin, "/members", unit_id=top, subtree="false") == count(
        org, "SELECT count(*) FROM members WHERE unit_id = :unit AND left_on IS NULL",
        unit=top) < everyone
    assert total_of(admin, "/members") == everyone
    # The chair of 机关工会 sees their union's subtree by default: the same total.
    chair = person_session(site, admin, CHAIR)
    assert total_of(chair, "/members") == staying
    # Units, by kind.
    assert walk(admin, "/units", 4)[1] == count(
        org, "SELECT count(*) FROM units WHERE closed_on IS NULL")
    kinds = count(org, "SELECT count(DISTINCT kind) FROM units")
    assert kinds > 1
    by_kind = sum(total_of(admin, "/units", kind=k) for k in {
        u["kind"] for u in admin.get(f"{API}/units", params={"limit": 500}).json()["items"]})
    assert by_kind == walk(admin, "/units", 500)[1]
    # Ideas: the offices' queue by status; mine.
    assert walk(admin, "/ideas", 2)[1] == count(deeds, "SELECT count(*) FROM ideas") == 7
    assert total_of(admin, "/ideas", status="argued") == 1
    assert total_of(admin, "/ideas", status="submitted") == 6
    assert walk(me, "/me/ideas", 2)[1] == count(
        deeds, "SELECT count(*) FROM ideas WHERE submitter_member_id = :m",
        m=members[ME]["id"]) == 5
    assert total_of(me, "/me/ideas", status="argued") == 1
    # Activities: by kind, by organiser subtree, by period.
    assert walk(admin, "/activities", 3)[1] == count(
        activities, "SELECT count(*) FROM activities") == 8
    assert total_of(admin, "/activities", kind="lecture") == 6
    assert total_of(admin, "/activities", kind="lecture", unit_id=jg) == 5
    assert total_of(admin, "/activities", date_from="2021-05-15", date_to="2021-05-31") == 3
    # The ledger, by status and owner subtree.
    items = count(deeds, "SELECT count(*) FROM items")
    assert walk(admin, "/ledger", 25)[1] == items > 25
    jjfd = units["XNY-JJFD"]
    owned = count(deeds, "SELECT count(*) FROM items WHERE owner_unit_id = :u", u=jjfd)
    assert total_of(admin, "/ledger", owner_unit_id=jjfd) == owned < items


def test_a_members_inbox_and_a_list_computed_in_python(site):
    members, urls = site["members"], site["databases"]
    admin = admin_session(site)
    me = person_session(site, admin, ME)
    mine = members[ME]["id"]

    def inbox_has_the_regulations():
        return total_of(me, "/me/inbox") >= 2 and count(
            urls["notifications"], "SELECT count(*) FROM inbox_items WHERE member_id = :m "
            "AND title LIKE '%管理办法%'", m=mine) == 2

    wait_until(inbox_has_the_regulations)
    items, total = walk(me, "/me/inbox", 2)
    assert total == count(urls["notifications"],
                          "SELECT count(*) FROM inbox_items WHERE member_id = :m", m=mine)
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    assert me.post(f"{API}/me/inbox/read", json={"item_ids": [items[0]["id"]]}
                   ).status_code == 200
    assert walk(me, "/me/inbox", 2, unread_only="true")[1] == total - 1
    # The gateway asks the total itself: a request may not ask for a plain list.
    assert "with_total" in problem(me.get(f"{API}/me/inbox?with_total=false"), 422)["errors"]
    # Terms due (computed in Python, by end date): the total is the whole list's length, on
    # every page; a wider window holds more terms.
    top = site["units"]["XNY"]
    near = walk(admin, "/terms-due", 2, unit_id=top, as_of="2021-06-30", within_days=30)[1]
    far, total_far = walk(admin, "/terms-due", 2, unit_id=top, as_of="2021-06-30",
                          within_days=3650)
    assert total_far > near and total_far > 2
    assert [(t["ends_on"], t["unit_id"]) for t in far] == sorted(
        (t["ends_on"], t["unit_id"]) for t in far)


def test_the_rpcs_answer_as_before_without_the_flag(site, rpc):
    jg = site["units"]["XNY-JG"]
    with rpc() as proxy:
        org, deeds = proxy.organization, proxy.deeds
        plain = org.list_members(limit=4, offset=2, unit_id=jg)
        assert isinstance(plain, list) and len(plain) == 4
        # by position, as before (limit, offset, unit_id, ...): the flag comes last
        assert org.list_members(4, 2, jg) == plain
        counted = org.list_members(limit=4, offset=2, unit_id=jg, with_total=True)
        assert set(counted) == {"items", "total"} and counted["items"] == plain
        assert org.list_members(4, 2, jg, True, False, True) == counted
        assert counted["total"] == len(org.list_members(limit=5000, unit_id=jg))
        ideas = deeds.list_ideas(status="submitted")
        assert deeds.list_ideas(status="submitted", with_total=True) == {
            "items": ideas, "total": len(ideas)}
        due = org.terms_due(unit_id=site["units"]["XNY"], as_of="2021-06-30",
                            within_days=3650, limit=3, offset=1)
        answer = org.terms_due(unit_id=site["units"]["XNY"], as_of="2021-06-30",
                               within_days=3650, limit=3, offset=1, with_total=True)
        assert answer["items"] == due and answer["total"] > 3


def test_objections_and_supervision_walk_to_their_totals(deeds_stack, rpc,  # noqa: F811
                                                         monkeypatch):
    monkeypatch.setenv("GONGHUI_TODAY", WINDOW_OPEN.isoformat())  # while the notice is open
    site, units = deeds_stack, deeds_stack["units"]
    admin = admin_session(site)
    notice = open_notice(admin)
    objectors = ("XN0012", "XN0013", "XN0011")
    for employee_no, item_id in zip(objectors, notice["item_ids"], strict=False):
        with rpc(actor=Actor("member", employee_no)) as member:
            member.deeds.raise_objection(
                notice_id=notice["id"], item_id=item_id, reason="公示与实际不符",
                member_id=site["members"][employee_no]["id"],
                raised_on=WINDOW_OPEN.isoformat())
    path = f"/notices/{notice['id']}/objections"
    raised = count(site["deeds_url"], "SELECT count(*) FROM objections WHERE notice_id = :n",
                   n=notice["id"])
    assert walk(admin, path, 2)[1] == raised == min(len(objectors), len(notice["item_ids"]))
    assert total_of(admin, path, status="raised") == raised
    assert total_of(admin, path, status="upheld") == 0
    # Supervision orders (the demo's late reports made some), by status.
    orders = count(site["deeds_url"], "SELECT count(*) FROM supervision_orders")
    assert walk(admin, "/supervision", 2)[1] == orders > 2
    opened = count(site["deeds_url"],
                   "SELECT count(*) FROM supervision_orders WHERE status = 'open'")
    assert total_of(admin, "/supervision", status="open") == opened
    jjfd = units["XNY-JJFD"]
    assert total_of(admin, "/ledger", owner_unit_id=jjfd, status="open") == count(
        site["deeds_url"], "SELECT count(*) FROM items WHERE owner_unit_id = :u AND "
        "status = 'open'", u=jjfd)


def test_a_paged_route_must_call_a_list_rpc():
    one = Route("GET", "/audit/x/<entity_type>/<entity_id>", "deeds.audit_history", AUDIT,
                args=AuditQuery, result=AuditHistory, paged=True)
    with pytest.raises(ValueError, match="no list RPC"):
        check_table([one])
    assert check_table([replace(one, paged=False)]) == [replace(one, paged=False)]
