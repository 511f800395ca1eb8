"""The notifications service with its database on the broker: the read model (out-of-order
events, a full resync by RPC, fan-out while organization is down), rules changed as data
by RPC, the inbox RPCs."""

from datetime import UTC, datetime, timedelta

import pytest

from deploy.demo.organization import load_demo
from gonghui.errors import Conflict, NotFound, ValidationError
from services.deeds import events as deeds_events
from services.notifications.service import NotificationsService
from services.organization import events as org_events
from services.organization.service import OrganizationService
from tests.support.notifications import (
    COMPANY,
    PLANT,
    REPORT_OVERDUE,
    caught_up,
    escalation,
    execute,
    publish,
    report_overdue,
    rows,
    scalar,
    seed_tree,
    wait_for,
)


def test_read_model_resyncs_and_fan_out_needs_no_organization(
        start_service, rpc, amqp_uri, databases, notifications_config, smtp):  # noqa: F811
    url = databases["notifications"]
    org_container = start_service(OrganizationService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        load_demo(proxy)
        org, notif = proxy.organization, proxy.notifications
        members = org.list_members(limit=5000)
        wait_for(lambda: caught_up(notif, org), 60)
        stats = notif.directory_status()
        units = {u["code"]: u for u in org.list_units(limit=5000)}
        holders = sum(len(org.recipients(unit_id=u["id"], role=role))
                      for u in units.values() for role in ("chair", "vice_chair",
                                                           "committee_member", "cadre")
                      if org.get_union(unit_id=u["id"])["unit_id"] == u["id"])
        assert stats["roles"] == holders and stats["units"] == len(units)
        assert stats["current_members"] == len(members)
        # Lost events upstream (or a restore): the read model is rebuilt by RPC.
        for table in ("roles", "members", "unions", "units"):
            execute(url, f"DELETE FROM directory_{table}")
        assert notif.directory_status()["members"] == 0
        resynced = notif.resync_directory()
        counts = [k for k in stats if k != "last_change_at"]  # a resync stamps its own time
        assert {k: resynced[k] for k in counts} == {k: stats[k] for k in counts}
        # Organization is down: escalations still find the parent union's chair locally.
        company_chair = org.recipients(unit_id=units["XNY"]["id"], role="chair")[0]
        org_container.kill()
        publish(amqp_uri, deeds_events.SUPERVISION_ESCALATED, escalation(
            owner_unit_id=units["XNY-JJFD"]["id"], owner_unit_name="锦界风电场",
            escalated_to_unit_id=units["XNY"]["id"]))
        wait_for(lambda: [i for i in notif.list_inbox(member_id=company_chair["member_id"])
                          if i["event_type"] == "deeds.supervision_escalated"], 20)


def test_out_of_order_organization_events_keep_the_latest_state(
        start_service, rpc, amqp_uri, databases, notifications_config):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    now = datetime.now(UTC)
    role = {"unit_id": PLANT, "unit_name": "神木光伏电站", "member_id": 201,
            "member_name": "张主席", "union_id": 20, "role": "chair", "term_id": None,
            "starts_on": "2021-01-01"}
    member = {"unit_id": PLANT, "unit_name": "神木光伏电站", "member_id": 204,
              "employee_no": "E204", "name": "杨职工", "gender": "female", "wecom_id": None,
              "mobile": None, "joined_on": "2018-01-01"}
    # The role ends; then the (older) assignment is delivered again, late.
    publish(amqp_uri, org_events.ROLE_ENDED, {**role, "ends_on": "2026-01-01"},
            occurred_at=now)
    publish(amqp_uri, org_events.MEMBER_UPDATED, {**member, "email": "new@x.cn"},
            occurred_at=now)
    wait_for(lambda: scalar(url, "SELECT count(*) FROM inbox") == 15 + 2)
    publish(amqp_uri, org_events.ROLE_ASSIGNED, role, occurred_at=now - timedelta(minutes=5))
    publish(amqp_uri, org_events.MEMBER_UPDATED, {**member, "email": "old@x.cn"},
            occurred_at=now - timedelta(minutes=5))
    wait_for(lambda: scalar(url, "SELECT count(*) FROM inbox") == 15 + 4)
    assert scalar(url, "SELECT ends_on::text FROM directory_roles WHERE member_id = 201") == \
        "2026-01-01"
    assert scalar(url, "SELECT email FROM directory_members WHERE member_id = 204") == \
        "new@x.cn"
    # The plant has no chair now: supervision goes to its vice-chair only.
    publish(amqp_uri, deeds_events.SUPERVISION_ISSUED, {
        **escalation(escalated_to_unit_id=None, escalated_to_unit_name=None,
                     escalation_level=0, status="open"), "recipient_member_ids": []})
    wait_for(lambda: scalar(url, "SELECT count(*) FROM inbox_items") == 2)
    assert {r["member_id"] for r in rows(url, "SELECT member_id FROM inbox_items")} == \
        {203, 202}


def test_rules_are_data_changed_by_rpc_and_validated(
        start_service, rpc, amqp_uri, databases, notifications_config, smtp):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    with rpc() as proxy:
        notif = proxy.notifications
        assert {r["key"] for r in notif.list_rules(event_type="deeds.report_overdue")} == {
            "report_overdue", "report_overdue.robot"}
        changed = notif.update_rule(key="report_overdue", channels=["inbox"], urgency="urgent")
        assert changed["channels"] == ["inbox"]
        with pytest.raises(ValidationError) as info:
            notif.update_rule(key="report_overdue", period="{no_such_field}")
        assert "period" in info.value.fields
        with pytest.raises(ValidationError) as info:
            notif.create_rule(key="submitted.officers", event_type="deeds.report_submitted",
                              audience=["owner_unit_robots"], channels=["inbox"],
                              template="item_completed", urgency="low", kind="task",
                              subject="item:{item_id}", period="{period}")
        assert "channels" in info.value.fields
        with pytest.raises(Conflict):
            notif.create_rule(key="report_overdue", event_type="deeds.report_overdue",
                              audience=["responsible"], channels=["inbox"],
                              template="report_overdue", urgency="low", kind="task",
                              subject="item:{item_id}", period="{period}")
        with pytest.raises(NotFound):
            notif.update_rule(key="no.such.rule", enabled=False)
        publish(amqp_uri, REPORT_OVERDUE, report_overdue())
        wait_for(lambda: notif.list_inbox(member_id=203), 20)
        [item] = notif.list_inbox(member_id=203)
        assert item["urgency"] == "urgent"
        assert rows(url, "SELECT channel FROM deliveries") == [{"channel": "inbox"}]
        # Inbox RPCs: unread count, mark read (only the member's own items).
        assert notif.unread_count(member_id=203)["unread"] == 1
        with pytest.raises(NotFound):
            notif.mark_read(member_id=204, item_ids=[item["id"]])
        assert notif.mark_read(member_id=203, item_ids=[item["id"]])["unread"] == 0
        assert notif.list_inbox(member_id=203, unread_only=True) == []
        assert notif.mark_read(member_id=203, all=True)["marked"] == 0
        assert smtp.count() == 0


def test_activity_reminders_from_the_activities_contract(
        start_service, rpc, amqp_uri, databases, notifications_config, smtp):  # noqa: F811
    activities_events = pytest.importorskip("services.activities.events")

    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    starts = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)  # 17:00 in China
    activity = {"activity_id": 5, "activity_name": "职工健步走", "kind": "fitness",
                "topic": None, "campaign_id": 1, "campaign_name": "全民健身",
                "organiser_unit_id": PLANT, "organiser_unit_name": "神木光伏电站",
                "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                "held_on": "2026-05-20", "place": "厂区环路", "facility_id": None,
                "facility_name": None}
    publish(amqp_uri, activities_events.ACTIVITY_UPCOMING, {
        **activity, "as_of": "2026-05-19", "recipient_member_ids": [204, 205],
        "recipient_unit_ids": [PLANT]})
    publish(amqp_uri, activities_events.CHECKUP_MISSING, {
        "year": 2026, "as_of": "2026-10-08", "unit_id": PLANT, "unit_name": "神木光伏电站",
        "recipient_member_ids": [205], "recipient_unit_ids": [PLANT]})
    with rpc() as proxy:
        notif = proxy.notifications
        wait_for(lambda: len(notif.list_inbox(member_id=205)) == 2, 20)
        titles = sorted(i["title"] for i in notif.list_inbox(member_id=205))
        assert titles == ["【体检提醒】2026年度职工健康体检", "【活动提醒】职工健步走"]
        [item] = notif.list_inbox(member_id=204)
        assert "2026年5月20日 17:00" in item["body"] and "厂区环路" in item["body"]
        assert item["link"] == "https://gonghui.example.cn/activities/5"


def test_two_replicas_dispatch_one_fan_out_once(
        start_service, rpc, amqp_uri, databases, notifications_config, smtp):  # noqa: F811
    url = databases["notifications"]
    execute(url, "INSERT INTO directory_members (member_id, name, unit_id, email) "
                 "SELECT g, '职工' || g, 2, 'w' || g || '@xny.example.cn' "
                 "FROM generate_series(1000, 1149) AS g")
    start_service(NotificationsService, **notifications_config)
    start_service(NotificationsService, **notifications_config)
    publish(amqp_uri, REPORT_OVERDUE, report_overdue(
        recipient_member_ids=list(range(1000, 1150)), responsible_member_id=None))
    wait_for(lambda: smtp.count() >= 150, 60, "every e-mail")
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
             == 300, 20)
    assert smtp.count() == 150
    assert scalar(url, "SELECT count(*) FROM delivery_attempts") == 300
    assert scalar(url, "SELECT count(*) FROM inbox_items") == 150


def follow_up_overdue(action_item_id, as_of):
    return {"action_item_id": action_item_id, "description": "倒班宿舍热水系统检修",
            "owner_unit_id": PLANT, "owner_unit_name": "神木光伏电站", "due_on": "2026-01-31",
            "days_overdue": 20, "as_of": as_of, "visit_id": 1, "visit_kind": "symposium",
            "visited_on": "2026-01-10", "visit_unit_id": PLANT, "visit_unit_name": "神木光伏电站",
            "parent_unit_id": COMPANY, "parent_unit_name": "陕煤新型能源公司"}


def test_officers_are_those_of_the_events_day_however_late_it_is_handled(
        start_service, rpc, amqp_uri, databases, notifications_config):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    # The plant's chair (201) hands over on 1 March; the read model knows it already.
    publish(amqp_uri, org_events.ROLE_ENDED, {
        "unit_id": PLANT, "unit_name": "神木光伏电站", "member_id": 201, "member_name": "张主席",
        "union_id": 20, "role": "chair", "term_id": None, "starts_on": "2021-01-01",
        "ends_on": "2026-03-01"})
    wait_for(lambda: scalar(url, "SELECT ends_on FROM directory_roles WHERE member_id = 201"))
    # A follow-up overdue on 20 February (a tick's reminder handled late, or replayed) is
    # still the chair's to hear of; one overdue on 5 March is not.
    publish(amqp_uri, org_events.FOLLOW_UP_OVERDUE, follow_up_overdue(1, "2026-02-20"))
    publish(amqp_uri, org_events.FOLLOW_UP_OVERDUE, follow_up_overdue(2, "2026-03-05"))
    wait_for(lambda: scalar(url, "SELECT count(*) FROM inbox_items") == 4 + 3,
             what="both reminders in the inboxes")
    held = {(r["member_id"], r["action"]) for r in rows(
        url, "SELECT member_id, substring(link FROM '[0-9]+$')::int AS action "
             "FROM inbox_items WHERE event_type = 'organization.follow_up_overdue'")}
    # The plant's officers (owner unit) and, flagged up, the company union's.
    assert {m for m, action in held if action == 1} == {201, 202, 101, 102}
    assert {m for m, action in held if action == 2} == {202, 101, 102}
