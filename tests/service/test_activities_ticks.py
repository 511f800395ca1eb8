"""Two years of daily ticks replayed with two replicas: the working-day-before reminder of
each activity and each member's missing check-up reminder exactly once, a plain AMQP
subscriber sees each once, and a second replay sends nothing."""

import time
from collections import Counter
from datetime import date

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from gonghui.actor import Actor
from gonghui.calendar import WorkingCalendar
from gonghui.clock import date_range
from services.activities.service import ActivitiesService
from services.organization.service import OrganizationService

START, END = date(2021, 1, 1), date(2022, 12, 31)
CALENDAR = WorkingCalendar()


def activity(act, units, name, day, **extra):
    arguments = {"kind": "lecture", "name": name, "organiser_unit_id": units["XNY"],
                 "starts_at": f"{day}T14:00:00", "ends_at": f"{day}T16:00:00", **extra}
    return act.schedule_activity(**arguments)


def wait_for(check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_two_years_of_ticks_send_each_reminder_once(start_service, rpc, subscribe):
    start_service(OrganizationService)
    start_service(ActivitiesService)
    start_service(ActivitiesService)  # a second replica: ticks must still count once
    upcoming = subscribe("activities.events", "activity_upcoming")
    missing = subscribe("activities.events", "checkup_missing")
    with rpc() as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, resync=False)
        demo_activities.load_demo(proxy)  # 2021: every member checked up
        act, org = proxy.activities, proxy.organization
        units = {u["code"]: u["id"] for u in org.list_units(limit=5000)}
        members = org.list_members(limit=5000)
        # 2022: a third of the members had the year's check-up, one left in September,
        # one joined in November.
        checked = {m["id"] for m in members[::3]}
        for member_id in sorted(checked):
            act.record_checkup(member_id=member_id, checked_on="2022-05-10", provider="职工医院")
        leaver = next(m for m in members[1::3] if m["id"] not in checked)
        org.member_leaves(member_id=leaver["id"], left_on="2022-09-01")
        newcomer = org.add_member(employee_no="XN9001", name="新员工", gender="female",
                                  unit_id=units["XNY-QN"], joined_on="2022-11-15")
        wait_for(lambda: act.directory_status()["members"] == len(members) + 1)
        wait_for(lambda: act.directory_status()["current_members"] == len(members))
        # Monday 10 October 2022 follows the National Day holiday: its working day before is
        # Sunday 9 October, a make-up working day. Saturday 8 October is one too.
        monday = activity(act, units, "节后安全讲座", "2022-10-10")
        saturday = activity(act, units, "调休日读书会", "2022-10-08", kind="reading_session")
        called_off = activity(act, units, "取消的讲座", "2022-11-10")
        nobody = activity(act, units, "无人报名的讲座", "2022-11-24")
        for item in (monday, saturday, called_off):
            for member in members[40:43]:
                act.sign_up(activity_id=item["id"], member_id=member["id"])
        act.cancel_activity(activity_id=called_off["id"], reason="讲师临时有事")
        assert nobody["id"]
        expected_upcoming = {a["id"]: a for a in act.list_activities(limit=5000)
                             if a["status"] == "scheduled" and a["confirmed"]}

    assert len(expected_upcoming) == 4  # the badminton match, the youth mixer, and two above
    active_q4 = {m["id"] for m in members if m["id"] != leaver["id"]} | {newcomer["id"]}
    expected_reminded = active_q4 - checked

    with rpc(actor=Actor("operator", "replay")) as proxy:
        totals = Counter()
        for day in date_range(START, END):
            # Both replicas get the same day at once; the advisory lock serialises them.
            first = proxy.activities.tick.call_async(as_of=day.isoformat())
            second = proxy.activities.tick.call_async(as_of=day.isoformat())
            for reply in (first, second):
                result = reply.result()
                totals.update({k: v for k, v in result.items() if k != "as_of"})
        for day in date_range(START, END):
            result = proxy.activities.tick(as_of=day.isoformat())
            assert (result["activity_upcoming"], result["checkup_missing"]) == (0, 0), day
    assert totals["activity_upcoming"] == len(expected_upcoming)
    assert totals["members_reminded"] == len(expected_reminded)

    seen = upcoming.collect(len(expected_upcoming))
    assert len({m["body"]["id"] for m in seen}) == len(seen) == len(expected_upcoming)
    by_activity = {m["body"]["data"]["activity_id"]: m["body"]["data"] for m in seen}
    assert set(by_activity) == set(expected_upcoming)
    for activity_id, data in by_activity.items():
        held_on = date.fromisoformat(data["held_on"])
        assert date.fromisoformat(data["as_of"]) == CALENDAR.previous_working_day(held_on)
        assert len(data["recipient_member_ids"]) == expected_upcoming[activity_id]["confirmed"]
    assert by_activity[monday["id"]]["as_of"] == "2022-10-09"
    assert by_activity[saturday["id"]]["as_of"] == "2022-09-30"

    # One event per unit on the first day of the quarter, and one for the newcomer.
    unit_of = {m["id"]: m["unit_id"] for m in members}
    reminders = missing.collect(len({unit_of[m] for m in expected_reminded
                                     if m != newcomer["id"]}) + 1)
    assert len({m["body"]["id"] for m in reminders}) == len(reminders)
    per_member = Counter(m for r in reminders for m in r["body"]["data"]["recipient_member_ids"])
    assert set(per_member) == expected_reminded and set(per_member.values()) == {1}
    first_day = min(r["body"]["data"]["as_of"] for r in reminders)
    assert first_day == "2022-10-08"  # the first working day of the last quarter
    late = [r["body"]["data"] for r in reminders
            if newcomer["id"] in r["body"]["data"]["recipient_member_ids"]]
    assert [(d["as_of"], d["recipient_member_ids"]) for d in late] == [
        ("2022-11-15", [newcomer["id"]])]
    for message in reminders:
        assert message["body"]["actor"] == {"kind": "system", "id": "tick"}
        data = message["body"]["data"]
        assert data["year"] == 2022 and data["recipient_unit_ids"] == [data["unit_id"]]
