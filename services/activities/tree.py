"""What activities asks of the kit's read model of the union tree (:mod:`gonghui.directory`,
kept from organization's events) beyond the kit's own questions: a unit open on a day, a
member's facts for the audience rules, and the roles held on a day (what a resync ended).

Activities counts more roles as officers than the kit does (committee members and cadres
see who is missing a check-up): ``rules.OFFICER_ROLES``, passed to
``directory.officer_units``.
"""

from sqlalchemy import select

from gonghui import directory
from gonghui.directory import DirectoryMember, DirectoryRole
from gonghui.errors import Conflict
from services.activities import rules


def open_unit(session, unit_id, day, field="unit_id"):
    """The unit (``NotFound`` when the read model does not know it), not closed on ``day``
    (``Conflict``): a unit that closed holds nothing new."""
    unit = directory.unit(session, unit_id, field)
    if unit.closed_on is not None and unit.closed_on <= day:
        raise Conflict(f"unit {unit_id} is closed", {field: ["closed"]})
    return unit


def member_facts(session, member_ids, day):
    """``{member_id: MemberFacts}`` for the members the read model knows."""
    known = members(session, member_ids)
    held = directory.roles_on(session, list(known), day)
    return {m.member_id: rules.MemberFacts(m.member_id, m.name, m.gender, m.unit_id,
                                           m.joined_on, m.left_on,
                                           frozenset(held.get(m.member_id, ())))
            for m in known.values()}


def members(session, member_ids):
    """``{member_id: DirectoryMember}`` of the members the read model knows."""
    return {m.member_id: m for m in session.scalars(select(DirectoryMember).where(
        DirectoryMember.member_id.in_(member_ids)))}


def units_of(session, member_ids):
    """``{member_id: unit_id}`` of the members the read model knows."""
    return dict(session.execute(select(DirectoryMember.member_id, DirectoryMember.unit_id)
                                .where(DirectoryMember.member_id.in_(member_ids))).all())


def roles_held(session, day):
    """The role assignments held on ``day``, by their keys."""
    return set(session.execute(select(
        DirectoryRole.member_id, DirectoryRole.union_id, DirectoryRole.role,
        DirectoryRole.starts_on).where(
        DirectoryRole.starts_on <= day,
        (DirectoryRole.ends_on.is_(None)) | (DirectoryRole.ends_on > day))).all())
