"""Tree queries over units (recursive CTEs): subtree, ancestors, the union serving a unit."""

from sqlalchemy import literal, select

from gonghui.errors import NotFound
from services.organization.models import Member, RoleAssignment, Union, Unit


def get(session, model, ident, what=None):
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{what or model.__name__.lower()} {ident} not found",
                       {f"{(what or model.__name__).lower()}_id": ["not found"]})
    return row


def _descend(start, name):
    """A recursive CTE ``(id, depth)`` of the units matching ``start`` (depth 0) and every
    unit below them."""
    tree = select(Unit.id, literal(0).label("depth")).where(start).cte(name, recursive=True)
    return tree.union_all(select(Unit.id, tree.c.depth + 1).where(Unit.parent_id == tree.c.id))


def subtree_ids(session, unit_id):
    """The unit and every unit below it, with depth (0 for the unit itself)."""
    tree = _descend(Unit.id == unit_id, "subtree")
    return dict(session.execute(select(tree.c.id, tree.c.depth)).all())


def depths():
    """A CTE ``(id, depth)`` of every unit's depth in the tree (0 for a top unit): the same
    depth ``subtree`` of a top unit gives."""
    return _descend(Unit.parent_id.is_(None), "depths")


def ancestors(session, unit_id):
    """Units above ``unit_id``, nearest first (the unit itself excluded)."""
    chain = select(Unit.id, Unit.parent_id, literal(0).label("up")).where(
        Unit.id == unit_id).cte("chain", recursive=True)
    chain = chain.union_all(
        select(Unit.id, Unit.parent_id, chain.c.up + 1).where(Unit.id == chain.c.parent_id))
    ids = [row.id for row in session.execute(
        select(chain.c.id, chain.c.up).where(chain.c.up > 0).order_by(chain.c.up))]
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [units[i] for i in ids]


def open_union(session, unit_id):
    return session.scalar(select(Union).where(Union.unit_id == unit_id,
                                              Union.closed_on.is_(None)))


def union_chain(session, unit_id):
    """Open unions from the one serving the unit upward: its own union (if any), then the
    nearest ancestors' unions. A unit with no union is served by the nearest one above."""
    chain = []
    for unit in [get(session, Unit, unit_id, "unit"), *ancestors(session, unit_id)]:
        union = open_union(session, unit.id)
        if union is not None:
            chain.append((unit, union))
    return chain


def parent_union(session, unit_id):
    for unit in ancestors(session, unit_id):
        union = open_union(session, unit.id)
        if union is not None:
            return unit, union
    return None, None


def role_holders(session, union_id, roles, as_of):
    return session.execute(
        select(RoleAssignment, Member)
        .join(Member, Member.id == RoleAssignment.member_id)
        .where(RoleAssignment.union_id == union_id, RoleAssignment.role.in_(roles),
               RoleAssignment.starts_on <= as_of,
               (RoleAssignment.ends_on.is_(None)) | (RoleAssignment.ends_on > as_of),
               (Member.left_on.is_(None)) | (Member.left_on > as_of))
        .order_by(RoleAssignment.role, Member.employee_no)
    ).all()
