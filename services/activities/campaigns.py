"""Campaigns: the all-staff campaigns of a year — health (全民健康), fitness (全民健身),
reading (全民阅读) — and their goals, measured from the data.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)`` and ``work.actor()``.
"""

from gonghui import directory
from gonghui.errors import Conflict
from services.activities import events, figures, payloads, queries, rules
from services.activities.models import Campaign, Goal

GOAL_PARAMS = ("facility_kinds", "activity_kinds", "topic", "union_level")


def goal_out(goal):
    return {"id": goal.id, "description": goal.description, "metric": goal.metric,
            "target": float(goal.target), "params": goal.params}


def campaign_out(session, campaign):
    return {**{c: getattr(campaign, c) for c in ("id", "code", "name", "theme", "year",
                                                 "organiser_unit_id", "description")},
            "goals": [goal_out(g) for g in queries.campaign_goals(session, campaign.id)]}


def _add_goal(session, campaign, goal):
    row = Goal(campaign_id=campaign.id, description=goal["description"],
               metric=goal["metric"], target=goal["target"],
               params={k: goal[k] for k in GOAL_PARAMS if goal.get(k)})
    session.add(row)
    return row


def create_campaign(work, code, name, theme, year, organiser_unit_id, description, goals):
    directory.unit(work.db, organiser_unit_id, "organiser_unit_id")
    if queries.campaign_code_taken(work.db, code, year):
        raise Conflict(f"campaign {code} of {year} exists", {"code": ["already used"]})
    campaign = Campaign(code=code, name=name, theme=theme, year=year,
                        organiser_unit_id=organiser_unit_id, description=description)
    work.db.add(campaign)
    work.db.flush()
    for goal in goals:
        _add_goal(work.db, campaign, goal)
    work.db.flush()
    work.emit(events.CAMPAIGN_CREATED, payloads.campaign_data(work.db, campaign),
              ("campaign", campaign.id))
    return campaign_out(work.db, campaign)


def add_goal(work, campaign_id, goal):
    campaign = queries.campaign(work.db, campaign_id)
    row = _add_goal(work.db, campaign, goal)
    work.db.flush()
    work.emit(events.CAMPAIGN_GOAL_ADDED, payloads.campaign_data(work.db, campaign),
              ("campaign", campaign.id), changes={"goal_added": goal_out(row)})
    return campaign_out(work.db, campaign)


def get_campaign(work, campaign_id):
    return campaign_out(work.db, queries.campaign(work.db, campaign_id))


def list_campaigns(work, year, theme, limit, offset):
    return queries.campaigns(work.db, year, theme, limit, offset).map(
        lambda campaign: campaign_out(work.db, campaign))


def progress(work, campaign_id, as_of):
    """Each goal measured over the campaign's year up to ``as_of``, in the organiser
    unit's subtree."""
    session = work.db
    campaign = queries.campaign(session, campaign_id)
    date_from, date_to = figures.campaign_period(campaign.year, as_of)
    measured_to = max(date_from, date_to)
    unit_ids = directory.subtree_ids(session, campaign.organiser_unit_id)
    goals = []
    for goal in queries.campaign_goals(session, campaign.id):
        actual = figures.measure_goal(session, campaign, goal, unit_ids, date_from,
                                      measured_to)
        goals.append({**goal_out(goal),
                      **rules.goal_result(goal.metric, float(goal.target), actual)})
    held, people = figures.campaign_activity_counts(session, campaign.id, date_from,
                                                    measured_to)
    return {"campaign_id": campaign.id, "name": campaign.name, "year": campaign.year,
            "date_from": date_from, "date_to": date_to,
            "unit_id": campaign.organiser_unit_id, "activities_held": held,
            "participants": people, "goals": goals,
            "goals_met": sum(1 for g in goals if g["met"])}
