"""End to end over the real broker and database: organization's demo union fills the read
model through its events; a deed report goes overdue (a real deeds envelope) and escalates.
Then every event of the run is delivered again, some in new envelopes as a replayed tick
would send them, with a second notifications replica running: no count changes."""

from email.header import decode_header, make_header

import eventlet

from deploy.demo.organization import load_demo
from services.notifications.schemas import CONSUMED
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.support.notifications import (
    REPORT_OVERDUE,
    SUPERVISION_ESCALATED,
    caught_up,
    escalation,
    new_id,
    publish,
    publish_envelope,
    publish_many,
    report_overdue,
    scalar,
    wait_for,
)
from tests.support.servers import text_and_html


def counts(url, smtp, robots):  # noqa: F811
    return {"deliveries": scalar(url, "SELECT count(*) FROM deliveries"),
            "sent": scalar(url, "SELECT count(*) FROM deliveries WHERE status = 'sent'"),
            "inbox_items": scalar(url, "SELECT count(*) FROM inbox_items"),
            "attempts": scalar(url, "SELECT count(*) FROM delivery_attempts"),
            "emails": smtp.count(),
            "robot_messages": sum(len(v) for v in robots.received.values())}


def test_overdue_report_reaches_everyone_once_and_replays_change_nothing(
        start_service, rpc, amqp_uri, databases, subscribe, notifications_config, smtp,  # noqa: F811
        robots):  # noqa: F811
    url = databases["notifications"]
    org_events = subscribe("organization.events")
    start_service(OrganizationService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        load_demo(proxy)
        org, notif = proxy.organization, proxy.notifications
        units = {u["code"]: u for u in org.list_units(limit=5000)}
        company, plant = units["XNY"], units["XNY-SMGF"]
        members = org.list_members(limit=5000)
        published = scalar(databases["organization"], "SELECT count(*) FROM outbox")
        consumed = scalar(databases["organization"],
                          "SELECT count(*) FROM outbox WHERE event_type = ANY(:types)",
                          types=sorted(t for t in CONSUMED if t.startswith("organization.")))
        wait_for(lambda: caught_up(notif, org)
                 and scalar(url, "SELECT count(*) FROM inbox") == consumed, 60,
                 "the read model follows organization")
        plant_chair = org.recipients(unit_id=plant["id"], role="chair")[0]
        company_chair = org.recipients(unit_id=company["id"], role="chair")[0]
        company_vice_chair = org.recipients(unit_id=company["id"], role="vice_chair")[0]
        officers = {r["member_id"] for role in ("chair", "vice_chair", "committee_member")
                    for r in org.recipients(unit_id=plant["id"], role=role)}
        responsible = next(m for m in members if m["unit_id"] == plant["id"]
                           and m["id"] not in officers)
        notif.set_unit_robot(unit_id=plant["id"], kind="wecom", name="神木光伏电站工会群",
                             webhook_url=robots.wecom_url("smgf-key"))

        # The demo's own notices (regulations issued, tasks set) go out first.
        wait_for(lambda: not scalar(url, "SELECT count(*) FROM deliveries "
                                         "WHERE status = 'pending'"), 30, "demo notices sent")
        start = counts(url, smtp, robots)
        ref = {"owner_unit_id": plant["id"], "owner_unit_name": plant["name"],
               "responsible_member_id": responsible["id"],
               "responsible_member_name": responsible["name"]}
        overdue = publish(amqp_uri, REPORT_OVERDUE, report_overdue(
            **ref, recipient_member_ids=[responsible["id"], plant_chair["member_id"]]))
        wait_for(lambda: smtp.count() == start["emails"] + 2
                 and robots.received["wecom:smgf-key"], 20, "e-mail and robot message")
        inbox = notif.list_inbox(member_id=responsible["id"], unread_only=True)
        assert [i["title"] for i in inbox if i["event_type"].startswith("deeds.")] == [
            "【逾期未报】倒班宿舍热水系统改造：2026年3月月度汇报已逾期"]
        assert inbox[0]["link"] == "https://gonghui.example.cn/deeds/items/7"
        unread = notif.unread_count(member_id=responsible["id"])["unread"]
        assert unread == len(inbox)
        mail = next(m for m in smtp.messages() if responsible["email"] in m["To"])
        text, html = text_and_html(mail)
        assert responsible["name"] in text and "2026年3月25日" in text
        assert "<p>" in html and "https://gonghui.example.cn/deeds/items/7" in html
        assert mail["Message-ID"].startswith("<delivery-")
        [robot_message] = robots.received["wecom:smgf-key"]
        assert robot_message["msgtype"] == "markdown"
        assert responsible["name"] in robot_message["markdown"]["content"]

        escalated = publish(amqp_uri, SUPERVISION_ESCALATED, escalation(
            **ref, escalated_to_unit_id=company["id"],
            escalated_to_unit_name=company["name"]))
        def escalations(member_id):
            return [i for i in notif.list_inbox(member_id=member_id)
                    if i["event_type"] == "deeds.supervision_escalated"]

        wait_for(lambda: escalations(company_chair["member_id"]), 20,
                 "the escalation reaches the parent union's chair")
        wait_for(lambda: escalations(company_vice_chair["member_id"]), 20,
                 "…and its vice-chair")
        wait_for(lambda: smtp.count() == start["emails"] + 4, 20, "escalation e-mails")
        [chair_item] = escalations(company_chair["member_id"])
        assert chair_item["urgency"] == "urgent" and "督办升级" in chair_item["title"]
        chair_mail = [m for m in smtp.messages() if company_chair["email"] in m["To"]
                      and m["X-Gonghui-Event"] == "deeds.supervision_escalated"]
        assert len(chair_mail) == 1 and "【紧急】【督办升级】" in str(
            make_header(decode_header(chair_mail[0]["Subject"])))
        # The responsible person sees the escalation in the inbox too (no second e-mail).
        wait_for(lambda: escalations(responsible["id"]), 10)
        eventlet.sleep(1)
        before = counts(url, smtp, robots)
        # The overdue report: the responsible person and the plant's chair (inbox, e-mail),
        # the plant's robot; the escalation: the company union's chair and vice-chair (inbox,
        # e-mail), the responsible person (inbox).
        assert {k: before[k] - start[k] for k in before} == {
            "deliveries": 10, "sent": 10, "inbox_items": 5, "attempts": 10, "emails": 4,
            "robot_messages": 1}

        # Every event again, with a second replica: org's as they were, deeds' as they
        # were and in new envelopes (a replayed tick), twice over.
        start_service(NotificationsService, **notifications_config)
        replay = [m["body"] for m in org_events.collect(published, timeout=30)]
        assert len(replay) == published
        handled = scalar(url, "SELECT count(*) FROM inbox")
        publish_many(amqp_uri, replay)
        for envelope in (overdue, escalated):
            publish_envelope(amqp_uri, envelope)
            for _ in range(2):
                publish_envelope(amqp_uri, {**envelope, "id": new_id()})
        wait_for(lambda: scalar(url, "SELECT count(*) FROM inbox") == handled + 4, 30,
                 "the new envelopes handled")
        eventlet.sleep(2)
        assert counts(url, smtp, robots) == before
        assert robots.refused == []
