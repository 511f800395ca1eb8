"""The local read model of organization's directory: units, unions, members and roles.

Kept from organization's events (one handler per event type) and, for a full resync, from
organization's RPC. Every write is an upsert guarded by the time of the change it carries:
handlers of different event types consume different queues, so a member's ``member_updated``
can be handled before their ``member_joined``; an older change never overwrites a newer one.
"""

from datetime import date

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gonghui import clock
from services.activities import rules
from services.activities.models import DirMember, DirRole, DirUnion, DirUnit

# Groups of unit fields and the stamp column that guards each: unit_created sets them all,
# unit_renamed / unit_moved / unit_closed one group each.
UNIT_GROUPS = {
    "info_at": ("code", "kind", "established_on"),
    "name_at": ("name",),
    "parent_at": ("parent_id",),
    "closed_at": ("closed_on",),
}


def guarded_upsert(session, model, keys, groups, at):
    """Insert the row or update each group of its fields only if ``at`` is not older than
    the stamp of that group. ``keys``: the conflict columns and values; ``groups``:
    ``{stamp column: {column: value}}``."""
    table = model.__table__
    values = dict(keys)
    for stamp, columns in groups.items():
        values.update(columns)
        values[stamp] = at
    statement = pg_insert(table).values(**values)
    excluded = statement.excluded
    assignments = {}
    for stamp, columns in groups.items():
        newer = or_(table.c[stamp].is_(None), table.c[stamp] <= excluded[stamp])
        for column in columns:
            assignments[column] = case((newer, excluded[column]), else_=table.c[column])
        # greatest() ignores NULL in PostgreSQL: the stamp only ever moves forward.
        assignments[stamp] = func.greatest(table.c[stamp], excluded[stamp])
    session.execute(statement.on_conflict_do_update(index_elements=list(keys),
                                                    set_=assignments))


# ------------------------------------------------------------------ applying changes


def unit_created(session, data, at):
    guarded_upsert(session, DirUnit, {"id": data["unit_id"]}, {
        "info_at": {"code": data["code"], "kind": data["kind"],
                    "established_on": data.get("established_on")},
        "name_at": {"name": data["unit_name"]},
        "parent_at": {"parent_id": data.get("parent_id")},
    }, at)


def unit_renamed(session, data, at):
    guarded_upsert(session, DirUnit, {"id": data["unit_id"]},
                   {"name_at": {"name": data["unit_name"]}}, at)


def unit_moved(session, data, at):
    guarded_upsert(session, DirUnit, {"id": data["unit_id"]}, {
        "name_at": {"name": data["unit_name"]},
        "parent_at": {"parent_id": data["new_parent_id"]}}, at)


def unit_closed(session, data, at):
    guarded_upsert(session, DirUnit, {"id": data["unit_id"]},
                   {"closed_at": {"closed_on": data["closed_on"]}}, at)


def unit_snapshot(session, unit, at):
    """A unit as organization's ``list_units`` returns it (a resync)."""
    guarded_upsert(session, DirUnit, {"id": unit["id"]}, {
        "info_at": {"code": unit["code"], "kind": unit["kind"],
                    "established_on": _date(unit.get("established_on"))},
        "name_at": {"name": unit["name"]},
        "parent_at": {"parent_id": unit.get("parent_id")},
        "closed_at": {"closed_on": _date(unit.get("closed_on"))},
    }, at)


def union_changed(session, data, at):
    guarded_upsert(session, DirUnion, {"union_id": data["union_id"]}, {"stamp": {
        "unit_id": data["unit_id"], "level": data["level"], "name": data["union_name"],
        "established_on": _date(data.get("established_on")),
        "closed_on": _date(data.get("closed_on"))}}, at)


def union_snapshot(session, union, day, at):
    """A union as organization's ``directory_snapshot`` gives it (no name or dates: those
    already known are kept; a union found closed is closed ``day`` if not known closed)."""
    existing = session.get(DirUnion, union["union_id"])
    closed_on = None
    if union["closed"]:
        closed_on = existing.closed_on if existing is not None and existing.closed_on else day
    union_changed(session, {
        "union_id": union["union_id"], "unit_id": union["unit_id"], "level": union["level"],
        "union_name": existing.name if existing is not None else None,
        "established_on": existing.established_on if existing is not None else None,
        "closed_on": closed_on}, at)


def member_changed(session, data, at):
    """member_joined, member_updated and member_left all carry the member's whole state."""
    guarded_upsert(session, DirMember, {"id": data["member_id"]}, {"stamp": {
        "employee_no": data["employee_no"], "name": data["name"], "gender": data["gender"],
        "unit_id": data["unit_id"], "joined_on": _date(data["joined_on"]),
        "left_on": _date(data.get("left_on"))}}, at)


def role_changed(session, data, at):
    """role_assigned / role_ended: the latest assignment of a role wins."""
    guarded_upsert(session, DirRole, {"member_id": data["member_id"], "unit_id": data["unit_id"],
                                      "role": data["role"]}, {"stamp": {
        "union_id": data.get("union_id"), "starts_on": _date(data.get("starts_on")),
        "ends_on": _date(data.get("ends_on"))}}, at)


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def end_roles_not_held(session, held, ends_on, at):
    """After a resync: roles still open here but not held in organization have ended."""
    open_roles = session.execute(select(DirRole.id, DirRole.member_id, DirRole.unit_id,
                                        DirRole.role)
                                 .where(DirRole.ends_on.is_(None), DirRole.stamp < at)).all()
    stale = [r.id for r in open_roles if (r.member_id, r.unit_id, r.role) not in held]
    if stale:
        session.execute(update(DirRole).where(DirRole.id.in_(stale))
                        .values(ends_on=ends_on, stamp=at))
    return len(stale)


# ------------------------------------------------------------------ questions


def subtree_cte(unit_id):
    """The unit and every unit below it (recursive CTE over the read model)."""
    tree = select(DirUnit.id).where(DirUnit.id == unit_id).cte("subtree", recursive=True)
    return tree.union_all(select(DirUnit.id).where(DirUnit.parent_id == tree.c.id))


def subtree_ids(session, unit_id):
    return set(session.scalars(select(subtree_cte(unit_id).c.id)))


def ancestor_ids(session, unit_id):
    """The unit and the units above it, nearest first."""
    chain = select(DirUnit.id, DirUnit.parent_id, literal(0).label("up")).where(
        DirUnit.id == unit_id).cte("chain", recursive=True)
    chain = chain.union_all(select(DirUnit.id, DirUnit.parent_id, chain.c.up + 1)
                            .where(DirUnit.id == chain.c.parent_id, chain.c.up < 50))
    return [r.id for r in session.execute(select(chain.c.id, chain.c.up).order_by(chain.c.up))]


def open_unit_ids(session, ids, day):
    query = select(DirUnit.id).where(
        or_(DirUnit.established_on.is_(None), DirUnit.established_on <= day),
        or_(DirUnit.closed_on.is_(None), DirUnit.closed_on > day))
    if ids is not None:
        query = query.where(DirUnit.id.in_(ids))
    return set(session.scalars(query))


def roles_on(session, member_ids, day):
    """``{member_id: {(unit_id, role)}}`` held on ``day``."""
    rows = session.execute(select(DirRole.member_id, DirRole.unit_id, DirRole.role).where(
        DirRole.member_id.in_(member_ids),
        or_(DirRole.starts_on.is_(None), DirRole.starts_on <= day),
        or_(DirRole.ends_on.is_(None), DirRole.ends_on > day))).all()
    held = {}
    for member_id, unit_id, role in rows:
        held.setdefault(member_id, set()).add((unit_id, role))
    return held


def member_facts(session, member_ids, day):
    """``{member_id: MemberFacts}`` for the members the read model knows."""
    members = session.scalars(select(DirMember).where(DirMember.id.in_(member_ids))).all()
    held = roles_on(session, [m.id for m in members], day)
    return {m.id: rules.MemberFacts(m.id, m.name, m.gender, m.unit_id, m.joined_on, m.left_on,
                                    frozenset(held.get(m.id, ())))
            for m in members}


def active_members(session, unit_ids, day):
    """Members of the units (all when ``unit_ids`` is None) in the union on ``day``."""
    query = select(DirMember).where(
        DirMember.joined_on <= day, or_(DirMember.left_on.is_(None), DirMember.left_on > day))
    if unit_ids is not None:
        query = query.where(DirMember.unit_id.in_(unit_ids))
    return session.scalars(query.order_by(DirMember.unit_id, DirMember.employee_no)).all()


def officer_units(session, employee_no, day):
    """Units where the member with this employee number holds an officer role on ``day``."""
    member = session.scalar(select(DirMember).where(DirMember.employee_no == employee_no))
    if member is None or not rules.active_on(member.joined_on, member.left_on, day):
        return set()
    return {unit for unit, role in roles_on(session, [member.id], day).get(member.id, ())
            if role in rules.OFFICER_ROLES}


def status(session):
    # The business date in China, not the database's current_date (UTC on most servers):
    # between 00:00 and 08:00 CST they are different days.
    today = clock.today()
    counts = {
        "units": session.scalar(select(func.count()).select_from(DirUnit)),
        "open_units": session.scalar(select(func.count()).select_from(DirUnit).where(
            DirUnit.closed_on.is_(None))),
        "unions": session.scalar(select(func.count()).select_from(DirUnion).where(
            DirUnion.closed_on.is_(None))),
        "members": session.scalar(select(func.count()).select_from(DirMember)),
        "active_members": session.scalar(select(func.count()).select_from(DirMember).where(
            or_(DirMember.left_on.is_(None), DirMember.left_on > today))),
        "active_roles": session.scalar(select(func.count()).select_from(DirRole).where(
            or_(DirRole.ends_on.is_(None), DirRole.ends_on > today))),
    }
    stamps = [session.scalar(select(func.max(c))) for c in (
        DirUnit.info_at, DirUnit.name_at, DirUnit.parent_at, DirUnit.closed_at,
        DirUnion.stamp, DirMember.stamp, DirRole.stamp)]
    stamps = [s for s in stamps if s is not None]
    counts["last_change_at"] = max(stamps) if stamps else None
    return counts
