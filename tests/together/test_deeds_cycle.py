"""The deed cycle observable end to end, over the real broker and databases: organization,
deeds and notifications running, the demo union loaded, every business date fixed in 2021.

- an idea's author hears of every move of the deed grown from it, each once, in the inbox;
- non-conformance feedback (不符合反馈) reaches the owner unit's officers and the responsible
  person, and a missed new deadline opens a "rework" supervision order that escalates;
- a missed planned completion opens a "completion" order on the same ladder, shown in the
  ledger, closed by the completion;
- a quarter's evaluation against scores worked out by hand, and weights that reorder it;
- a supervision order closed by an accepted explanation;
- the new default rules reach a notifications database migrated before them.
"""

import os
import time
from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from gonghui.errors import Conflict, NotFound
from gonghui.migrations import alembic_config, migrate
from services.deeds.service import DeedsService
from services.notifications.defaults import DEFAULT_RULES
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.conftest import PG
from tests.support.deeds_helpers import caught_up, load_union
from tests.support.notifications import wait_for

COMPANY_NAME = "陕煤新型能源公司"


def _union(proxy):
    """Units by code and each unit's own members in the demo's order (its first is the
    union's chair, the second its vice-chair: see deploy/demo/organization.py)."""
    org = proxy.organization
    units = {u["code"]: u for u in org.list_units(limit=5000)}
    members = {code: [m["id"] for m in org.list_members(unit_id=unit["id"], subtree=False,
                                                        limit=5000)]
               for code, unit in units.items()}

    def officers(code):
        return sorted(r["member_id"] for role in ("chair", "vice_chair")
                      for r in org.recipients(unit_id=units[code]["id"], role=role))

    def chair(code):
        return org.recipients(unit_id=units[code]["id"], role="chair")[0]["member_id"]

    return SimpleNamespace(proxy=proxy, org=org, deeds=proxy.deeds, units=units,
                           unit_id=lambda code: units[code]["id"], members=members,
                           officers=officers, chair=chair)


@pytest.fixture
def union(start_service, rpc):
    """Organization and deeds with the demo union in deeds' read model."""
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        yield _union(proxy)


@pytest.fixture
def cycle(start_service, rpc, notifications_config):  # noqa: F811
    """…and notifications, its read model of the tree caught up too."""
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        load_union(proxy)
        wait_for(lambda: caught_up(proxy.notifications, proxy.organization), 60,
                 "notifications' read model of the tree")
        c = _union(proxy)
        c.notif = proxy.notifications
        yield c


def inbox(c, member_id, event_type=None):
    return [i for i in c.notif.list_inbox(member_id=member_id, limit=1000)
            if event_type is None or i["event_type"] == event_type]


def deeds_inbox(c, member_id):
    # The demo's regulations reach every member too: only the deed's notices count here.
    return [i for i in inbox(c, member_id) if i["event_type"].startswith("deeds.")]


def settled_deeds_inbox(c, member_id, count, timeout=60):
    """The deeds notices of an inbox once there are ``count`` and no more come for a while."""
    wait_for(lambda: len(deeds_inbox(c, member_id)) >= count, timeout,
             f"{count} deeds notices in member {member_id}'s inbox")
    time.sleep(1.5)
    return deeds_inbox(c, member_id)


def wait_inbox(c, member_id, event_type, timeout=30):
    return wait_for(lambda: inbox(c, member_id, event_type), timeout,
                    f"{event_type} in member {member_id}'s inbox")


def next_day(iso):
    return (date.fromisoformat(iso) + timedelta(days=1)).isoformat()


def only_order(deeds, item_id, **where):
    orders = [o for o in deeds.list_supervision(limit=1000) if o["item_id"] == item_id
              and all(o[k] == v for k, v in where.items())]
    assert len(orders) == 1, orders
    return orders[0]


def new_list(c, code="XNY", level="party_committee"):
    return c.deeds.create_list(level=level, year=2021, unit_id=c.unit_id(code),
                               title=f"{c.units[code]['name']}2021年实事清单")


def new_item(c, deed_list, title, owner, responsible, planned="2021-12-31",
             created="2021-01-10"):
    return c.deeds.create_item(list_id=deed_list["id"], title=title, focus_area="conditions",
                               batch="warm_heart", owner_unit_id=c.unit_id(owner),
                               responsible_member_id=responsible, planned_completion=planned,
                               created_on=created)


def report(c, item, period, progress, on):
    return c.deeds.submit_report(item_id=item["id"], period=period, progress=progress,
                                 text=f"{period}进展", submitted_on=on)


# ------------------------------------------------------------------ 1. the idea's author


def test_an_idea_author_hears_of_every_move_of_their_deed_once(cycle):
    c = cycle
    deeds = c.deeds
    author = c.members["XNY-SLGF"][7]  # no union role anywhere: told only as the author
    responsible = c.members["XNY-JJFD"][6]
    objector = c.members["XNY-SYCN"][8]
    title = "风电场倒班宿舍加装空气能热水器"

    idea = deeds.submit_idea(title=title, description="冬季热水供应不稳定", focus_area="conditions",
                             submitter_unit_id=c.unit_id("XNY-SLGF"),
                             submitter_member_id=author, submitted_on="2021-01-11")
    deeds.review_idea(idea_id=idea["id"], step="argued")
    deeds.review_idea(idea_id=idea["id"], step="studied")
    item = deeds.accept_idea(idea_id=idea["id"], list_id=new_list(c)["id"],
                             owner_unit_id=c.unit_id("XNY-JJFD"),
                             responsible_member_id=responsible, batch="warm_heart",
                             planned_completion="2021-06-30", accepted_on="2021-01-15")
    assert item["idea_id"] == idea["id"]

    report(c, item, "2021-02", 20, "2021-02-22")
    # March's report is missing: overdue, a supervision order, escalated to the company.
    assert deeds.tick(as_of="2021-03-26")["supervision_issued"] == 1
    assert deeds.tick(as_of="2021-04-06")["supervision_escalated"] == 1
    report(c, item, "2021-03", 40, "2021-04-07")  # late: it closes the order
    assert only_order(deeds, item["id"])["closed_by"] == "report"
    assert deeds.tick(as_of="2021-04-09")["evaluation_published"] == 1  # Q1
    report(c, item, "2021-04", 70, "2021-04-20")
    report(c, item, "2021-05", 90, "2021-05-20")
    deeds.complete_item(item_id=item["id"], completed_on="2021-06-10", summary="已安装投用")
    assert deeds.tick(as_of="2021-07-01")["notice_published"] == 1  # Q2
    notice = deeds.list_notices()[0]
    objection = deeds.raise_objection(notice_id=notice["id"], item_id=item["id"],
                                      member_id=objector, reason="三号楼热水仍不足",
                                      raised_on="2021-07-02")
    deeds.review_objection(objection_id=objection["id"], upheld=True, note="属实，需增容",
                           new_deadline="2021-08-31", reviewed_on="2021-07-05")
    assert deeds.get_item(item_id=item["id"])["track"] == "non_conforming"
    assert deeds.tick(as_of="2021-07-08")["evaluation_published"] == 1  # Q2
    report(c, item, "2021-07", 95, "2021-07-20")
    deeds.complete_item(item_id=item["id"], completed_on="2021-08-16", summary="已增容")
    assert deeds.tick(as_of="2021-10-08")["notice_published"] == 1  # Q3
    closed = deeds.tick(as_of="2021-10-14")
    assert closed["notice_closed"] == 1 and closed["evaluation_published"] == 1
    assert deeds.get_item(item_id=item["id"])["track"] == "publicly_noticed"

    expected = Counter({
        "deeds.idea_reviewed": 3,  # argued, studied, accepted
        "deeds.item_created": 1,
        "deeds.report_submitted": 5,  # 2021-02, -03, -04, -05, -07
        "deeds.supervision_issued": 1, "deeds.supervision_escalated": 1,
        "deeds.supervision_closed": 1,
        "deeds.item_completed": 2,  # completed, and completed again after the rework
        "deeds.notice_published": 2,  # Q2, and Q3 after the rework
        "deeds.objection_reviewed": 1, "deeds.item_non_conforming": 1,
        "deeds.notice_closed": 1,  # Q3's, which publicly noticed it (Q2's had sent it back)
        "deeds.evaluation_published": 3})  # Q1, Q2, Q3
    got = settled_deeds_inbox(c, author, sum(expected.values()))
    assert Counter(i["event_type"] for i in got) == expected
    # Replayed days and a second tick add nothing: each move lands once.
    for day in ("2021-03-26", "2021-04-06", "2021-07-08", "2021-10-14"):
        deeds.tick(as_of=day)
    time.sleep(1.5)
    assert len(deeds_inbox(c, author)) == sum(expected.values())

    def bodies(event_type):
        return sorted(i["title"] + "\n" + i["body"] for i in got
                      if i["event_type"] == event_type)

    assert all(title in b for b in bodies("deeds.item_created"))
    progress = bodies("deeds.report_submitted")
    for period, percent in (("2021年2月", 20), ("2021年3月", 40), ("2021年4月", 70),
                            ("2021年5月", 90), ("2021年7月", 95)):
        assert [b for b in progress if period in b and f"当前进度{percent}%" in b], period
    assert "2021-03 月度进展未在 2021-03-25 前报送" in bodies("deeds.supervision_issued")[0]
    assert COMPANY_NAME in bodies("deeds.supervision_escalated")[0]
    assert "办结" in bodies("deeds.supervision_closed")[0]
    assert sorted("2021年6月10日" in b for b in bodies("deeds.item_completed")) == [False, True]
    assert sorted(next(q for q in ("第2季度", "第3季度") if q in b)
                  for b in bodies("deeds.notice_published")) == ["第2季度", "第3季度"]
    assert "异议成立" in bodies("deeds.objection_reviewed")[0]
    assert "属实，需增容" in bodies("deeds.item_non_conforming")[0]
    assert "第3季度" in bodies("deeds.notice_closed")[0]
    assert [q for q in ("第1季度", "第2季度", "第3季度")
            if any(q in b for b in bodies("deeds.evaluation_published"))] == [
        "第1季度", "第2季度", "第3季度"]
    assert all(i["link"] for i in got)


# ------------------------------------------------------------------ 2. non-conformance


def test_non_conformance_feedback_reaches_the_owner_and_a_missed_new_deadline_escalates(
        cycle):
    c = cycle
    deeds = c.deeds
    responsible = c.members["XNY-JJFD"][6]
    jjfd_officers = c.officers("XNY-JJFD")
    assert len(jjfd_officers) == 2 and responsible not in jjfd_officers
    item = new_item(c, new_list(c, "XNY-JJFD", "grassroots"), "检修车间更衣室改造", "XNY-JJFD",
                    responsible, planned="2021-06-30")
    with pytest.raises(Conflict):  # only a completed item can be found non-conforming
        deeds.mark_non_conforming(item_id=item["id"], feedback="f", new_deadline="2021-04-30",
                                  marked_on="2021-02-01")
    report(c, item, "2021-02", 60, "2021-02-20")
    deeds.complete_item(item_id=item["id"], completed_on="2021-03-10", summary="已完工")
    feedback = "更衣柜数量不足，通风未达标，需增设并复测"
    marked = deeds.mark_non_conforming(item_id=item["id"], feedback=feedback,
                                       new_deadline="2021-04-30", marked_on="2021-03-15")
    assert (marked["status"], marked["track"]) == ("non_conforming", "non_conforming")
    assert (marked["feedback"], marked["new_deadline"], marked["reopened_on"]) == (
        feedback, "2021-04-30", "2021-03-15")
    assert marked["completed_on"] is None

    # The feedback reaches the responsible person and the owner unit's officers.
    for member_id in [responsible, *jjfd_officers]:
        notice = wait_inbox(c, member_id, "deeds.item_non_conforming")
        assert len(notice) == 1
        assert feedback in notice[0]["body"] and "2021年4月30日" in notice[0]["body"]

    # Reworked and reported, but not completed again by the new deadline.
    report(c, item, "2021-03", 70, "2021-03-20")
    report(c, item, "2021-04", 80, "2021-04-20")
    assert deeds.tick(as_of="2021-04-30")["supervision_issued"] == 0  # the deadline's day
    assert deeds.tick(as_of="2021-05-06")["supervision_issued"] == 1
    assert deeds.tick(as_of="2021-05-06")["supervision_issued"] == 0  # idempotent
    order = only_order(deeds, item["id"])
    assert (order["cause"], order["period"], order["status"]) == ("rework", "2021-04", "open")
    assert "2021-04-30" in order["reason"] and order["issued_on"] == "2021-05-06"
    assert order["supervising_unit_id"] == c.unit_id("XNY-JJFD")
    for member_id in [responsible, *jjfd_officers]:
        assert wait_inbox(c, member_id, "deeds.supervision_issued")
    row = deeds.ledger(owner_unit_id=c.unit_id("XNY-JJFD"))[0]
    assert (row["track"], row["open_supervision"]) == ("non_conforming", True)

    # Unsettled past its deadline: escalated to the company union, like any other order.
    assert deeds.tick(as_of=next_day(order["deadline"]))["supervision_escalated"] == 1
    order = only_order(deeds, item["id"])
    assert order["escalation_level"] == 1
    assert order["escalated_to_unit_id"] == c.unit_id("XNY")
    escalated = wait_inbox(c, c.chair("XNY"), "deeds.supervision_escalated")
    assert "检修车间更衣室改造" in escalated[0]["body"]
    # No union above the company's: it stays open at the top.
    assert deeds.tick(as_of=next_day(order["deadline"]))["supervision_escalated"] == 0
    order = only_order(deeds, item["id"])
    assert order["at_top"] and order["status"] == "open"
    assert len(deeds.list_supervision(limit=1000)) == 1  # one rework order in all

    deeds.complete_item(item_id=item["id"], completed_on="2021-05-24", summary="整改完成")
    order = only_order(deeds, item["id"])
    assert (order["status"], order["closed_by"]) == ("closed", "completion")


# ------------------------------------------------------------------ 3. missed completion


def test_a_missed_planned_completion_is_supervised_escalated_and_closed_by_completion(
        cycle):
    c = cycle
    deeds = c.deeds
    team = "XNY-JJFD-1"  # a union group under the wind farm's union, under the company's
    item = new_item(c, new_list(c), "风机运维班工具间改造", team, c.members["XNY-JJFD"][7],
                    planned="2021-03-31")
    report(c, item, "2021-02", 40, "2021-02-20")
    report(c, item, "2021-03", 80, "2021-03-20")
    assert deeds.tick(as_of="2021-03-31")["supervision_issued"] == 0  # not passed yet
    assert deeds.tick(as_of="2021-04-01")["supervision_issued"] == 1
    order = only_order(deeds, item["id"])
    assert (order["cause"], order["period"], order["escalation_level"]) == (
        "completion", "2021-03", 0)
    assert "2021-03-31" in order["reason"]
    assert order["supervising_unit_id"] == c.unit_id(team)
    assert deeds.get_item(item_id=item["id"])["track"] == "under_supervision"
    supervised = deeds.ledger(track="under_supervision")
    assert [(r["id"], r["open_supervision"], r["supervision_orders"]) for r in supervised] == [
        (item["id"], True, 1)]
    # A report does not settle a missed completion: only completion (or an explanation).
    report(c, item, "2021-04", 90, "2021-04-08")
    assert only_order(deeds, item["id"])["status"] == "open"

    # The same ladder: the wind farm's union, then the company's, then it stays at the top.
    for level, code in ((1, "XNY-JJFD"), (2, "XNY")):
        assert deeds.tick(as_of=next_day(order["deadline"]))["supervision_escalated"] == 1
        order = only_order(deeds, item["id"])
        assert (order["escalation_level"], order["escalated_to_unit_id"]) == (
            level, c.unit_id(code))
        told = wait_inbox(c, c.chair(code), "deeds.supervision_escalated")
        assert "风机运维班工具间改造" in told[0]["body"]
    assert deeds.tick(as_of=next_day(order["deadline"]))["supervision_escalated"] == 0
    assert only_order(deeds, item["id"])["at_top"]

    done = deeds.complete_item(item_id=item["id"], completed_on="2021-04-26",
                               summary="工具间已改造")
    assert done["track"] == "completed_awaiting_notice"
    order = only_order(deeds, item["id"])
    assert (order["status"], order["closed_by"], order["closed_on"]) == (
        "closed", "completion", "2021-04-26")
    assert deeds.ledger(track="under_supervision") == []
    row = deeds.ledger(track="completed_awaiting_notice")[0]
    assert (row["id"], row["open_supervision"], row["supervision_orders"]) == (
        item["id"], False, 1)


# ------------------------------------------------------------------ 4. evaluation

DEFAULT = None
OBJECTIONS_FIRST = {"completion": 0.1, "timeliness": 0.1, "supervision": 0.1,
                    "objections": 0.6, "satisfaction": 0.1}

# The 2021 Q2 figures of the script below, by hand (score = 100 × the weighted sum of:
# completed/items, on-time reports/reports owed (1 when none owed), 1/(1 + supervision
# orders), 1/(1 + upheld objections), satisfaction ((mean vote − 1)/4, 0.5 without votes)).
#   锦界风电场 (A): 1 of 2 items completed; 4 reports on time of 4 owed; no order; 1 upheld
#                  objection; votes 4 and 2 → mean 3 → 0.5
#   商洛光伏电站 (B): 0 of 1 completed; 2 on time of 3 owed (April's went overdue); 1 order;
#                  no objection; no votes → 0.5
#   三原储能电站 (C): 1 of 1 completed; none owed → 1; no order; no objection; votes 5, 5, 4
#                  → mean 14/3 → 11/12 ≈ 0.9167
FIGURES = {
    "XNY-JJFD": {"completion_rate": 0.5, "on_time_rate": 1.0, "supervision_orders": 0,
                 "upheld_objections": 1, "satisfaction": 0.5},
    "XNY-SLGF": {"completion_rate": 0.0, "on_time_rate": 0.6667, "supervision_orders": 1,
                 "upheld_objections": 0, "satisfaction": None},
    "XNY-SYCN": {"completion_rate": 1.0, "on_time_rate": 1.0, "supervision_orders": 0,
                 "upheld_objections": 0, "satisfaction": 0.9167},
}
RANKINGS = {
    # 0.35, 0.25, 0.15, 0.10, 0.15:
    #   C: 35 + 25 + 15 + 10 + 15 × 0.9167 = 98.75
    #   A: 35 × 0.5 + 25 + 15 + 10/2 + 15 × 0.5 = 70.00
    #   B: 0 + 25 × 2/3 + 15/2 + 10 + 15 × 0.5 = 41.67
    "default": [("XNY-SYCN", 98.75), ("XNY-JJFD", 70.0), ("XNY-SLGF", 41.67)],
    # 0.1, 0.1, 0.1, 0.6, 0.1:
    #   C: 10 + 10 + 10 + 60 + 10 × 0.9167 = 99.17
    #   B: 0 + 10 × 2/3 + 10/2 + 60 + 10 × 0.5 = 76.67
    #   A: 10 × 0.5 + 10 + 10 + 60/2 + 10 × 0.5 = 60.00
    "objections_first": [("XNY-SYCN", 99.17), ("XNY-SLGF", 76.67), ("XNY-JJFD", 60.0)],
}


@pytest.mark.parametrize("weights, ranking", [(DEFAULT, "default"),
                                              (OBJECTIONS_FIRST, "objections_first")],
                         ids=["default_weights", "objections_weigh_most"])
def test_a_quarters_scores_and_ranks_match_the_figures_worked_by_hand(union, weights,
                                                                      ranking):
    c = union
    deeds = c.deeds
    lst = new_list(c)
    voters = c.members["XNY-ZHNY"][5:10]

    def item(title, code):
        return new_item(c, lst, title, code, c.members[code][6], created="2021-03-01")

    a1, a2 = item("风电场职工书屋", "XNY-JJFD"), item("风电场食堂改造", "XNY-JJFD")
    b1, c1 = item("光伏电站浴室改造", "XNY-SLGF"), item("储能电站健身角", "XNY-SYCN")
    deeds.complete_item(item_id=a1["id"], completed_on="2021-03-20", summary="建成")
    assert deeds.tick(as_of="2021-04-01")["notice_published"] == 1  # Q1's notice: A1
    notice = deeds.list_notices()[0]
    objection = deeds.raise_objection(notice_id=notice["id"], item_id=a1["id"],
                                      member_id=voters[0], reason="藏书太少",
                                      raised_on="2021-04-02")
    deeds.review_objection(objection_id=objection["id"], upheld=True, note="属实",
                           new_deadline="2021-05-31", reviewed_on="2021-04-06")
    assert deeds.tick(as_of="2021-04-09")["evaluation_published"] == 1  # Q1's, not asserted
    deeds.complete_item(item_id=c1["id"], completed_on="2021-04-15", summary="建成")
    for voter, score in zip(voters[:3], (5, 5, 4), strict=True):
        deeds.vote_satisfaction(item_id=c1["id"], member_id=voter, score=score,
                                voted_on="2021-04-20")
    report(c, a1, "2021-04", 60, "2021-04-20")  # reopened: it owes April's report
    report(c, a2, "2021-04", 30, "2021-04-20")
    missed = deeds.tick(as_of="2021-04-26")  # B1's April report is missing
    assert (missed["report_overdue"], missed["supervision_issued"]) == (1, 1)
    report(c, b1, "2021-04", 20, "2021-04-27")  # late
    deeds.complete_item(item_id=a1["id"], completed_on="2021-05-15", summary="已补充藏书")
    for voter, score in zip(voters[3:], (4, 2), strict=True):
        deeds.vote_satisfaction(item_id=a1["id"], member_id=voter, score=score,
                                voted_on="2021-05-20")
    for period, on in (("2021-05", "2021-05-20"), ("2021-06", "2021-06-20")):
        report(c, a2, period, 50, on)
        report(c, b1, period, 50, on)
    if weights:
        assert deeds.set_evaluation_weights(weights=weights)["weights"] == weights
    assert deeds.tick(as_of="2021-07-01")["notice_published"] == 1  # Q2's: C1 and A1
    assert deeds.tick(as_of="2021-07-08")["evaluation_published"] == 1

    evaluation = deeds.get_evaluation(year=2021, quarter=2)
    assert evaluation["weights"] == (weights or {
        "completion": 0.35, "timeliness": 0.25, "supervision": 0.15, "objections": 0.10,
        "satisfaction": 0.15})
    got = evaluation["ranking"]
    assert [(r["rank"], r["unit_id"], r["unit_name"]) for r in got] == [
        (rank, c.unit_id(code), c.units[code]["name"])
        for rank, (code, _) in enumerate(RANKINGS[ranking], start=1)]
    for row, (code, score) in zip(got, RANKINGS[ranking], strict=True):
        assert row["score"] == pytest.approx(score, abs=0.005), code
        assert {k: row[k] for k in FIGURES[code]} == pytest.approx(FIGURES[code], abs=1e-4)


# ------------------------------------------------------------------ 5. explanation


def test_a_supervision_order_closed_by_an_accepted_explanation(union, subscribe):
    c = union
    deeds = c.deeds
    closed_events = subscribe("deeds.events", "supervision_closed")
    item = new_item(c, new_list(c), "三原储能电站职工之家", "XNY-SYCN", c.members["XNY-SYCN"][6])
    assert deeds.tick(as_of="2021-02-26")["supervision_issued"] == 1  # February's report
    order = only_order(deeds, item["id"])
    assert deeds.get_item(item_id=item["id"])["track"] == "under_supervision"

    explanation = "春节期间施工暂停，二月无进展，已说明情况"
    closed = deeds.close_supervision(order_id=order["id"], explanation=explanation,
                                     closed_on="2021-03-01")
    assert (closed["status"], closed["closed_by"], closed["explanation"],
            closed["closed_on"]) == ("closed", "explanation", explanation, "2021-03-01")
    assert deeds.get_item(item_id=item["id"])["track"] == "on_track"
    assert deeds.ledger(track="on_track")[0]["open_supervision"] is False
    published = [m["body"] for m in closed_events.collect(1)]
    assert [(e["type"], e["data"]["order_id"], e["data"]["closed_by"], e["data"]["status"])
            for e in published] == [("deeds.supervision_closed", order["id"], "explanation",
                                     "closed")]
    with pytest.raises(Conflict):
        deeds.close_supervision(order_id=order["id"], explanation="again",
                                closed_on="2021-03-02")
    with pytest.raises(NotFound):
        deeds.close_supervision(order_id=order["id"] + 1000, explanation="x",
                                closed_on="2021-03-02")
    # Closed, it neither escalates past its old deadline nor is issued again for February.
    after = deeds.tick(as_of=next_day(order["deadline"]))
    assert (after["supervision_escalated"], after["supervision_issued"]) == (0, 0)
    assert only_order(deeds, item["id"])["status"] == "closed"
    assert closed_events.collect(0, timeout=1) == []


# ------------------------------------------------------------------ the rules' migration


def test_new_default_rules_reach_a_database_migrated_before_them(infrastructure):
    url = f"{PG}/gonghui_test_rules_migration_{os.getpid()}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine = create_engine(url)
    new_keys = [r["key"] for r in DEFAULT_RULES
                if r["key"].endswith(".submitter") and r["event_type"] in {
                    "deeds.report_submitted", "deeds.supervision_issued",
                    "deeds.supervision_escalated", "deeds.supervision_closed",
                    "deeds.notice_published", "deeds.notice_closed",
                    "deeds.objection_reviewed", "deeds.evaluation_published"}]
    assert len(new_keys) == 8

    def rules():
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT key, period FROM rules")).all())

    try:
        migrate("notifications", url, "0002")
        # As a database of the previous release holds them: no new rules, the old period.
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rules WHERE key = ANY(:keys)"), {"keys": new_keys})
            conn.execute(text("UPDATE rules SET period = 'completed' "
                              "WHERE key = 'item_completed.submitter'"))
            conn.execute(text("UPDATE rules SET enabled = false "
                              "WHERE key = 'item_created.submitter'"))  # an operator's
        migrate("notifications", url)
        after = rules()
        assert set(new_keys) <= set(after)
        assert after["item_completed.submitter"] == "{completed_on}"
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT enabled FROM rules "
                                    "WHERE key = 'item_created.submitter'")) is False
        command.downgrade(alembic_config("notifications", url), "0002")
        assert not set(new_keys) & set(rules())
        assert rules()["item_completed.submitter"] == "completed"
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
