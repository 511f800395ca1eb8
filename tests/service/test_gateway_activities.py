"""The gateway's activities routes over HTTP, with organization and activities behind it on
the real broker and databases: a member signs themselves up (and only themselves), sees
their waiting-list place and withdraws; the organiser's office sees the sign-ups, another
union's does not (404); the route table's schemas are the RPCs' own."""

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from gonghui.clock import today
from services.activities.service import ActivitiesService
from services.gateway.policy import SELF
from services.gateway.routes import activities as activity_routes
from services.notifications.service import NotificationsService
from tests.service.test_gateway_access import admin_session, person_session, stack  # noqa: F401
from tests.support.gateway import problem, wait_for_read_models

CHAIR, OTHER_CHAIR = "XN0007", "XN0019"  # chairs of 机关工会 (XNY-JG) and 神木光伏电站
FIRST, SECOND, OUTSIDER = "XN0012", "XN0011", "XN0020"  # two of XNY-JG, one of XNY-SMGF
SERVICE_CLASSES = {"activities": ActivitiesService, "notifications": NotificationsService}


def test_every_route_has_its_rpcs_schemas():
    """args and result are the RPC's own, a paged route's RPC takes limit and offset, and a
    member's own act is filled with the caller (there is no route naming another member)."""
    for route in activity_routes.ROUTES:
        service, method = route.rpc.split(".")
        spec = getattr(SERVICE_CLASSES[service], method).rpc_spec
        assert (route.args, route.result) == (spec.args, spec.result), route.rpc
        assert spec.many == (route.many or route.paged), route.rpc
        if route.paged:
            assert {"limit", "offset"} <= set(spec.args().fields), route.rpc
        if route.audience == SELF:
            assert route.self_member == "member_id" and route.member is None, route.rpc
            assert "member" in spec.actors, route.rpc


@pytest.fixture
def activities_first(start_service):
    """activities runs before the demo is loaded, so its read model follows the tree."""
    start_service(ActivitiesService)


@pytest.fixture
def site(activities_first, stack, rpc):  # noqa: F811
    with rpc() as proxy:
        wait_for_read_models(proxy, ["activities"])
    return stack


def signups_written(site):
    engine = create_engine(site["databases"]["activities"])
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT member_id, status FROM signups ORDER BY seq")).all()
    finally:
        engine.dispose()


def test_members_sign_themselves_up_and_the_office_sees_the_list(site, databases):
    site = {**site, "databases": databases}
    units, members = site["units"], site["members"]
    admin = admin_session(site)
    chair = person_session(site, admin, CHAIR)
    day = today() + timedelta(days=10)
    scheduled = chair.post("/api/v1/activities", json={
        "kind": "lecture", "name": "心理健康讲座", "organiser_unit_id": units["XNY-JG"],
        "starts_at": f"{day}T14:00:00+08:00", "ends_at": f"{day}T16:00:00+08:00",
        "capacity": 1, "audience": "subtree", "audience_unit_id": units["XNY-JG"]})
    assert scheduled.status_code == 201, scheduled.text
    activity = scheduled.json()["id"]
    signups = f"/api/v1/activities/{activity}/signups"
    # Another union's chair cannot schedule for 机关工会, nor for an audience outside theirs.
    other_chair = person_session(site, admin, OTHER_CHAIR)
    problem(other_chair.post("/api/v1/activities", json={
        **{k: v for k, v in scheduled.json().items() if k in (
            "kind", "name", "starts_at", "ends_at")}, "organiser_unit_id": units["XNY-SMGF"],
        "audience": "subtree", "audience_unit_id": units["XNY-JG"]}), 404)

    first, second = (person_session(site, admin, e) for e in (FIRST, SECOND))
    # Every member reads the activity; the first takes the one place.
    assert first.get(f"/api/v1/activities/{activity}").json()["capacity"] == 1
    mine = first.post(signups, json={})
    assert mine.status_code == 201, mine.text
    assert (mine.json()["member_id"], mine.json()["status"]) == (members[FIRST]["id"],
                                                                 "confirmed")
    # Signing someone else up is refused (403) and writes nothing.
    before = signups_written(site)
    problem(second.post(signups, json={"member_id": members[FIRST]["id"]}), 403)
    problem(first.delete(f"{signups}/me?member_id={members[SECOND]['id']}"), 403)
    assert signups_written(site) == before
    # The second waits, and sees their place on the waiting list.
    waiting = second.post(signups, json={"member_id": members[SECOND]["id"]})
    assert waiting.status_code == 201, waiting.text
    assert (waiting.json()["status"], waiting.json()["waitlist_position"]) == ("waitlisted", 1)
    # Each sees their own sign-ups with the activity, a page with its total; not another's.
    theirs = {who: client.get("/api/v1/me/signups").json() for who, client in (
        ("first", first), ("second", second))}
    assert [(i["activity_id"], i["status"], i["waitlist_position"], i["activity_name"])
            for i in theirs["second"]["items"]] == [(activity, "waitlisted", 1, "心理健康讲座")]
    assert theirs["second"]["total"] == 1
    assert [(i["status"], i["waitlist_position"]) for i in theirs["first"]["items"]] == [
        ("confirmed", None)]
    problem(second.get(f"/api/v1/me/signups?member_id={members[FIRST]['id']}"), 403)
    # A member outside the audience is refused by activities (403), and nothing is written.
    outsider = person_session(site, admin, OUTSIDER)
    problem(outsider.post(signups, json={}), 403)
    assert len(signups_written(site)) == 2

    # The organiser's office sees the list; another union's does not know it (404); a
    # member of the organising unit is not its office (403).
    listed = chair.get(signups)
    assert listed.status_code == 200, listed.text
    assert [(s["member_id"], s["status"], s["waitlist_position"]) for s in listed.json()] == [
        (members[FIRST]["id"], "confirmed", None), (members[SECOND]["id"], "waitlisted", 1)]
    problem(other_chair.get(signups), 404)
    problem(first.get(signups), 403)
    assert admin.get(signups).status_code == 200

    # The first withdraws: the second gets the place.
    withdrawn = first.delete(f"{signups}/me")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["promoted_member_id"] == members[SECOND]["id"]
    assert [(s["member_id"], s["status"]) for s in chair.get(signups).json()] == [
        (members[SECOND]["id"], "confirmed")]
    assert first.get("/api/v1/me/signups").json()["total"] == 0
    assert [(i["status"], i["waitlist_position"]) for i in second.get(
        "/api/v1/me/signups").json()["items"]] == [("confirmed", None)]
    # The audit trail of the activity names the members as themselves.
    trail = admin.get(f"/api/v1/audit/activities/activity/{activity}?limit=10")
    assert trail.status_code == 200, trail.text
    actors = {(e["action"], e["actor"]["kind"], e["actor"]["id"])
              for e in trail.json()["entries"]}
    assert ("activities.signup_confirmed", "member", FIRST) in actors
    assert ("activities.signup_waitlisted", "member", SECOND) in actors
    problem(chair.get(f"/api/v1/audit/activities/activity/{activity}"), 403)


def test_office_routes_follow_the_record_to_its_unit(site):
    units, members = site["units"], site["members"]
    admin = admin_session(site)
    chair, other_chair = (person_session(site, admin, e) for e in (CHAIR, OTHER_CHAIR))
    opened = chair.post("/api/v1/facilities", json={
        "unit_id": units["XNY-JG"], "kind": "reading_corner", "name": "机关读书角",
        "opened_on": str(today() - timedelta(days=30))})
    assert opened.status_code == 201, opened.text
    facility = opened.json()["id"]
    # Closing it is for its unit's office: another union's chair gets 404, nothing changes.
    problem(other_chair.post(f"/api/v1/facilities/{facility}/close",
                             json={"reason": "搬迁"}), 404)
    assert chair.get(f"/api/v1/facilities/{facility}").json()["status"] == "open"
    member = person_session(site, admin, FIRST)
    assert [f["id"] for f in member.get(
        f"/api/v1/facilities?unit_id={units['XNY-JG']}").json()["items"]] == [facility]
    # Who is missing a check-up: the office's own subtree by default, names included; a
    # member reads the coverage (counts only) but not the names.
    year = today().year
    missing = chair.get(f"/api/v1/checkups/missing?year={year}")
    assert missing.status_code == 200, missing.text
    assert members[FIRST]["id"] in {m["member_id"] for m in missing.json()}
    assert {m["unit_id"] for m in missing.json()} <= {units["XNY-JG"], units["XNY-JG-1"]}
    problem(other_chair.get(f"/api/v1/checkups/missing?year={year}&unit_id="
                            f"{units['XNY-JG']}"), 404)
    problem(member.get(f"/api/v1/checkups/missing?year={year}&unit_id={units['XNY-JG']}"),
            403)
    coverage = member.get(f"/api/v1/checkups/coverage?year={year}&unit_id={units['XNY-JG']}")
    assert coverage.status_code == 200 and coverage.json()["checked"] == 0
    assert "employee_no" not in coverage.text
    figures = chair.get("/api/v1/figures")
    assert figures.status_code == 200 and figures.json()["unit_id"] == units["XNY-JG"]
