"""Attendance and recurring sessions: who attended an activity (what the figures count,
never the sign-ups), and a unit's recurring activities — daily workplace exercise (工间操),
a weekly reading club — meeting on working days only, with who took part in each session.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()`` and ``work.calendar`` (the
working-day calendar).
"""

from datetime import timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert

from gonghui import directory
from gonghui.clock import today
from gonghui.errors import Conflict, ValidationError
from services.activities import activities, events, facilities, payloads, queries, rules, tree
from services.activities.models import Attendance, Participation, RecurringSchedule

MAX_OCCURRENCE_DAYS = 400


def _insert_new(session, model, rows):
    """Insert the rows not there yet; the member ids of those added."""
    return session.scalars(pg_insert(model).values(rows).on_conflict_do_nothing()
                           .returning(model.member_id)).all()


# ------------------------------------------------------------------ attendance


def _attended(session, activity_id):
    return queries.activity_counts(session, [activity_id])[activity_id]["attended"]


def record_attendance(work, activity_id, member_ids):
    session = work.db
    activity = queries.activity(session, activity_id, lock=True)
    activities.check_step(session, activity, "record_attendance")
    if activity.held_on > today():
        raise Conflict("the activity has not taken place yet",
                       {"activity_id": [f"held on {activity.held_on}"]})
    member_ids = sorted(set(member_ids))
    facts = activities.check_audience(session, activity, member_ids, "member_ids")
    added = _insert_new(session, Attendance, [
        {"activity_id": activity.id, "member_id": m, "member_unit_id": facts[m].unit_id,
         "organiser_unit_id": activity.organiser_unit_id,
         "campaign_id": activity.campaign_id, "kind": activity.kind,
         "held_on": activity.held_on} for m in member_ids])
    if added:
        work.emit(events.ATTENDANCE_RECORDED, {
            **payloads.activity_ref(session, activity), "member_ids": sorted(added),
            "unit_ids": sorted({facts[m].unit_id for m in added}),
            "attended": _attended(session, activity.id)},
            ("activity", activity.id), changes={"attended": sorted(added)})
    return {"activity_id": activity.id, "added": len(added),
            "attended": _attended(session, activity.id)}


def list_attendance(work, activity_id):
    return queries.attendance(work.db, queries.activity(work.db, activity_id).id)


# ------------------------------------------------------------------ recurring sessions


def create_recurring(work, unit_id, campaign_id, kind, name, frequency, weekday, time_of_day,
                     starts_on, ends_on, place, facility_id):
    tree.open_unit(work.db, unit_id, starts_on)
    queries.campaign(work.db, campaign_id)
    facilities.open_on(work.db, facility_id, starts_on)
    schedule = RecurringSchedule(unit_id=unit_id, campaign_id=campaign_id, kind=kind,
                                 name=name, frequency=frequency, weekday=weekday,
                                 time_of_day=time_of_day, starts_on=starts_on,
                                 ends_on=ends_on, place=place, facility_id=facility_id)
    work.db.add(schedule)
    work.db.flush()
    work.emit(events.RECURRING_SCHEDULE_CREATED, payloads.schedule_data(work.db, schedule),
              ("recurring_schedule", schedule.id))
    return schedule


def end_recurring(work, schedule_id, ends_on):
    schedule = queries.schedule(work.db, schedule_id)
    rules.check_schedule_end(schedule.starts_on, schedule.ends_on, ends_on)
    if queries.participation_after(work.db, schedule.id, ends_on):
        raise Conflict("participation is recorded after that day", {"ends_on": ["too early"]})
    schedule.ends_on = ends_on
    work.emit(events.RECURRING_SCHEDULE_ENDED, payloads.schedule_data(work.db, schedule),
              ("recurring_schedule", schedule.id))
    return schedule


def get_recurring(work, schedule_id):
    return queries.schedule(work.db, schedule_id)


def list_recurring(work, unit_id, kind, active_on, limit, offset):
    unit_ids = None
    if unit_id:
        directory.unit(work.db, unit_id)
        unit_ids = directory.subtree_ids(work.db, unit_id)
    return queries.schedules(work.db, unit_ids, kind, active_on, limit, offset)


def occurrences(work, schedule_id, date_from, date_to):
    """The days the schedule meets in the period (default: the 31 days up to today) and
    how many took part in each."""
    schedule = queries.schedule(work.db, schedule_id)
    date_to = date_to or today()
    date_from = date_from or date_to - timedelta(days=30)
    if (date_to - date_from).days > MAX_OCCURRENCE_DAYS:
        raise ValidationError(f"at most {MAX_OCCURRENCE_DAYS} days at once",
                              {"date_to": ["period too long"]})
    days = rules.occurrences(schedule.frequency, schedule.weekday, schedule.starts_on,
                             schedule.ends_on, date_from, date_to,
                             work.calendar.is_working_day)
    counts = queries.participants_per_day(work.db, schedule.id, date_from, date_to)
    return [{"held_on": d, "participants": counts.get(d, 0)} for d in days]


def record_participation(work, schedule_id, held_on, member_ids):
    session = work.db
    schedule = queries.schedule(session, schedule_id)
    if not rules.is_occurrence(schedule.frequency, schedule.weekday, schedule.starts_on,
                               schedule.ends_on, held_on, work.calendar.is_working_day):
        raise Conflict(f"the schedule does not meet on {held_on}",
                       {"held_on": ["not a session day (working days only)"]})
    if held_on > today():
        raise Conflict("the session has not taken place yet", {"held_on": ["in the future"]})
    member_ids = sorted(set(member_ids))
    audience = rules.Audience("subtree", frozenset(
        directory.subtree_ids(session, schedule.unit_id)), label="the organising unit")
    facts = activities.members_in_audience(session, audience, member_ids, held_on,
                                           "member_ids", "the schedule's audience")
    added = _insert_new(session, Participation, [
        {"schedule_id": schedule.id, "held_on": held_on, "member_id": m,
         "member_unit_id": facts[m].unit_id, "organiser_unit_id": schedule.unit_id,
         "campaign_id": schedule.campaign_id, "kind": schedule.kind}
        for m in member_ids])
    if added:
        work.emit(events.PARTICIPATION_RECORDED, payloads.participation_data(
            session, schedule, held_on, added, {m: facts[m].unit_id for m in added}),
            ("recurring_schedule", schedule.id))
    return {"schedule_id": schedule.id, "held_on": held_on, "added": len(added),
            "participants": queries.participants_on(session, schedule.id, held_on)}
