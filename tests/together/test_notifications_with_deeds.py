"""The whole chain through the real services: deeds' tick finds a missing monthly report,
notifications tells the responsible person (inbox and e-mail) and the owner unit's WeCom
group, and the escalation reaches the officers (chair and vice-chair) of the union it goes
up to: deeds names that union's unit, notifications alone resolves its officers."""

from deploy.demo.organization import load_demo
from services.deeds.service import DeedsService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import wait_for_directory
from tests.support.notifications import (
    caught_up,
    wait_for,
)


def test_overdue_report_and_escalation_through_real_deeds(
        start_service, rpc, notifications_config, smtp, robots):  # noqa: F811
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(NotificationsService, **notifications_config)
    with rpc() as proxy:
        load_demo(proxy)
        org, deeds, notif = proxy.organization, proxy.deeds, proxy.notifications
        wait_for_directory(proxy)
        members = org.list_members(limit=5000)
        wait_for(lambda: caught_up(notif, org), 60,
                 "notifications' read model follows organization")
        units = {u["code"]: u for u in org.list_units(limit=5000)}
        plant, company = units["XNY-SMGF"], units["XNY"]
        company_chair = org.recipients(unit_id=company["id"], role="chair")[0]
        company_officers = {r["member_id"] for role in ("chair", "vice_chair")
                            for r in org.recipients(unit_id=company["id"], role=role)}
        assert len(company_officers) == 2  # the demo's company union: a chair, a vice-chair
        responsible = [m for m in members if m["unit_id"] == plant["id"]][8]
        notif.set_unit_robot(unit_id=plant["id"], kind="wecom", name="神木光伏电站工会群",
                             webhook_url=robots.wecom_url("smgf"))
        lst = deeds.create_list(level="grassroots", year=2021, unit_id=plant["id"],
                                title="神木光伏电站实事清单")
        item = deeds.create_item(list_id=lst["id"], title="倒班宿舍热水系统改造",
                                 focus_area="conditions", batch="warm_heart",
                                 owner_unit_id=plant["id"],
                                 responsible_member_id=responsible["id"],
                                 planned_completion="2021-09-30", created_on="2021-01-10")
        assert deeds.tick(as_of="2021-02-26")["report_overdue"] == 1

        def overdue_inbox():
            return [i for i in notif.list_inbox(member_id=responsible["id"])
                    if i["event_type"] == "deeds.report_overdue"]

        wait_for(overdue_inbox, 30, "the responsible person's inbox")
        wait_for(lambda: any(responsible["email"] in m["To"] for m in smtp.messages()), 30,
                 "the responsible person's e-mail")
        wait_for(lambda: robots.received.get("wecom:smgf"), 30, "the unit's WeCom group")
        assert "倒班宿舍热水系统改造" in overdue_inbox()[0]["title"]
        # Still missing at the supervision order's deadline: it escalates up the tree.
        day, escalated = 27, 0
        while not escalated and day <= 31:
            escalated = deeds.tick(as_of=f"2021-03-{day:02d}")["supervision_escalated"]
            day += 1
        assert escalated == 1
        wait_for(lambda: [i for i in notif.list_inbox(member_id=company_chair["member_id"])
                          if i["event_type"] == "deeds.supervision_escalated"], 30,
                 "the parent union's chair hears of the escalation")

        def escalation_deliveries():
            return {(d["member_id"], d["channel"]) for d in notif.list_deliveries(limit=5000)
                    if d["rule_key"] == "supervision_escalated"}

        # The union's officers, and nobody else, by inbox and e-mail.
        wait_for(lambda: escalation_deliveries() == {
            (member_id, channel) for member_id in company_officers
            for channel in ("inbox", "email")}, 30, "every officer of the union escalated to")
        for member_id in company_officers:
            assert [i for i in notif.list_inbox(member_id=member_id)
                    if i["event_type"] == "deeds.supervision_escalated"]
        assert deeds.get_item(item_id=item["id"])["track"] == "under_supervision"
