"""The data of the activities service's events (its public contract: ``events.py``), built
from the rows: ids *and* names, so a consumer acts without calling back."""

from gonghui import directory
from services.activities import queries
from services.activities.models import Campaign, Facility


def money(value):
    """An amount in yuan as the events write it: a string with two decimals."""
    return None if value is None else f"{value:.2f}"


def campaign_data(session, campaign):
    return {"campaign_id": campaign.id, "code": campaign.code, "name": campaign.name,
            "theme": campaign.theme, "year": campaign.year,
            "organiser_unit_id": campaign.organiser_unit_id,
            "organiser_unit_name": directory.unit_name(session, campaign.organiser_unit_id)
            or "",
            "goals": [{"goal_id": g.id, "description": g.description, "metric": g.metric,
                       "target": float(g.target)}
                      for g in queries.campaign_goals(session, campaign.id)]}


def facility_data(session, facility, reason=None):
    return {"facility_id": facility.id, "name": facility.name, "kind": facility.kind,
            "unit_id": facility.unit_id,
            "unit_name": directory.unit_name(session, facility.unit_id),
            "location": facility.location, "opened_on": facility.opened_on,
            "closed_on": facility.closed_on, "reason": reason}


def activity_ref(session, activity):
    """What every event about an activity says of it (``events.ActivityRef``)."""
    campaign = session.get(Campaign, activity.campaign_id) if activity.campaign_id else None
    facility = session.get(Facility, activity.facility_id) if activity.facility_id else None
    return {"activity_id": activity.id, "activity_name": activity.name,
            "kind": activity.kind, "topic": activity.topic,
            "campaign_id": activity.campaign_id,
            "campaign_name": campaign.name if campaign else None,
            "organiser_unit_id": activity.organiser_unit_id,
            "organiser_unit_name": directory.unit_name(session, activity.organiser_unit_id)
            or "",
            "starts_at": activity.starts_at, "ends_at": activity.ends_at,
            "held_on": activity.held_on,
            "place": activity.place or (facility.location if facility else None),
            "facility_id": activity.facility_id,
            "facility_name": facility.name if facility else None}


def activity_data(session, activity):
    """``activity_scheduled``: the reference and who may come."""
    return {**activity_ref(session, activity), "capacity": activity.capacity,
            "audience": activity.audience, "audience_unit_id": activity.audience_unit_id,
            "audience_role": activity.audience_role}


def signup_data(session, activity, signup, member, position=None):
    return {**activity_ref(session, activity), "member_id": member.member_id,
            "member_name": member.name, "unit_id": member.unit_id,
            "unit_name": directory.unit_name(session, member.unit_id),
            "status": signup.status, "waitlist_position": position}


def schedule_data(session, schedule):
    campaign = session.get(Campaign, schedule.campaign_id) if schedule.campaign_id else None
    return {"schedule_id": schedule.id, "name": schedule.name, "kind": schedule.kind,
            "unit_id": schedule.unit_id,
            "unit_name": directory.unit_name(session, schedule.unit_id),
            "campaign_id": schedule.campaign_id,
            "campaign_name": campaign.name if campaign else None,
            "frequency": schedule.frequency, "weekday": schedule.weekday,
            "time_of_day": schedule.time_of_day, "starts_on": schedule.starts_on,
            "ends_on": schedule.ends_on, "place": schedule.place}


def participation_data(session, schedule, held_on, member_ids, unit_of):
    return {"schedule_id": schedule.id, "name": schedule.name, "kind": schedule.kind,
            "unit_id": schedule.unit_id,
            "unit_name": directory.unit_name(session, schedule.unit_id),
            "held_on": held_on, "member_ids": sorted(member_ids),
            "unit_ids": sorted({unit_of[m] for m in member_ids})}


def checkup_data(session, checkup, member):
    return {"checkup_id": checkup.id, "member_id": member.member_id,
            "member_name": member.name, "unit_id": member.unit_id,
            "unit_name": directory.unit_name(session, member.unit_id),
            "year": checkup.year, "checked_on": checkup.checked_on,
            "provider": checkup.provider}
