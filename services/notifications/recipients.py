"""Who is told: a rule's audience resolved into people and group robots.

Producers name people directly (the responsible person, an idea's submitter) and units
(the owner unit, the unit escalated to); the units' officers and members are resolved here
alone, from the kit's read model of organization's union tree (:mod:`gonghui.directory`),
so fan-out works while organization is down and costs no RPC per recipient.

Roles and memberships are taken **as of the event's day** (:func:`event_day`), not today:
a reminder dated before a chair's role ended still reaches that chair, however late it is
handled or replayed.
"""

from datetime import date, datetime

from sqlalchemy import or_, select

from gonghui import directory
from gonghui.clock import CHINA
from gonghui.directory import DirectoryMember
from services.notifications import rules
from services.notifications.models import Preference


def event_day(event):
    """The day an event speaks of: its data's ``as_of`` when it has one (the day of a
    tick's reminder), else the China date of its ``occurred_at``."""
    as_of = event.data.get("as_of")
    if isinstance(as_of, datetime):
        return as_of.astimezone(CHINA).date()
    if isinstance(as_of, date):
        return as_of
    if isinstance(as_of, str):
        return date.fromisoformat(as_of)
    return event.occurred_at.astimezone(CHINA).date()


def _in_union_on(day):
    return or_(DirectoryMember.left_on.is_(None), DirectoryMember.left_on > day)


def unit_members(session, unit_id, day):
    """Members of the unit and of every unit below it, in the union on ``day``, by id."""
    subtree = directory.subtree_cte(unit_id)
    return list(session.scalars(
        select(DirectoryMember.member_id)
        .where(DirectoryMember.unit_id.in_(select(subtree.c.unit_id)), _in_union_on(day),
               or_(DirectoryMember.joined_on.is_(None), DirectoryMember.joined_on <= day))
        .order_by(DirectoryMember.member_id)))


# What each kind of directory selector (rules.DIRECTORY_SELECTORS) asks the read model.
_DIRECTORY = {
    "officers": lambda session, unit_id, day: directory.officers(session, unit_id, day),
    "parent_officers": lambda session, unit_id, day: directory.officers(
        session, unit_id, day, levels_up=1),
    "chair": lambda session, unit_id, day: directory.officers(session, unit_id, day,
                                                              roles=("chair",)),
    "members": unit_members,
}


def resolve(session, audience, data, day):
    """Member ids (in order, no repeats) and the ids of units whose robots are addressed."""
    members, units, seen = [], [], set()
    for selector in audience:
        if selector in rules.DATA_SELECTORS:
            found = rules.member_ids_in_data(selector, data)
        elif selector in rules.DIRECTORY_SELECTORS:
            what, names = rules.DIRECTORY_SELECTORS[selector]
            unit_id = rules.first_present(data, names)
            found = [] if unit_id is None else _DIRECTORY[what](session, unit_id, day)
        elif selector in rules.ROBOT_SELECTORS:
            unit_id = rules.first_present(data, rules.ROBOT_SELECTORS[selector])
            if unit_id is not None and unit_id not in units:
                units.append(unit_id)
            continue
        else:
            continue
        for member_id in found:
            if member_id not in seen:
                seen.add(member_id)
                members.append(member_id)
    return members, units


def people(session, member_ids, day):
    """``{member_id: (name, preference row or None)}`` of those in the union on ``day``, in
    one query (plain rows, not ORM objects: a fan-out may name 10,000 people)."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(DirectoryMember.member_id, DirectoryMember.name, Preference.language,
               Preference.channels, Preference.quiet_start, Preference.quiet_end,
               Preference.digest, Preference.digest_hour,
               Preference.member_id.label("has_preference"))
        .outerjoin(Preference, Preference.member_id == DirectoryMember.member_id)
        .where(DirectoryMember.member_id.in_(list(member_ids)), _in_union_on(day))).all()
    return {r.member_id: (r.name, r if r.has_preference is not None else None) for r in rows}


def known(session, member_ids):
    """Of ``member_ids``, those the read model has at all (current or not)."""
    if not member_ids:
        return set()
    return set(session.scalars(select(DirectoryMember.member_id).where(
        DirectoryMember.member_id.in_(list(member_ids)))))
