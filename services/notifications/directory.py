"""The local read model of the union tree: units, unions, members and their roles, kept
from organization events (and rebuilt by ``resync_directory``), and the recipient queries
the fan-out needs. Events may arrive out of order (one queue per event type, retries): each
row remembers the ``occurred_at`` of the event that wrote it and older events never
overwrite newer state; an ended role or a member who left stays so.
"""

from sqlalchemy import func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.notifications.models import DirMember, DirRole, DirUnion, DirUnit, Preference

DIRECTORY_EVENTS = ("unit_created", "unit_renamed", "unit_moved", "unit_closed",
                    "union_established", "union_closed", "member_joined", "member_updated",
                    "member_left", "role_assigned", "role_ended")


def _upsert(session, model, key, values, at):
    """Insert or update ``values``, unless the row was written by a later event."""
    table = model.__table__
    stmt = insert(table).values(**values, event_at=at)
    changed = {k: stmt.excluded[k] for k in values if k != key}
    changed["event_at"] = stmt.excluded.event_at
    session.execute(stmt.on_conflict_do_update(
        index_elements=[key], set_=changed,
        where=or_(table.c.event_at.is_(None), table.c.event_at <= stmt.excluded.event_at)))


def upsert_role(session, data):
    table = DirRole.__table__
    stmt = insert(table).values(member_id=data["member_id"], union_id=data["union_id"],
                                unit_id=data["unit_id"], role=data["role"],
                                starts_on=data["starts_on"], ends_on=data.get("ends_on"))
    session.execute(stmt.on_conflict_do_update(
        index_elements=["member_id", "union_id", "role", "starts_on"],
        set_={"ends_on": func.coalesce(table.c.ends_on, stmt.excluded.ends_on),
              "unit_id": stmt.excluded.unit_id}))


def apply_event(session, name, data, at):
    """Fold one organization event into the read model."""
    if name == "unit_created":
        _upsert(session, DirUnit, "unit_id", {
            "unit_id": data["unit_id"], "code": data.get("code"), "name": data["unit_name"],
            "kind": data.get("kind"), "parent_id": data.get("parent_id")}, at)
    elif name == "unit_renamed":
        _upsert(session, DirUnit, "unit_id", {"unit_id": data["unit_id"],
                                              "name": data["unit_name"]}, at)
    elif name == "unit_moved":
        _upsert(session, DirUnit, "unit_id", {"unit_id": data["unit_id"],
                                              "name": data["unit_name"],
                                              "parent_id": data["new_parent_id"]}, at)
    elif name == "unit_closed":
        _upsert(session, DirUnit, "unit_id", {"unit_id": data["unit_id"],
                                              "name": data["unit_name"],
                                              "closed_on": data["closed_on"]}, at)
    elif name in ("union_established", "union_closed"):
        _upsert(session, DirUnion, "union_id", {
            "union_id": data["union_id"], "unit_id": data["unit_id"],
            "level": data["level"], "name": data["union_name"],
            "closed_on": data.get("closed_on") if name == "union_closed" else None}, at)
    elif name in ("member_joined", "member_updated", "member_left"):
        _upsert(session, DirMember, "member_id", {
            "member_id": data["member_id"], "employee_no": data.get("employee_no"),
            "name": data["name"], "unit_id": data["unit_id"], "email": data.get("email"),
            "mobile": data.get("mobile"), "wecom_id": data.get("wecom_id"),
            "left_on": data.get("left_on")}, at)
    elif name in ("role_assigned", "role_ended"):
        upsert_role(session, data)


# ------------------------------------------------------------------ queries


def ancestors_and_self(session, unit_id):
    """Unit ids from ``unit_id`` up to the top, nearest first."""
    chain = select(DirUnit.unit_id, DirUnit.parent_id, literal(0).label("up")).where(
        DirUnit.unit_id == unit_id).cte("chain", recursive=True)
    chain = chain.union_all(select(DirUnit.unit_id, DirUnit.parent_id, chain.c.up + 1)
                            .where(DirUnit.unit_id == chain.c.parent_id, chain.c.up < 50))
    ids = [r.unit_id for r in session.execute(select(chain.c.unit_id, chain.c.up)
                                              .order_by(chain.c.up))]
    return ids or [unit_id]


def union_chain(session, unit_id):
    """Open unions serving the unit, nearest first: its own (if any), then those above."""
    ids = ancestors_and_self(session, unit_id)
    unions = {u.unit_id: u for u in session.scalars(select(DirUnion).where(
        DirUnion.unit_id.in_(ids), DirUnion.closed_on.is_(None)))}
    return [unions[i] for i in ids if i in unions]


def role_holders(session, union_id, roles, as_of):
    return list(session.scalars(
        select(DirRole.member_id).join(DirMember, DirMember.member_id == DirRole.member_id)
        .where(DirRole.union_id == union_id, DirRole.role.in_(roles),
               DirRole.starts_on <= as_of,
               or_(DirRole.ends_on.is_(None), DirRole.ends_on > as_of),
               DirMember.left_on.is_(None))
        .order_by(DirRole.role, DirRole.member_id)))


def officers(session, unit_id, roles, as_of, levels_up=0):
    """Holders of ``roles`` in the union serving the unit (``levels_up`` unions above it)."""
    chain = union_chain(session, unit_id)
    if len(chain) <= levels_up:
        return []
    return role_holders(session, chain[levels_up].union_id, roles, as_of)


def unit_members(session, unit_id):
    """Current members of the unit and every unit below it."""
    tree = select(DirUnit.unit_id, literal(0).label("depth")).where(
        DirUnit.unit_id == unit_id).cte("subtree", recursive=True)
    tree = tree.union_all(select(DirUnit.unit_id, tree.c.depth + 1).where(
        DirUnit.parent_id == tree.c.unit_id, tree.c.depth < 50))
    return list(session.scalars(
        select(DirMember.member_id).where(DirMember.unit_id.in_(select(tree.c.unit_id)),
                                          DirMember.left_on.is_(None))
        .order_by(DirMember.member_id)))


def recipients(session, member_ids):
    """``{member_id: (name, preference or None)}`` of current members, in one query (plain
    rows, not ORM objects: a fan-out may name 10,000 people)."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(DirMember.member_id, DirMember.name, Preference.language, Preference.channels,
               Preference.quiet_start, Preference.quiet_end, Preference.digest,
               Preference.digest_hour, Preference.member_id.label("has_preference"))
        .outerjoin(Preference, Preference.member_id == DirMember.member_id)
        .where(DirMember.member_id.in_(list(member_ids)), DirMember.left_on.is_(None))).all()
    return {r.member_id: (r.name, r if r.has_preference is not None else None) for r in rows}


def unit_name(session, unit_id):
    unit = session.get(DirUnit, unit_id)
    return unit.name if unit else None
