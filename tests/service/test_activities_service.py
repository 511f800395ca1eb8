"""The activities service with its database, over the real broker: facilities, recurring
activities on working days, campaigns, check-ups, the actor rule, the audit trail, health,
and the migration matching the models."""

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from gonghui.errors import Conflict, Forbidden, NotFound, ValidationError
from gonghui.migrations import alembic_config
from gonghui.tables import audit_log, outbox
from services.activities.service import ActivitiesService
from services.organization.service import OrganizationService


@pytest.fixture
def directory(start_service, rpc):
    start_service(OrganizationService)
    start_service(ActivitiesService)
    with rpc() as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        yield proxy, units


def table_count(url, table):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(select(func.count()).select_from(table))
    engine.dispose()
    return value


def test_facilities_open_close_and_host_activities(directory):
    proxy, units = directory
    act = proxy.activities
    library = act.open_facility(unit_id=units["XNY-SMGF"], kind="staff_library",
                                name="职工书屋", location="综合楼二层", opened_on="2021-03-01")
    corner = act.open_facility(unit_id=units["XNY-SMGF-1"], kind="reading_corner",
                               name="运行一班读书角", opened_on="2021-04-01")
    act.open_facility(unit_id=units["XNY-QN"], kind="sports_venue", name="羽毛球场",
                      opened_on="2021-04-01")
    listed = act.list_facilities(unit_id=units["XNY-SMGF"])
    assert [f["id"] for f in listed] == [library["id"], corner["id"]]
    assert [f["name"] for f in act.list_facilities(kind="sports_venue")] == ["羽毛球场"]
    with pytest.raises(Conflict):
        act.close_facility(facility_id=corner["id"], closed_on="2021-03-01", reason="早于启用")
    closed = act.close_facility(facility_id=corner["id"], closed_on="2021-09-30",
                                reason="班组搬迁")
    assert (closed["status"], closed["closed_on"]) == ("closed", "2021-09-30")
    with pytest.raises(Conflict):
        act.close_facility(facility_id=corner["id"], reason="again")
    # An activity takes place in a facility that is open that day, and names it.
    reading = act.schedule_activity(kind="reading_session", name="读书会",
                                    organiser_unit_id=units["XNY-SMGF"],
                                    starts_at="2021-05-12T16:00:00",
                                    ends_at="2021-05-12T17:30:00", facility_id=library["id"])
    assert reading["facility_id"] == library["id"]
    with pytest.raises(Conflict):
        act.schedule_activity(kind="reading_session", name="读书会",
                              organiser_unit_id=units["XNY-SMGF"],
                              starts_at="2021-10-12T16:00:00", ends_at="2021-10-12T17:00:00",
                              facility_id=corner["id"])
    with pytest.raises(NotFound):
        act.open_facility(unit_id=999, kind="staff_library", name="x")
    everything = proxy.activities.figures(date_from="2021-01-01", date_to="2021-12-31")
    assert {f["kind"]: (f["open"], f["opened"]) for f in everything["facilities"]} == {
        "sports_venue": (1, 1), "staff_library": (1, 1), "reading_corner": (0, 1),
        "mobile_bookshelf": (0, 0)}


def test_daily_exercise_on_working_days_with_participation(directory, subscribe):
    proxy, units = directory
    act, org = proxy.activities, proxy.organization
    sub = subscribe("activities.events", "participation_recorded")
    plant = units["XNY-SMGF"]
    exercise = act.create_recurring(unit_id=plant, kind="workplace_exercise", name="工间操",
                                    frequency="daily", time_of_day="10:00:00",
                                    starts_on="2021-09-27")
    days = [o["held_on"] for o in act.occurrences(schedule_id=exercise["id"],
                                                  date_from="2021-09-25",
                                                  date_to="2021-10-10")]
    # National Day 2021: 1-7 October off, Saturday 9 October a make-up working day.
    assert days == ["2021-09-27", "2021-09-28", "2021-09-29", "2021-09-30", "2021-10-08",
                    "2021-10-09"]
    crew = [m["id"] for m in org.list_members(unit_id=plant)][:6]
    with pytest.raises(Conflict):
        act.record_participation(schedule_id=exercise["id"], held_on="2021-10-01",
                                 member_ids=crew)
    done = act.record_participation(schedule_id=exercise["id"], held_on="2021-10-09",
                                    member_ids=crew)
    assert (done["added"], done["participants"]) == (6, 6)
    again = act.record_participation(schedule_id=exercise["id"], held_on="2021-10-09",
                                     member_ids=crew[:2])
    assert (again["added"], again["participants"]) == (0, 6)
    outsider = org.list_members(unit_id=units["XNY-QN"])[0]["id"]
    with pytest.raises(Forbidden):
        act.record_participation(schedule_id=exercise["id"], held_on="2021-10-08",
                                 member_ids=[outsider])
    occurrences = act.occurrences(schedule_id=exercise["id"], date_from="2021-10-08",
                                  date_to="2021-10-09")
    assert occurrences == [{"held_on": "2021-10-08", "participants": 0},
                           {"held_on": "2021-10-09", "participants": 6}]
    with pytest.raises(Conflict):
        act.end_recurring(schedule_id=exercise["id"], ends_on="2021-10-08")  # one after it
    ended = act.end_recurring(schedule_id=exercise["id"], ends_on="2021-10-31")
    assert ended["ends_on"] == "2021-10-31"
    figures = act.figures(date_from="2021-10-01", date_to="2021-10-31", unit_id=plant)
    assert figures["units_with_daily_exercise"]["count"] == 1
    assert figures["recurring"] == [{"kind": "workplace_exercise", "schedules": 1,
                                     "occurrences": 1, "participations": 6,
                                     "participants": 6}]
    (message,) = sub.collect(1)
    assert message["body"]["data"]["member_ids"] == sorted(crew)
    assert message["body"]["data"]["unit_ids"] == [plant]
    club = act.create_recurring(unit_id=units["XNY-JG"], kind="reading_club", name="读书会",
                                frequency="weekly", weekday=2, starts_on="2021-09-01")
    assert [o["held_on"] for o in act.occurrences(schedule_id=club["id"],
                                                  date_from="2021-09-27",
                                                  date_to="2021-10-15")] == [
        "2021-09-29", "2021-10-13"]  # 6 October falls in the holiday
    assert [s["id"] for s in act.list_recurring(unit_id=units["XNY"], active_on="2021-11-02")
            ] == [club["id"]]


def test_campaigns_and_checkups(directory):
    proxy, units = directory
    act, org = proxy.activities, proxy.organization
    campaign = act.create_campaign(code="health", name="全民健康", theme="health", year=2022,
                                   organiser_unit_id=units["XNY"],
                                   goals=[{"description": "体检全覆盖",
                                           "metric": "checkup_coverage", "target": 1.0}])
    assert campaign["goals"][0]["metric"] == "checkup_coverage"
    with pytest.raises(Conflict):
        act.create_campaign(code="health", name="again", theme="health", year=2022,
                            organiser_unit_id=units["XNY"])
    with pytest.raises(Conflict):  # an activity outside its campaign's year
        act.schedule_activity(campaign_id=campaign["id"], kind="lecture", name="讲座",
                              organiser_unit_id=units["XNY"], starts_at="2023-01-05T09:00:00",
                              ends_at="2023-01-05T10:00:00")
    with pytest.raises(NotFound):
        act.get_campaign(campaign_id=999)
    members = org.list_members(limit=5000)
    for member in members[:51]:
        act.record_checkup(member_id=member["id"], checked_on="2022-05-09", provider="职工医院")
    with pytest.raises(Conflict):
        act.record_checkup(member_id=members[0]["id"], checked_on="2022-09-01", provider="x")
    with pytest.raises(ValidationError):  # dates and providers only: nothing medical
        act.record_checkup(member_id=members[60]["id"], checked_on="2022-05-09",
                           provider="职工医院", result="正常")
    with pytest.raises(ValidationError):
        act.record_checkup(member_id=members[60]["id"], checked_on="2099-01-01", provider="x")
    progress = act.campaign_progress(campaign_id=campaign["id"], as_of="2022-12-31")
    assert progress["goals"][0]["actual"] == round(51 / len(members), 4)
    assert progress["goals_met"] == 0
    assert [c["code"] for c in act.list_campaigns(year=2022, theme="health")] == ["health"]


def test_writes_need_an_actor_and_everything_is_audited(directory, rpc, databases):
    proxy, units = directory
    with rpc(actor=None) as anonymous:
        with pytest.raises(Forbidden):
            anonymous.activities.open_facility(unit_id=units["XNY"], kind="sports_venue",
                                               name="x")
        assert anonymous.activities.list_facilities() == []
        assert anonymous.activities.directory_status()["members"] > 0
    proxy.activities.open_facility(unit_id=units["XNY"], kind="sports_venue", name="篮球场")
    proxy.activities.tick(as_of="2021-10-08")  # a reminder per unit: everyone is missing one
    url = databases["activities"]
    assert table_count(url, audit_log) == table_count(url, outbox) > 5


def test_health_and_migration(start_service, rpc, migrated_databases):
    start_service(ActivitiesService)
    with rpc() as proxy:
        report = proxy.activities.health()
    assert report["status"] == "ok" and report["outbox"]["backlog"] == 0
    # Raises AutoGenerateDiffsDetected when a model changed without a migration.
    command.check(alembic_config("activities", migrated_databases["activities"]))
