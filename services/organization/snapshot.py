"""The tree as the consumers' read models hold it, page by page (``directory_snapshot``),
and the counts they compare with theirs to see that they caught up (``directory_status``).

Each row has the shape of the event that writes it (``unit_created``, ``union_established``,
``member_updated``, ``role_assigned``), so a consumer applies a resync and an event the same
way. Pages run over the primary key: a 10,000-unit tree is one bounded query per page.
"""

from sqlalchemy import func, or_, select

from services.organization.models import Member, RoleAssignment, Union, Unit

PARTS = ("units", "unions", "members", "roles")


def _units(session, after, limit):
    return [{"unit_id": u.id, "unit_name": u.name, "code": u.code, "kind": u.kind,
             "parent_id": u.parent_id, "established_on": u.established_on,
             "closed_on": u.closed_on}
            for u in session.scalars(select(Unit).where(Unit.id > after)
                                     .order_by(Unit.id).limit(limit))]


def _unions(session, after, limit):
    return [{"union_id": u.id, "unit_id": u.unit_id, "union_name": u.name, "level": u.level,
             "established_on": u.established_on, "closed_on": u.closed_on}
            for u in session.scalars(select(Union).where(Union.id > after)
                                     .order_by(Union.id).limit(limit))]


def _members(session, after, limit):
    return [{"member_id": m.id, "employee_no": m.employee_no, "name": m.name,
             "gender": m.gender, "unit_id": m.unit_id, "email": m.email, "mobile": m.mobile,
             "wecom_id": m.wecom_id, "joined_on": m.joined_on, "left_on": m.left_on}
            for m in session.scalars(select(Member).where(Member.id > after)
                                     .order_by(Member.id).limit(limit))]


def _roles(session, after, limit):
    rows = session.execute(
        select(RoleAssignment, Union.unit_id).join(Union, Union.id == RoleAssignment.union_id)
        .where(RoleAssignment.id > after).order_by(RoleAssignment.id).limit(limit)).all()
    return [{"assignment_id": a.id, "member_id": a.member_id, "union_id": a.union_id,
             "unit_id": unit_id, "role": a.role, "term_id": a.term_id,
             "starts_on": a.starts_on, "ends_on": a.ends_on}
            for a, unit_id in rows]


_PAGES = {"units": (_units, "unit_id"), "unions": (_unions, "union_id"),
          "members": (_members, "member_id"), "roles": (_roles, "assignment_id")}


def page(session, part, after, limit):
    """One page of ``part`` after the row ``after``; ``next_after`` is None on the last."""
    read, key = _PAGES[part]
    rows = read(session, after, limit)
    return {"part": part, "taken_at": session.scalar(select(func.now())), "rows": rows,
            "next_after": rows[-1][key] if len(rows) == limit else None}


def _open(ends_on, day):
    return or_(ends_on.is_(None), ends_on > day)


def status(session, day):
    """What a complete read model of the tree holds on ``day``."""
    def count(model, *where):
        return session.scalar(select(func.count()).select_from(model).where(*where))
    return {
        "units": count(Unit),
        "open_units": count(Unit, _open(Unit.closed_on, day)),
        "unions": count(Union, _open(Union.closed_on, day)),
        "members": count(Member),
        "current_members": count(Member, _open(Member.left_on, day)),
        "roles": count(RoleAssignment, RoleAssignment.starts_on <= day,
                       _open(RoleAssignment.ends_on, day)),
        "last_change_at": None,
    }
