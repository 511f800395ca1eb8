"""The organization's cycle seen end to end over the real broker and databases: terms that
expire or fall due (listed for a subtree, reminded up to the parent union's officers'
inboxes), field-visit follow-ups past their due date (reminded once to their owner and
flagged to the union above), and commitments (承诺) made public to the members of their
unit and compared by the share of their target.

The small tree of fixed 2021 dates of tests/support/small_tree.py: the company union above
two grassroots unions, one of them with a union group below it."""

import pytest

from gonghui.errors import NotFound, ValidationError
from services.deeds.service import DeedsService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import wait_for_directory
from tests.support.notifications import wait_for
from tests.support.small_tree import (
    PEOPLE,
    build_tree,
    inbox,
    wait_for_notifications_directory,
)


@pytest.fixture
def org_and_notifications(start_service, rpc, notifications_config):  # noqa: F811
    start_service(OrganizationService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        units, people = build_tree(proxy.organization)
        wait_for_notifications_directory(proxy.notifications)
        yield proxy, units, people


# ----------------------------------------------------------------------------- terms


def test_terms_due_lists_the_expired_and_falling_due_terms_of_a_subtree(start_service, rpc):
    start_service(OrganizationService)
    with rpc() as proxy:
        org = proxy.organization
        units, people = build_tree(org)

        def due(unit, within_days, as_of="2021-06-30"):
            return [(r["unit_id"], r["status"], r["days_left"], r["depth"])
                    for r in org.terms_due(unit_id=units[unit], as_of=as_of,
                                           within_days=within_days)]

        # On 30 June 2021 the union group's term ended 30 days ago (31 May), the plant's
        # ends in 31 days (31 July), the wind farm's in 184 (31 December), the company's
        # in 974 (29 February 2024). Longest expired first, then by end date.
        assert due("XNY", 60) == [(units["SMGF-YW"], "expired", -30, 2),
                                  (units["SMGF"], "due", 31, 1)]
        assert due("XNY", 31) == due("XNY", 60)  # the last day counts
        assert due("XNY", 30) == [(units["SMGF-YW"], "expired", -30, 2)]
        assert due("XNY", 184) == [(units["SMGF-YW"], "expired", -30, 2),
                                   (units["SMGF"], "due", 31, 1),
                                   (units["JJFD"], "due", 184, 1)]
        assert len(due("XNY", 974)) == 4
        assert due("SMGF", 60) == [(units["SMGF-YW"], "expired", -30, 1),
                                   (units["SMGF"], "due", 31, 0)]
        assert due("JJFD", 60) == []
        [row] = org.terms_due(unit_id=units["SMGF"], as_of="2021-06-30", within_days=0)
        assert row == {"unit_id": units["SMGF-YW"], "unit_name": "运维班", "depth": 1,
                       "union_id": row["union_id"], "union_name": "神木光伏电站运维班工会小组",
                       "level": "union_group", "term_id": row["term_id"], "number": 1,
                       "starts_on": "2018-06-01", "ends_on": "2021-05-31", "days_left": -30,
                       "status": "expired"}
        # Paged like every list.
        assert [r["unit_id"] for r in org.terms_due(unit_id=units["XNY"], as_of="2021-06-30",
                                                    within_days=184, limit=1, offset=1)] == [
            units["SMGF"]]

        # The union group elects its next committee on 5 July: from then its term is
        # current, while 30 June (as of which it was expired) still reads the same.
        org.record_election(unit_id=units["SMGF-YW"], held_on="2021-07-05",
                            term_starts_on="2021-07-05", term_ends_on="2024-07-04",
                            committee=[{"member_id": people["sun"], "role": "chair"}])
        assert due("XNY", 60, as_of="2021-07-10") == [(units["SMGF"], "due", 21, 1)]
        assert due("XNY", 60) == [(units["SMGF-YW"], "expired", -30, 2),
                                  (units["SMGF"], "due", 31, 1)]

        for bad, field in (({"within_days": -1}, "within_days"),
                           ({"within_days": "30"}, "within_days"),
                           ({"as_of": "2021-02-30"}, "as_of"),
                           ({"unit_id": 0}, "unit_id")):
            with pytest.raises(ValidationError) as info:
                org.terms_due(**{"unit_id": units["XNY"], **bad})
            assert field in info.value.fields
        with pytest.raises(NotFound):
            org.terms_due(unit_id=99999)


def test_term_reminders_reach_the_parent_unions_officers_inbox(org_and_notifications):
    proxy, units, people = org_and_notifications
    org, notif = proxy.organization, proxy.notifications
    # 1 July 2021: the plant's term ends in 30 days, the union group's ended a month ago.
    result = org.tick(as_of="2021-07-01")
    assert (result["term_expiring"], result["term_expired"]) == (1, 1)

    # The plant's own chair, and the company union's chair and vice-chair above it.
    [own] = wait_for(lambda: inbox(notif, people["chen"], "organization.term_expiring"), 20,
                     "the plant chair's reminder")
    assert own["title"] == "【换届提醒】神木光伏电站工会"
    assert "第1届委员会任期将于2021年7月31日届满（还有30天）" in own["body"]
    for officer in ("wang", "li"):
        [above] = wait_for(lambda o=officer: inbox(notif, people[o],
                                                   "organization.term_expiring"), 20,
                           "the parent union's officers' reminder")
        assert above["title"] == "【换届提醒】神木光伏电站工会"
        assert above["body"].startswith(f"{PEOPLE[officer][0]}：\n下级工会神木光伏电站工会")
        assert "请督促其及时筹备换届选举" in above["body"]
    # The union group's expiry: its chair, and the plant union's chair above it.
    [expired] = wait_for(lambda: inbox(notif, people["sun"], "organization.term_expired"), 20)
    assert expired["title"] == "【换届逾期】神木光伏电站运维班工会小组"
    [flagged] = wait_for(lambda: inbox(notif, people["chen"], "organization.term_expired"), 20,
                         "the plant chair hears the group below has expired")
    assert "2021年5月31日届满" in flagged["body"] and flagged["urgency"] == "high"
    # Nobody else: not the company officers (two levels up), the other plant, the members.
    for key in ("wang", "li", "zhou", "zhao", "qian", "wu"):
        assert inbox(notif, people[key], "organization.term_expired") == []
    for key in ("sun", "zhou", "zhao", "qian", "wu"):
        assert inbox(notif, people[key], "organization.term_expiring") == []
    # The same day again sends nothing new.
    assert org.tick(as_of="2021-07-01")["term_expiring"] == 0
    assert len(inbox(notif, people["wang"], "organization.term_expiring")) == 1


# ------------------------------------------------------------------- field visits


def test_overdue_follow_ups_are_reminded_once_to_owner_and_flagged_to_the_union_above(
        org_and_notifications, subscribe):
    proxy, units, people = org_and_notifications
    org, notif = proxy.organization, proxy.notifications
    overdue = subscribe("organization.events", "follow_up_overdue")
    visit = org.record_field_visit(
        unit_id=units["SMGF"], kind="symposium", visited_on="2021-04-20",
        visitor_ids=[people["wang"]], findings="倒班宿舍热水不稳定，运维班休息室空调老化",
        actions=[{"description": "倒班宿舍热水系统检修", "owner_unit_id": units["SMGF"],
                  "due_on": "2021-05-31"},
                 {"description": "运维班休息室空调更换", "owner_unit_id": units["SMGF-YW"],
                  "due_on": "2021-06-15"},
                 {"description": "食堂菜品公示", "owner_unit_id": units["SMGF"],
                  "due_on": "2021-05-20"}])
    hot_water, air_con, canteen = (a["id"] for a in visit["actions"])
    org.close_action_item(action_item_id=canteen, closing_note="已每周公示",
                          closed_on="2021-05-18")
    # A meeting's task is not a field visit's follow-up: it is not chased here.
    org.record_meeting(unit_id=units["XNY"], kind="seminar", title="半年工作推进会",
                       held_on="2021-04-01", tasks=[{"description": "汇总半年报表",
                                                     "owner_unit_id": units["JJFD"],
                                                     "due_on": "2021-05-01"}])

    def tick(day):
        return org.tick(as_of=day)["follow_up_overdue"]

    assert tick("2021-05-31") == 0  # due today: still in time
    assert tick("2021-06-01") == 1  # the hot water, one day late
    assert tick("2021-06-01") == 0
    assert tick("2021-06-15") == 0
    assert tick("2021-06-20") == 1  # the air conditioning, five days late
    for day in ("2021-06-01", "2021-06-02", "2021-06-20", "2021-07-01", "2021-12-31"):
        assert tick(day) == 0  # each follow-up is reminded once, however often replayed
    events = sorted((m["body"]["data"] for m in overdue.collect(2)),
                    key=lambda d: d["action_item_id"])
    assert [(d["action_item_id"], d["days_overdue"], d["owner_unit_id"], d["parent_unit_id"])
            for d in events] == [(hot_water, 1, units["SMGF"], units["XNY"]),
                                 (air_con, 5, units["SMGF-YW"], units["SMGF"])]
    assert events[0]["visit_id"] == visit["id"] and events[0]["visit_kind"] == "symposium"

    # The plant union's chair: the hot water as its owner, the air conditioning flagged up
    # to him from the union group below.
    wait_for(lambda: len(inbox(notif, people["chen"], "organization.follow_up_overdue")) == 2,
             20, "the plant chair's two notices")
    chen = {i["action_item_id"]: i for i in (
        {**item, "action_item_id": int(item["link"].rsplit("/", 1)[1])}
        for item in inbox(notif, people["chen"], "organization.follow_up_overdue"))}
    owner = chen[hot_water]
    assert owner["title"] == "【跟进事项逾期】神木光伏电站" and owner["urgency"] == "high"
    assert ("2021年4月20日在神木光伏电站调研时提出的跟进事项「倒班宿舍热水系统检修」由神木光伏电站"
            "负责，已于2021年5月31日到期，逾期1天仍未办结") in owner["body"]
    assert chen[air_con]["title"] == "【跟进事项逾期】运维班"
    assert "运维班负责的跟进事项「运维班休息室空调更换」" in chen[air_con]["body"]
    assert "逾期5天仍未办结，请督促落实" in chen[air_con]["body"]
    # The company union's officers: the plant's overdue hot water is flagged to them.
    for key in ("wang", "li"):
        [flag] = wait_for(lambda k=key: inbox(notif, people[k],
                                              "organization.follow_up_overdue"), 20,
                          "flagged to the company union")
        assert flag["title"] == "【跟进事项逾期】神木光伏电站"
        assert "神木光伏电站负责的跟进事项「倒班宿舍热水系统检修」" in flag["body"]
        assert flag["link"].endswith(f"/organization/action-items/{hot_water}")
    # The union group's chair: the air conditioning, as its owner.
    [group] = wait_for(lambda: inbox(notif, people["sun"], "organization.follow_up_overdue"),
                       20, "the union group's reminder")
    assert group["title"] == "【跟进事项逾期】运维班" and "由运维班负责" in group["body"]
    # Members, the other plant, and the company above the group's plant: not told.
    for key in ("zhao", "qian", "zhou", "wu"):
        assert inbox(notif, people[key], "organization.follow_up_overdue") == []
    assert len(inbox(notif, people["wang"], "organization.follow_up_overdue")) == 1


# -------------------------------------------------------------------- commitments


def test_a_commitment_made_and_reported_reaches_the_members_of_its_unit(
        start_service, rpc, notifications_config):  # noqa: F811
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        units, people = build_tree(proxy.organization)
        wait_for_directory(proxy)
        notif, deeds = proxy.notifications, proxy.deeds
        wait_for_notifications_directory(notif)
        made = deeds.make_commitment(owner_kind="member", owner_unit_id=units["SMGF"],
                                     owner_member_id=people["chen"],
                                     title="每月深入一线班组走访不少于4次", metric="走访次数",
                                     target=48, starts_on="2021-01-01", ends_on="2021-12-31")
        deeds.report_commitment(commitment_id=made["id"], value=34.0, note="上半年",
                                reported_on="2021-07-05")
        # Everyone of the plant, its union group included; no one of the other units.
        for key in ("chen", "zhao", "sun", "qian"):
            [item] = wait_for(lambda k=key: inbox(notif, people[k], "deeds.commitment_made"),
                              20, "the unit's members see the commitment")
            assert item["title"] == "【公开承诺】每月深入一线班组走访不少于4次"
            assert ("神木光伏电站陈志强作出公开承诺「每月深入一线班组走访不少于4次」："
                    "走访次数目标48，期限2021年1月1日至2021年12月31日") in item["body"]
            [report] = wait_for(lambda k=key: inbox(notif, people[k],
                                                    "deeds.commitment_reported"), 20)
            assert report["title"] == "【承诺进展】每月深入一线班组走访不少于4次"
            assert "走访次数已达34（目标48" in report["body"]
        for key in ("wang", "li", "zhou", "wu"):
            assert inbox(notif, people[key], "deeds.commitment_made") == []
            assert inbox(notif, people[key], "deeds.commitment_reported") == []


def test_compare_commitments_ranks_by_share_of_target(start_service, rpc):
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        units, people = build_tree(proxy.organization)
        wait_for_directory(proxy)
        deeds = proxy.deeds
        # (owner unit, cadre, target, achieved): worked out by hand, the shares are
        # 50/200 = 0.25, 4/10 = 0.4, 6/8 = 0.75, 3.6/3 = 1.2 and 2/3 = 0.6667: the largest
        # figure achieved (50) ranks last, the commitment beaten by 20% first.
        plan = {"rest_rooms": ("SMGF", None, 200, 50), "library": ("JJFD", None, 10, 4),
                "visits": ("SMGF", "chen", 8, 6), "problems": ("JJFD", "zhou", 3, 3.6),
                "training": ("XNY", "wang", 3, 2)}
        ids = {}
        for key, (unit, cadre, target, achieved) in plan.items():
            ids[key] = deeds.make_commitment(
                owner_kind="member" if cadre else "unit", owner_unit_id=units[unit],
                owner_member_id=people[cadre] if cadre else None, title=key,
                metric="件数", target=target, starts_on="2021-01-01",
                ends_on="2021-12-31")["id"]
            deeds.report_commitment(commitment_id=ids[key], value=achieved / 2,
                                    reported_on="2021-04-01")
            deeds.report_commitment(commitment_id=ids[key], value=achieved,
                                    reported_on="2021-07-01")
        # Another year's commitment is not compared in 2021.
        deeds.make_commitment(owner_kind="unit", owner_unit_id=units["XNY"], title="next",
                              metric="件数", target=1, starts_on="2022-01-01",
                              ends_on="2022-12-31")

        def ranking(**filters):
            return [(c["id"], c["rank"], c["ratio"], c["achieved"])
                    for c in deeds.compare_commitments(year=2021, **filters)]

        assert ranking() == [(ids["problems"], 1, 1.2, 3.6), (ids["visits"], 2, 0.75, 6.0),
                             (ids["training"], 3, 0.6667, 2.0), (ids["library"], 4, 0.4, 4.0),
                             (ids["rest_rooms"], 5, 0.25, 50.0)]
        assert ranking(owner_kind="unit") == [(ids["library"], 1, 0.4, 4.0),
                                              (ids["rest_rooms"], 2, 0.25, 50.0)]
        assert ranking(owner_kind="member") == [(ids["problems"], 1, 1.2, 3.6),
                                                (ids["visits"], 2, 0.75, 6.0),
                                                (ids["training"], 3, 0.6667, 2.0)]
        # A new report moves a commitment: the library reaches 9 of 10 (0.9) and climbs.
        deeds.report_commitment(commitment_id=ids["library"], value=9, reported_on="2021-10-01")
        assert [c for c, *_ in ranking()] == [ids["problems"], ids["library"], ids["visits"],
                                             ids["training"], ids["rest_rooms"]]
