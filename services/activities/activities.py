"""Activities and sign-ups: an activity — lecture, match, charity visit, donation drive
(爱心募捐), reading session, women workers' health activity (女职工健康活动)… — organised by a
unit for an audience, with places confirmed in arrival order and a waiting list beyond its
capacity; the reminder the working day before it.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()`` and ``work.calendar`` (the
working-day calendar).
"""

from datetime import UTC, datetime

from gonghui import directory
from gonghui.actor import SYSTEM_TICK, require_self
from gonghui.clock import CHINA
from gonghui.errors import Conflict, Forbidden, NotFound
from services.activities import events, facilities, payloads, queries, rules, tree
from services.activities.models import Activity, Signup, UpcomingNotice


def activity_out(session, activity, counts=None):
    counts = counts if counts is not None else queries.activity_counts(session, [activity.id])
    return {**{c.key: getattr(activity, c.key) for c in Activity.__table__.columns
               if c.key != "next_seq"}, **counts[activity.id]}


def check_step(session, activity, step):
    """Refuse ``step`` unless the activity's state allows it (``rules.ACTIVITY_FLOW``)."""
    attended = activity.status != "cancelled" and queries.attended(session, activity.id)
    rules.check_activity_step(rules.activity_state(activity.status, attended), step)


def members_in_audience(session, audience, member_ids, day, field, refused_as):
    """The members' facts on ``day`` (``rules.MemberFacts``), once each is known
    (``NotFound``) and in the audience (``Forbidden``, saying why), named under ``field``."""
    facts = tree.member_facts(session, member_ids, day)
    missing = sorted(set(member_ids) - set(facts))
    if missing:
        raise NotFound("unknown members", {field: [f"member {m} is not in the directory"
                                                   for m in missing]})
    refused = {m: rules.audience_refusal(audience, facts[m], day) for m in member_ids}
    refused = {m: why for m, why in refused.items() if why}
    if refused:
        raise Forbidden(f"not in {refused_as}",
                        {field: [f"member {m}: {why}" for m, why in sorted(refused.items())]})
    return facts


def check_audience(session, activity, member_ids, field):
    return members_in_audience(session, _audience(session, activity), member_ids,
                               activity.held_on, field, "the activity's audience")


def _audience(session, activity):
    unit_ids, label = None, ""
    if activity.audience_unit_id is not None:
        unit_ids = frozenset(directory.subtree_ids(session, activity.audience_unit_id))
        label = (directory.unit_name(session, activity.audience_unit_id)
                 or f"unit {activity.audience_unit_id}")
    return rules.Audience(activity.audience, unit_ids, activity.audience_role, label)


def _check_self_service(work, member):
    """A member acting for themselves may only sign themselves up or off."""
    require_self(work.actor(), member.employee_no)


# ------------------------------------------------------------------ activities


def schedule_activity(work, campaign_id, kind, topic, name, description, organiser_unit_id,
                      starts_at, ends_at, place, facility_id, capacity, audience,
                      audience_unit_id, audience_role):
    held_on = starts_at.astimezone(CHINA).date()
    tree.open_unit(work.db, organiser_unit_id, held_on, "organiser_unit_id")
    directory.unit(work.db, audience_unit_id, "audience_unit_id")
    campaign = queries.campaign(work.db, campaign_id)
    if campaign is not None and campaign.year != held_on.year:
        raise Conflict("the activity is not in its campaign's year",
                       {"starts_at": [f"not in {campaign.year}"]})
    facilities.open_on(work.db, facility_id, held_on)
    activity = Activity(campaign_id=campaign_id, kind=kind, topic=topic, name=name,
                        description=description, organiser_unit_id=organiser_unit_id,
                        starts_at=starts_at, ends_at=ends_at, held_on=held_on, place=place,
                        facility_id=facility_id, capacity=capacity, audience=audience,
                        audience_unit_id=audience_unit_id, audience_role=audience_role,
                        status="scheduled", next_seq=0)
    work.db.add(activity)
    work.db.flush()
    work.emit(events.ACTIVITY_SCHEDULED, payloads.activity_data(work.db, activity),
              ("activity", activity.id))
    return activity_out(work.db, activity)


def cancel_activity(work, activity_id, reason):
    activity = queries.activity(work.db, activity_id, lock=True)
    check_step(work.db, activity, "cancel")
    activity.status, activity.cancel_reason = "cancelled", reason
    signed = [s.member_id for s in queries.signed_up(work.db, activity.id)]
    units = tree.units_of(work.db, signed)
    work.emit(events.ACTIVITY_CANCELLED, {
        **payloads.activity_ref(work.db, activity), "reason": reason,
        "recipient_member_ids": signed,
        "recipient_unit_ids": sorted({units[m] for m in signed if m in units})},
        ("activity", activity.id))
    return activity_out(work.db, activity)


def get_activity(work, activity_id):
    return activity_out(work.db, queries.activity(work.db, activity_id))


def list_activities(work, date_from, date_to, campaign_id, kind, unit_id, status, limit,
                    offset):
    unit_ids = None
    if unit_id:
        directory.unit(work.db, unit_id)
        unit_ids = directory.subtree_ids(work.db, unit_id)
    rows = queries.activities(work.db, date_from, date_to, campaign_id, kind, unit_ids, status,
                              limit, offset)
    counts = queries.activity_counts(work.db, [a.id for a in rows])
    return rows.map(lambda found: activity_out(work.db, found, counts))


def record_amount_raised(work, activity_id, amount_raised):
    activity = queries.activity(work.db, activity_id, lock=True)
    if activity.kind != "donation_drive":
        raise Conflict("only a donation drive raises money", {"activity_id": ["not a drive"]})
    check_step(work.db, activity, "record_amount_raised")
    old = activity.amount_raised
    activity.amount_raised = amount_raised
    work.emit(events.AMOUNT_RAISED_RECORDED, {
        **payloads.activity_ref(work.db, activity),
        "amount_raised": payloads.money(amount_raised)},
        ("activity", activity.id),
        changes={"amount_raised": [payloads.money(old), payloads.money(amount_raised)]})
    return activity_out(work.db, activity)


# ------------------------------------------------------------------ sign-ups


def _signup_out(session, signup, member, position=None):
    return {"activity_id": signup.activity_id, "member_id": member.member_id,
            "member_name": member.name, "unit_id": member.unit_id, "status": signup.status,
            "seq": signup.seq, "waitlist_position": position,
            "signed_up_at": signup.signed_up_at}


def sign_up(work, activity_id, member_id):
    session = work.db
    activity = queries.activity(session, activity_id, lock=True)
    check_step(session, activity, "sign_up")
    member = directory.member(session, member_id)
    _check_self_service(work, member)
    check_audience(session, activity, [member.member_id], "member_id")
    signup = queries.signup(session, activity.id, member.member_id)
    rules.check_signup_step(signup.status if signup is not None else None, "sign_up")
    status = rules.signup_status(activity.capacity, queries.confirmed(session, activity.id))
    activity.next_seq += 1
    now = datetime.now(UTC)
    if signup is None:  # a member who cancelled and comes back goes to the end
        signup = Signup(activity_id=activity.id, member_id=member.member_id, signed_up_at=now)
        session.add(signup)
    signup.seq, signup.status, signup.signed_up_at, signup.changed_at = (
        activity.next_seq, status, now, now)
    session.flush()
    position = (queries.waitlist_position(session, activity.id, signup.seq)
                if status == "waitlisted" else None)
    declared = events.SIGNUP_CONFIRMED if status == "confirmed" else events.SIGNUP_WAITLISTED
    work.emit(declared, payloads.signup_data(session, activity, signup, member, position),
              ("activity", activity.id))
    return _signup_out(session, signup, member, position)


def cancel_signup(work, activity_id, member_id):
    session = work.db
    activity = queries.activity(session, activity_id, lock=True)
    member = directory.member(session, member_id)
    _check_self_service(work, member)
    signup = queries.signup(session, activity.id, member.member_id)
    rules.check_signup_step(signup.status if signup is not None else None, "cancel")
    check_step(session, activity, "cancel_signup")
    was = signup.status
    signup.status, signup.changed_at = "cancelled", datetime.now(UTC)
    promoted = queries.first_waitlisted(session, activity.id) if was == "confirmed" else None
    session.flush()
    work.emit(events.SIGNUP_CANCELLED, {
        **payloads.signup_data(session, activity, signup, member),
        "promoted_member_id": promoted.member_id if promoted else None},
        ("activity", activity.id))
    if promoted is not None:
        rules.check_signup_step(promoted.status, "promote")
        promoted.status, promoted.changed_at = "confirmed", datetime.now(UTC)
        session.flush()
        work.emit(events.SIGNUP_PROMOTED, payloads.signup_data(
            session, activity, promoted, directory.member(session, promoted.member_id)),
            ("activity", activity.id))
    return {"activity_id": activity.id, "member_id": member.member_id, "status": "cancelled",
            "promoted_member_id": promoted.member_id if promoted else None}


def list_signups(work, activity_id):
    """Confirmed and waiting sign-ups in arrival order, with waiting-list positions."""
    session = work.db
    activity = queries.activity(session, activity_id)
    signed = queries.signed_up(session, activity.id)
    members = tree.members(session, [s.member_id for s in signed])
    position, out = 0, []
    for signup in signed:
        if signup.status == "waitlisted":
            position += 1
        out.append(_signup_out(session, signup, members[signup.member_id],
                               position if signup.status == "waitlisted" else None))
    return out


def member_signups(work, member_id, limit, offset):
    """A member's own sign-ups (a member reads only their own)."""
    member = directory.member(work.db, member_id)
    _check_self_service(work, member)
    return queries.member_signups(work.db, member.member_id, limit, offset).map(
        lambda row: {**_signup_out(work.db, row[0], member,
                                   row[2] + 1 if row[0].status == "waitlisted" else None),
                     "activity_name": row[1].name, "starts_at": row[1].starts_at,
                     "place": row[1].place, "activity_status": row[1].status})


# ------------------------------------------------------------------ the day before


def remind_upcoming(work, as_of):
    """``activity_upcoming`` to those signed up, from the working day before an activity;
    each activity's reminder once. Returns how many were sent."""
    session, sent = work.db, 0
    for activity in queries.upcoming_without_notice(session, as_of):
        if not rules.upcoming_due(activity.held_on, as_of,
                                  work.calendar.previous_working_day):
            continue
        confirmed = queries.confirmed_member_ids(session, activity.id)
        if not confirmed:
            continue  # nobody to remind yet; whoever signs up later still will be
        session.add(UpcomingNotice(activity_id=activity.id, sent_for=as_of,
                                   recipients=len(confirmed)))
        work.emit(events.ACTIVITY_UPCOMING, {
            **payloads.activity_ref(session, activity), "as_of": as_of,
            "recipient_member_ids": list(confirmed),
            "recipient_unit_ids": sorted(set(tree.units_of(session, confirmed).values()))},
            ("activity", activity.id), actor=SYSTEM_TICK,
            changes={"notice": "upcoming", "as_of": as_of.isoformat()})
        sent += 1
    return sent

