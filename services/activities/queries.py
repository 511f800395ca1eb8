"""The activities service's questions to its database: look-ups, lists and counts (the
figures, one scan each, are in ``figures.py``; the tree's read model in ``tree.py``)."""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from gonghui.errors import NotFound, get_or_not_found
from gonghui.paging import select_page
from services.activities.models import (
    Activity,
    Attendance,
    Campaign,
    Checkup,
    CheckupReminder,
    Facility,
    Goal,
    Participation,
    RecurringSchedule,
    Signup,
    UpcomingNotice,
)


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


# ------------------------------------------------------------------ campaigns


def campaign(session, campaign_id, field="campaign_id"):
    """The campaign, else ``NotFound``; None for None (no campaign named)."""
    if campaign_id is None:
        return None
    return get_or_not_found(session, Campaign, campaign_id, "campaign", field)


def campaign_code_taken(session, code, year):
    return session.scalar(select(Campaign.id).where(Campaign.code == code,
                                                    Campaign.year == year)) is not None


def campaign_goals(session, campaign_id):
    return session.scalars(select(Goal).where(Goal.campaign_id == campaign_id)
                           .order_by(Goal.id)).all()


def campaigns(session, year, theme, limit, offset):
    query = select(Campaign).order_by(Campaign.year, Campaign.id)
    if year:
        query = query.where(Campaign.year == year)
    if theme:
        query = query.where(Campaign.theme == theme)
    return select_page(session, query, limit, offset)


# ------------------------------------------------------------------ facilities


def facilities(session, unit_ids, kind, status, limit, offset):
    query = select(Facility).order_by(Facility.id)
    if unit_ids is not None:
        query = query.where(Facility.unit_id.in_(unit_ids))
    if kind:
        query = query.where(Facility.kind == kind)
    if status:
        query = query.where(Facility.status == status)
    return select_page(session, query, limit, offset)


# ------------------------------------------------------------------ activities and sign-ups


def activity(session, activity_id, lock=False):
    """The activity, else ``NotFound``. Locked, sign-ups of one activity queue here:
    capacity is counted under the lock, so concurrent sign-ups are confirmed in arrival
    order and never overbook."""
    query = select(Activity).where(Activity.id == activity_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"activity {activity_id} not found", {"activity_id": ["not found"]})
    return found


def activities(session, date_from, date_to, campaign_id, kind, unit_ids, status, limit,
               offset):
    query = select(Activity).order_by(Activity.starts_at, Activity.id)
    if campaign_id:
        query = query.where(Activity.campaign_id == campaign_id)
    if kind:
        query = query.where(Activity.kind == kind)
    if unit_ids is not None:
        query = query.where(Activity.organiser_unit_id.in_(unit_ids))
    if status:
        query = query.where(Activity.status == status)
    if date_from:
        query = query.where(Activity.held_on >= date_from)
    if date_to:
        query = query.where(Activity.held_on <= date_to)
    return select_page(session, query, limit, offset)


def activity_counts(session, activity_ids):
    """``{activity_id: {confirmed, waitlisted, attended}}``."""
    counts = defaultdict(lambda: {"confirmed": 0, "waitlisted": 0, "attended": 0})
    for activity_id, status, n in session.execute(
            select(Signup.activity_id, Signup.status, func.count())
            .where(Signup.activity_id.in_(activity_ids))
            .group_by(Signup.activity_id, Signup.status)):
        if status in ("confirmed", "waitlisted"):
            counts[activity_id][status] = n
    for activity_id, n in session.execute(
            select(Attendance.activity_id, func.count())
            .where(Attendance.activity_id.in_(activity_ids))
            .group_by(Attendance.activity_id)):
        counts[activity_id]["attended"] = n
    return counts


def attended(session, activity_id):
    """Whether attendance is recorded: the activity took place."""
    return bool(_count(session, Attendance, Attendance.activity_id == activity_id))


def attendance(session, activity_id):
    return session.scalars(select(Attendance).where(Attendance.activity_id == activity_id)
                           .order_by(Attendance.member_id)).all()


def signup(session, activity_id, member_id):
    return session.scalar(select(Signup).where(Signup.activity_id == activity_id,
                                               Signup.member_id == member_id))


def signed_up(session, activity_id):
    """Confirmed and waiting sign-ups, in arrival order."""
    return session.scalars(select(Signup).where(
        Signup.activity_id == activity_id,
        Signup.status.in_(("confirmed", "waitlisted"))).order_by(Signup.seq)).all()


def member_signups(session, member_id, limit, offset):
    """A member's confirmed and waiting sign-ups, the latest activity first, each with its
    place on the waiting list (how many waiting signed up before it, plus one)."""
    earlier = aliased(Signup)
    ahead = select(func.count()).where(
        earlier.activity_id == Signup.activity_id, earlier.status == "waitlisted",
        earlier.seq < Signup.seq).scalar_subquery()
    query = (select(Signup, Activity, ahead).join(Activity, Activity.id == Signup.activity_id)
             .where(Signup.member_id == member_id,
                    Signup.status.in_(("confirmed", "waitlisted")))
             .order_by(Activity.starts_at.desc(), Signup.id))
    return select_page(session, query, limit, offset, fetch="execute")


def confirmed(session, activity_id):
    return _count(session, Signup, Signup.activity_id == activity_id,
                  Signup.status == "confirmed")


def confirmed_member_ids(session, activity_id):
    return session.scalars(select(Signup.member_id).where(
        Signup.activity_id == activity_id, Signup.status == "confirmed")
        .order_by(Signup.seq)).all()


def first_waitlisted(session, activity_id):
    return session.scalar(select(Signup).where(
        Signup.activity_id == activity_id, Signup.status == "waitlisted")
        .order_by(Signup.seq).limit(1))


def waitlist_position(session, activity_id, seq):
    return _count(session, Signup, Signup.activity_id == activity_id,
                  Signup.status == "waitlisted", Signup.seq <= seq)


def upcoming_without_notice(session, as_of):
    """Scheduled activities of the next two weeks (which cover any run of holidays before
    them) whose reminder has not been sent."""
    return session.scalars(select(Activity).where(
        Activity.status == "scheduled", Activity.held_on > as_of,
        Activity.held_on <= as_of + timedelta(days=15),
        Activity.id.notin_(select(UpcomingNotice.activity_id)))
        .order_by(Activity.held_on, Activity.id)).all()


# ------------------------------------------------------------------ recurring sessions


def schedule(session, schedule_id):
    return get_or_not_found(session, RecurringSchedule, schedule_id, "schedule")


def schedules(session, unit_ids, kind, active_on, limit, offset):
    query = select(RecurringSchedule).order_by(RecurringSchedule.id)
    if unit_ids is not None:
        query = query.where(RecurringSchedule.unit_id.in_(unit_ids))
    if kind:
        query = query.where(RecurringSchedule.kind == kind)
    if active_on:
        query = query.where(RecurringSchedule.starts_on <= active_on,
                            (RecurringSchedule.ends_on.is_(None))
                            | (RecurringSchedule.ends_on >= active_on))
    return select_page(session, query, limit, offset)


def participation_after(session, schedule_id, day):
    """Whether participation is recorded in a session after ``day``."""
    return bool(_count(session, Participation, Participation.schedule_id == schedule_id,
                       Participation.held_on > day))


def participants_per_day(session, schedule_id, date_from, date_to):
    return dict(session.execute(
        select(Participation.held_on, func.count()).where(
            Participation.schedule_id == schedule_id,
            Participation.held_on.between(date_from, date_to))
        .group_by(Participation.held_on)).all())


def participants_on(session, schedule_id, held_on):
    return _count(session, Participation, Participation.schedule_id == schedule_id,
                  Participation.held_on == held_on)


# ------------------------------------------------------------------ check-ups


def checkup_recorded(session, member_id, year):
    return session.scalar(select(Checkup.id).where(Checkup.member_id == member_id,
                                                   Checkup.year == year)) is not None


def checked(session, year, member_ids=None):
    """Members (of ``member_ids``; all when None) with the year's check-up."""
    query = select(Checkup.member_id).where(Checkup.year == year)
    if member_ids is not None:
        query = query.where(Checkup.member_id.in_(member_ids))
    return set(session.scalars(query))


def reminded_of_checkup(session, year):
    return set(session.scalars(select(CheckupReminder.member_id).where(
        CheckupReminder.year == year)))
