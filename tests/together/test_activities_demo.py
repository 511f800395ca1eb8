"""The article's figures reproduced from the demo data, over the real broker and database:
organization's demo loaded first, the activities service learning the directory from
organization's events, then the activities demo loaded through RPC; every event it emitted
seen once by a plain AMQP subscriber and conforming to the published contract."""

import time

import pytest
from sqlalchemy import create_engine, text

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from deploy.docs import asyncapi_document, envelope_errors
from services.activities.service import ActivitiesService
from services.organization.service import OrganizationService


@pytest.fixture
def demo(start_service, rpc, subscribe):
    sub = subscribe("activities.events")
    start_service(OrganizationService)
    start_service(ActivitiesService)
    with rpc() as proxy:
        load_organization(proxy)
        # The directory arrives by events; no resync (that is a fallback for operators).
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        result = demo_activities.load_demo(proxy)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        yield proxy, result, units, sub


def outbox_ids(url, timeout=30):
    """Ids of every event written, once the relay has published them all."""
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT event_id::text, published_at FROM outbox")).all()
            if all(r.published_at for r in rows) or time.monotonic() > deadline:
                return [r.event_id for r in rows]
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_the_demo_reproduces_the_article(demo):
    proxy, result, units, _ = demo
    assert result["created"]
    act = proxy.activities
    figures = act.figures(date_from="2021-01-01", date_to=demo_activities.ARTICLE_DATE.isoformat())
    assert figures["headline"] == demo_activities.ARTICLE_FIGURES
    # What stands behind the headline: attendance-based counts per campaign and kind.
    kinds = {(r["campaign_name"], r["kind"]): r["activities"] for r in figures["activities"]}
    assert kinds[("全民健身", "match")] + kinds[("全民健身", "fitness_event")] == 14
    assert kinds[("全民健康", "womens_health")] == 5
    assert kinds[(None, "youth_mixer")] == 1
    assert figures["donations"] == {"drives": 1, "amount_raised": "36800.00"}
    # The walk called off for the weather had sign-ups but counts for nothing.
    assert "秋季健步走" not in [a["name"] for a in act.list_activities(
        status="scheduled", limit=5000)]
    # Teams (union groups) with no members of their own and nothing organised are listed.
    idle = {u["unit_id"] for u in figures["units_without_activity"]}
    assert idle == {units[t] for t in demo_activities.TEAMS}
    # Loading again changes nothing.
    assert demo_activities.load_demo(proxy) == {"created": False}
    assert act.figures(date_from="2021-01-01",
                       date_to=demo_activities.ARTICLE_DATE.isoformat()) == figures


def test_campaign_goals_are_measured(demo):
    proxy, _, units, _ = demo
    act = proxy.activities
    campaigns = {c["code"]: c for c in act.list_campaigns(year=2021)}
    assert set(campaigns) == {"health", "fitness", "reading"}
    for campaign in campaigns.values():
        progress = act.campaign_progress(campaign_id=campaign["id"], as_of="2021-08-30")
        assert progress["goals_met"] == len(campaign["goals"]), progress
    # Early in the year the same goals are measured as not yet met.
    early = act.campaign_progress(campaign_id=campaigns["reading"]["id"], as_of="2021-03-01")
    corners = next(g for g in early["goals"] if g["metric"] == "units_with_facility")
    assert not corners["met"] and corners["actual"] < 1
    # A goal added later is measured too: a mobile bookshelf in every grassroots union
    # (only those with frontline teams have one).
    added = act.add_goal(campaign_id=campaigns["reading"]["id"],
                         description="每个基层工会配备流动书架", metric="units_with_facility",
                         target=1.0, facility_kinds=["mobile_bookshelf"])
    progress = act.campaign_progress(campaign_id=added["id"], as_of="2021-12-31")
    shelves = progress["goals"][-1]
    assert (shelves["met"], shelves["actual"]) == (False, round(4 / 7, 4))


def test_figures_for_a_subtree_and_coverage(demo):
    proxy, _, units, _ = demo
    act = proxy.activities
    plant = act.figures(date_from="2021-01-01", date_to="2021-12-31", unit_id=units["XNY-SMGF"])
    assert plant["unit_name"] == "神木光伏电站" and plant["units"] == 3
    assert plant["headline"]["sports_venues"] == 3
    assert plant["headline"]["mobile_bookshelves"] == 3
    assert plant["units_with_daily_exercise"]["units"] == [
        {"unit_id": units["XNY-SMGF"], "unit_name": "神木光伏电站"}]
    assert plant["checkups"] == {"members": 12, "checked": 12, "coverage": 1.0}
    whole = act.figures(date_from="2021-01-01", date_to="2021-12-31")
    assert whole["totals"]["activities"] > plant["totals"]["activities"] > 0
    coverage = act.checkup_coverage(year=2021)
    assert coverage["coverage"] == 1.0 and coverage["members"] == 102
    assert {u["coverage"] for u in coverage["by_unit"]} == {1.0}
    assert act.checkup_coverage(year=2022)["checked"] == 0


def test_a_plain_subscriber_sees_every_event_once_and_each_conforms(demo, databases):
    proxy, _, _, sub = demo
    written = outbox_ids(databases["activities"])
    assert len(written) > 300
    seen = sub.collect(len(written))
    ids = [m["body"]["id"] for m in seen]
    assert len(ids) == len(set(ids)) and set(ids) == set(written)
    document = asyncapi_document()
    types = set()
    for message in seen:
        body = message["body"]
        assert envelope_errors(body, document) == [], body["type"]
        assert message["routing_key"] == body["type"].split(".", 1)[1]
        assert message["properties"]["message_id"] == body["id"]
        types.add(body["type"])
    assert {"activities.campaign_created", "activities.facility_opened",
            "activities.facility_closed", "activities.activity_scheduled",
            "activities.activity_cancelled", "activities.signup_confirmed",
            "activities.signup_waitlisted", "activities.signup_cancelled",
            "activities.signup_promoted", "activities.attendance_recorded",
            "activities.amount_raised_recorded", "activities.recurring_schedule_created",
            "activities.participation_recorded", "activities.checkup_recorded"} <= types
    checkup = next(m["body"]["data"] for m in seen
                   if m["body"]["type"] == "activities.checkup_recorded")
    assert set(checkup) == {"checkup_id", "member_id", "member_name", "unit_id", "unit_name",
                            "year", "checked_on", "provider"}  # nothing medical
