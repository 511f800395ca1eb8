"""Sign-ups over the real broker and database: capacity and the waiting list under 50
concurrent sign-ups, promotion in order, the organiser's cancellation, audience rules with a
typed error, and attendance (not sign-ups) being what counts."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from gonghui.actor import Actor
from gonghui.clock import today
from gonghui.errors import Conflict, Forbidden
from services.activities.service import ActivitiesService
from services.organization.service import OrganizationService

# a day in the future whatever the date the suite runs on: sign-ups are open
LATER = (today() + timedelta(days=60)).isoformat()


@pytest.fixture
def directory(start_service, rpc):
    """organization's demo, and the activities service with its copy of the directory."""
    start_service(OrganizationService)
    start_service(ActivitiesService)
    with rpc() as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        members = proxy.organization.list_members(limit=5000)
        yield proxy, units, members


def schedule(act, units, day=LATER, **extra):
    arguments = {"kind": "match", "name": "职工篮球赛", "organiser_unit_id": units["XNY"],
                 "starts_at": f"{day}T09:00:00", "ends_at": f"{day}T11:00:00", **extra}
    return act.schedule_activity(**arguments)


def query(url, sql, **params):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    engine.dispose()
    return rows


def test_fifty_concurrent_signups_for_ten_places(directory, subscribe, databases):
    proxy, units, members = directory
    act = proxy.activities
    sub = subscribe("activities.events")
    activity = schedule(act, units, capacity=10)
    people = members[:50]
    # All at once (the service runs 10 workers), plus 5 members signing up twice at once.
    calls = [act.sign_up.call_async(activity_id=activity["id"], member_id=m["id"])
             for m in people]
    calls += [act.sign_up.call_async(activity_id=activity["id"], member_id=m["id"])
              for m in people[:5]]
    outcomes = []
    for call in calls:
        try:
            outcomes.append(call.result()["status"])
        except Conflict:
            outcomes.append("refused")
    assert Counter(outcomes) == Counter(confirmed=10, waitlisted=40, refused=5)

    signups = act.list_signups(activity_id=activity["id"])
    assert len(signups) == 50 and len({s["member_id"] for s in signups}) == 50
    assert [s["seq"] for s in signups] == list(range(1, 51))
    assert [s["status"] for s in signups] == ["confirmed"] * 10 + ["waitlisted"] * 40
    assert [s["waitlist_position"] for s in signups[10:]] == list(range(1, 41))
    # Arrival order is kept: places and waiting-list ranks follow the order the sign-ups
    # were taken in, one at a time under the activity's row lock.
    url = databases["activities"]
    rows = query(url, "SELECT seq FROM signups WHERE activity_id = :a "
                      "ORDER BY signed_up_at, id", a=activity["id"])
    assert [r.seq for r in rows] == list(range(1, 51))
    assert query(url, "SELECT count(*) FROM signups")[0][0] == 50

    # Three confirmed members withdraw: the first three in line get their places, in order.
    line = [s["member_id"] for s in signups[10:]]
    for leaving in signups[:3]:
        act.cancel_signup(activity_id=activity["id"], member_id=leaving["member_id"])
    after = act.list_signups(activity_id=activity["id"])
    confirmed = [s["member_id"] for s in after if s["status"] == "confirmed"]
    assert len(confirmed) == 10 and confirmed[-3:] == line[:3]
    assert [s["member_id"] for s in after if s["status"] == "waitlisted"] == line[3:]
    # Coming back after withdrawing means the end of the line.
    again = act.sign_up(activity_id=activity["id"], member_id=signups[0]["member_id"])
    assert (again["status"], again["waitlist_position"], again["seq"]) == ("waitlisted", 38, 51)

    seen = sub.collect(1 + 50 + 3 + 3 + 1)
    kinds = Counter(m["routing_key"] for m in seen)
    assert kinds == Counter(activity_scheduled=1, signup_confirmed=10, signup_waitlisted=41,
                            signup_cancelled=3, signup_promoted=3)
    assert len({m["body"]["id"] for m in seen}) == len(seen)
    waiting = sorted(m["body"]["data"]["waitlist_position"] for m in seen
                     if m["routing_key"] == "signup_waitlisted")
    assert waiting == sorted([*range(1, 41), 38])
    promoted = [m["body"]["data"]["member_id"] for m in seen
                if m["routing_key"] == "signup_promoted"]
    assert promoted == line[:3]


def test_audience_rules_refuse_with_a_typed_error(directory, databases):
    proxy, units, members = directory
    act, org = proxy.activities, proxy.organization
    man = next(m for m in members if m["gender"] == "male")
    woman = next(m for m in members if m["gender"] == "female")
    for_women = schedule(act, units, kind="womens_health", name="女职工瑜伽课",
                         audience="women")
    with pytest.raises(Forbidden) as info:
        act.sign_up(activity_id=for_women["id"], member_id=man["id"])
    assert "women workers" in info.value.details["member_id"][0]
    assert act.sign_up(activity_id=for_women["id"], member_id=woman["id"])["status"] == \
        "confirmed"

    smgf = units["XNY-SMGF"]
    plant_only = schedule(act, units, kind="lecture", name="心理健康讲座",
                          organiser_unit_id=smgf, audience="subtree", audience_unit_id=smgf)
    outsider = org.list_members(unit_id=units["XNY-QN"])[0]
    insider = org.list_members(unit_id=smgf)[0]
    with pytest.raises(Forbidden) as info:
        act.sign_up(activity_id=plant_only["id"], member_id=outsider["id"])
    assert "神木光伏电站" in info.value.details["member_id"][0]
    act.sign_up(activity_id=plant_only["id"], member_id=insider["id"])

    chairs = schedule(act, units, kind="lecture", name="工会主席培训", audience="role",
                      audience_role="chair")
    chair = org.recipients(unit_id=units["XNY-QN"], role="chair")[0]
    no_role = org.list_members(unit_id=units["XNY-QN"])[6]  # the demo seats the first five
    with pytest.raises(Forbidden) as info:
        act.sign_up(activity_id=chairs["id"], member_id=no_role["id"])
    assert "role chair" in info.value.details["member_id"][0]
    act.sign_up(activity_id=chairs["id"], member_id=chair["member_id"])

    # The same rule guards attendance; a refused batch writes nothing.
    past = schedule(act, units, day="2021-06-10", kind="womens_health", name="女职工健康讲座",
                    audience="women")
    with pytest.raises(Forbidden) as info:
        act.record_attendance(activity_id=past["id"], member_ids=[woman["id"], man["id"]])
    assert str(man["id"]) in info.value.details["member_ids"][0]
    assert query(databases["activities"], "SELECT count(*) FROM attendance")[0][0] == 0


def test_organiser_cancellation_tells_everyone_signed_up(directory, subscribe):
    proxy, units, members = directory
    act = proxy.activities
    sub = subscribe("activities.events", "activity_cancelled")
    activity = schedule(act, units, capacity=2)
    people = members[10:13]
    for person in people:
        act.sign_up(activity_id=activity["id"], member_id=person["id"])
    cancelled = act.cancel_activity(activity_id=activity["id"], reason="场地检修")
    assert cancelled["status"] == "cancelled"
    (message,) = sub.collect(1)
    data = message["body"]["data"]
    assert data["recipient_member_ids"] == [p["id"] for p in people]  # waiting one included
    assert data["recipient_unit_ids"] == sorted({p["unit_id"] for p in people})
    assert data["activity_name"] == "职工篮球赛" and data["reason"] == "场地检修"
    with pytest.raises(Conflict):
        act.sign_up(activity_id=activity["id"], member_id=members[20]["id"])
    with pytest.raises(Conflict):
        act.cancel_activity(activity_id=activity["id"], reason="again")


def test_a_member_signs_up_only_themselves(directory, rpc):
    proxy, units, members = directory
    activity = schedule(proxy.activities, units)
    me, other = members[30], members[31]
    with rpc(actor=Actor("member", me["employee_no"])) as mine:
        with pytest.raises(Forbidden):
            mine.activities.sign_up(activity_id=activity["id"], member_id=other["id"])
        assert mine.activities.sign_up(activity_id=activity["id"],
                                       member_id=me["id"])["status"] == "confirmed"
        # They read their own sign-ups, not another member's.
        assert [s["activity_id"] for s in mine.activities.member_signups(
            member_id=me["id"])] == [activity["id"]]
        with pytest.raises(Forbidden):
            mine.activities.member_signups(member_id=other["id"])
        mine.activities.cancel_signup(activity_id=activity["id"], member_id=me["id"])
        assert mine.activities.member_signups(member_id=me["id"], with_total=True) == {
            "items": [], "total": 0}


def test_attendance_not_signups_is_what_counts(directory, subscribe):
    proxy, units, members = directory
    act = proxy.activities
    sub = subscribe("activities.events", "attendance_recorded")
    day = "2021-06-17"
    held = schedule(act, units, day=day, kind="reading_session", name="读书会", capacity=5)
    only_signed = schedule(act, units, day=day, kind="reading_session", name="无人到场的读书会")
    for person in members[:6]:
        act.sign_up(activity_id=held["id"], member_id=person["id"])
        act.sign_up(activity_id=only_signed["id"], member_id=person["id"])
    # Three who signed up came, and one who had not (a walk-in).
    came = [members[0]["id"], members[2]["id"], members[4]["id"], members[40]["id"]]
    assert act.record_attendance(activity_id=held["id"], member_ids=came) == {
        "activity_id": held["id"], "added": 4, "attended": 4}
    assert act.record_attendance(activity_id=held["id"], member_ids=came[:2])["added"] == 0
    figures = act.figures(date_from=day, date_to=day)
    assert figures["activities"] == [{"campaign_id": None, "campaign_name": None,
                                      "kind": "reading_session", "activities": 1,
                                      "participants": 4, "attendances": 4}]
    assert figures["headline"]["reading_sessions"] == 1
    (message,) = sub.collect(1)  # the repeat recorded nothing and said nothing
    assert message["body"]["data"]["member_ids"] == sorted(came)
    with pytest.raises(Conflict):
        act.cancel_activity(activity_id=held["id"], reason="too late: it took place")
    future = schedule(act, units)
    with pytest.raises(Conflict):
        act.record_attendance(activity_id=future["id"], member_ids=came)
