"""Questions to the organization database: the tree (recursive CTEs: subtree, ancestors, the
union serving a unit), look-ups that refuse (an open unit), lists and counts. No writes."""

from sqlalchemy import func, literal, select

from gonghui.errors import get_or_not_found
from gonghui.paging import select_page
from services.organization import rules
from services.organization.models import (
    ActionItem,
    FieldVisit,
    Member,
    Regulation,
    RegulationVersion,
    RoleAssignment,
    Term,
    Training,
    Union,
    Unit,
)

# ----------------------------------------------------------------- the tree


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


def open_unit(session, unit_id):
    """The unit ``unit_id``: NotFound if there is none, Conflict if it is closed."""
    unit = get_or_not_found(session, Unit, unit_id, "unit")
    rules.check_not_ended("unit", unit_id, unit.closed_on)
    return unit


def unit_union(session, unit_id):
    """The unit's own union, open or dissolved, or None."""
    return session.scalar(select(Union).where(Union.unit_id == unit_id))


def open_union(session, unit_id):
    return session.scalar(select(Union).where(Union.unit_id == unit_id,
                                              Union.closed_on.is_(None)))


def union_chain(session, unit_id):
    """Open unions from the one serving the unit upward: its own union (if any), then the
    nearest ancestors' unions. A unit with no union is served by the nearest one above."""
    chain = []
    for unit in [get_or_not_found(session, Unit, unit_id, "unit"),
                 *ancestors(session, unit_id)]:
        union = open_union(session, unit.id)
        if union is not None:
            chain.append((unit, union))
    return chain


def parent_union(session, unit_id):
    """The nearest unit above ``unit_id`` with an open union, and that union."""
    for unit in ancestors(session, unit_id):
        union = open_union(session, unit.id)
        if union is not None:
            return unit, union
    return None, None


def units_page(session, domain, kind, include_closed, limit, offset):
    """``(unit, depth)`` in id order."""
    tree = depths()
    query = select(Unit, tree.c.depth).join(tree, tree.c.id == Unit.id).order_by(Unit.id)
    if domain:
        query = query.where(Unit.domain == domain)
    if kind:
        query = query.where(Unit.kind == kind)
    if not include_closed:
        query = query.where(Unit.closed_on.is_(None))
    return select_page(session, query, limit, offset, fetch="execute")


def units_in(session, unit_ids, include_closed):
    query = select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.id)
    if not include_closed:
        query = query.where(Unit.closed_on.is_(None))
    return session.scalars(query).all()


def unit_id_by_code(session, code):
    return session.scalar(select(Unit.id).where(Unit.code == code)) if code else None


def unit_by_code(session, code):
    return session.scalar(select(Unit).where(Unit.code == code))


def unit_codes(session, open_only=False):
    query = select(Unit.code)
    if open_only:
        query = query.where(Unit.closed_on.is_(None))
    return set(session.scalars(query))


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def has_open_top_unit(session):
    return bool(_count(session, Unit, Unit.parent_id.is_(None), Unit.closed_on.is_(None)))


def has_open_units_below(session, unit_id):
    return bool(_count(session, Unit, Unit.parent_id == unit_id, Unit.closed_on.is_(None)))


def has_current_members(session, unit_id):
    return bool(_count(session, Member, Member.unit_id == unit_id, Member.left_on.is_(None)))


def has_open_unions_in(session, unit_ids):
    return bool(unit_ids) and bool(_count(session, Union, Union.unit_id.in_(unit_ids),
                                          Union.closed_on.is_(None)))


# ----------------------------------------------------------------- members and roles


def employee_no_taken(session, employee_no):
    return session.scalar(select(Member.id).where(Member.employee_no == employee_no)) is not None


def member_by_employee_no(session, employee_no):
    return session.scalar(select(Member).where(Member.employee_no == employee_no))


def employee_nos(session):
    return set(session.scalars(select(Member.employee_no)))


def members_by_id(session, member_ids):
    return {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}


def missing_members(session, member_ids):
    """Of ``member_ids``, those that are no member's, in order."""
    found = set(session.scalars(select(Member.id).where(Member.id.in_(member_ids))))
    return sorted(set(member_ids) - found)


def members_page(session, unit_ids, include_left, limit, offset):
    """Members by employee number, of ``unit_ids`` (None: every unit)."""
    query = select(Member).order_by(Member.employee_no)
    if unit_ids is not None:
        query = query.where(Member.unit_id.in_(unit_ids))
    if not include_left:
        query = query.where(Member.left_on.is_(None))
    return select_page(session, query, limit, offset)


def open_roles(session, *where):
    """Role assignments not ended, matching ``where``."""
    return session.scalars(select(RoleAssignment).where(
        RoleAssignment.ends_on.is_(None), *where)).all()


def role_holders(session, union_id, roles, as_of):
    """``(assignment, member)`` holding one of ``roles`` in the union on ``as_of``, by role
    and employee number."""
    return session.execute(
        select(RoleAssignment, Member)
        .join(Member, Member.id == RoleAssignment.member_id)
        .where(RoleAssignment.union_id == union_id, RoleAssignment.role.in_(roles),
               RoleAssignment.starts_on <= as_of,
               (RoleAssignment.ends_on.is_(None)) | (RoleAssignment.ends_on > as_of),
               (Member.left_on.is_(None)) | (Member.left_on > as_of))
        .order_by(RoleAssignment.role, Member.employee_no)
    ).all()


# ----------------------------------------------------------------- terms


def open_term(session, union_id):
    return session.scalar(select(Term).where(Term.union_id == union_id,
                                             Term.closed_on.is_(None)))


def next_term_number(session, union_id):
    return (session.scalar(select(func.max(Term.number)).where(
        Term.union_id == union_id)) or 0) + 1


def terms_in(session, unit_ids):
    """``(term, union, unit)`` of every term of the unions of ``unit_ids``."""
    return session.execute(
        select(Term, Union, Unit).join(Union, Union.id == Term.union_id)
        .join(Unit, Unit.id == Union.unit_id).where(Union.unit_id.in_(unit_ids))).all()


def open_terms_started(session, as_of):
    """``(term, union)`` of the open terms of open unions begun by ``as_of``."""
    return session.execute(
        select(Term, Union).join(Union, Union.id == Term.union_id)
        .where(Term.closed_on.is_(None), Union.closed_on.is_(None),
               Term.starts_on <= as_of)).all()


def notices_sent(session, notice, key, ids):
    """The kinds of reminder already sent, by the id (``key``, a column of the ``notice``
    model) they were sent about."""
    sent = {}
    for row in session.scalars(select(notice).where(key.in_(ids))):
        sent.setdefault(getattr(row, key.key), set()).add(row.kind)
    return sent


# ----------------------------------------------------------------- trainings, visits, meetings


def trainings(session, year, kind):
    query = select(Training).order_by(Training.starts_on, Training.id)
    if year:
        query = query.where(func.extract("year", Training.starts_on) == year)
    if kind:
        query = query.where(Training.kind == kind)
    return session.scalars(query).all()


def gatherings(session, model, day, unit_id, kind, limit, offset):
    """Field visits or meetings (``model``), by their ``day`` column then id."""
    query = select(model).order_by(getattr(model, day), model.id)
    if unit_id:
        query = query.where(model.unit_id == unit_id)
    if kind:
        query = query.where(model.kind == kind)
    return select_page(session, query, limit, offset)


def action_items_of(session, source_type, source_id):
    return session.scalars(select(ActionItem).where(
        ActionItem.source_type == source_type, ActionItem.source_id == source_id)
        .order_by(ActionItem.id)).all()


def action_items(session, owner_unit_id, open_only, overdue_as_of, limit, offset):
    query = select(ActionItem).order_by(ActionItem.due_on, ActionItem.id)
    if owner_unit_id:
        query = query.where(ActionItem.owner_unit_id == owner_unit_id)
    if open_only or overdue_as_of:
        query = query.where(ActionItem.closed_on.is_(None))
    if overdue_as_of:
        query = query.where(ActionItem.due_on < overdue_as_of)
    return select_page(session, query, limit, offset)


def open_follow_ups(session, as_of):
    """``(action item, field visit)`` of the visits' follow-up actions open on ``as_of``."""
    return session.execute(
        select(ActionItem, FieldVisit)
        .join(FieldVisit, FieldVisit.id == ActionItem.source_id)
        .where(ActionItem.source_type == "field_visit",
               (ActionItem.closed_on.is_(None)) | (ActionItem.closed_on > as_of))
        .order_by(ActionItem.id)).all()


# ----------------------------------------------------------------- regulations


def latest_version(session, regulation_id):
    return session.scalar(select(RegulationVersion).where(
        RegulationVersion.regulation_id == regulation_id)
        .order_by(RegulationVersion.number.desc()).limit(1))


def versions(session, regulation_id):
    """Every version of the regulation, oldest first."""
    return session.scalars(select(RegulationVersion).where(
        RegulationVersion.regulation_id == regulation_id)
        .order_by(RegulationVersion.number)).all()


def regulations(session, category, status, limit, offset):
    query = select(Regulation).order_by(Regulation.id)
    if category:
        query = query.where(Regulation.category == category)
    if status:
        query = query.where(Regulation.status == status)
    return select_page(session, query, limit, offset)


# ----------------------------------------------------------------- coverage and export


def coverage_facts(session, as_of, unit_ids):
    """What ``rules.coverage`` counts, for ``unit_ids`` (None: every unit)."""
    query = select(Unit)
    if unit_ids is not None:
        query = query.where(Unit.id.in_(unit_ids))
    units = [rules.UnitFacts(u.id, u.name, u.domain, u.established_on, u.closed_on)
             for u in session.scalars(query)]
    ids = [u.id for u in units]
    unions = session.execute(select(Union.unit_id, Union.established_on, Union.closed_on,
                                    Union.id).where(Union.unit_id.in_(ids))).all()
    terms = session.execute(select(Term.union_id, Term.starts_on, Term.ends_on,
                                   Term.closed_on)
                            .where(Term.union_id.in_([u.id for u in unions]))).all()
    member_units = session.scalars(select(Member.unit_id).where(
        Member.unit_id.in_(ids), Member.joined_on <= as_of,
        (Member.left_on.is_(None)) | (Member.left_on > as_of))).all()
    return units, unions, terms, member_units


def codes_by_unit_id(session):
    return dict(session.execute(select(Unit.id, Unit.code)).all())


def open_units(session):
    return session.scalars(select(Unit).where(Unit.closed_on.is_(None))
                           .order_by(Unit.id)).all()


def open_unions_by_unit(session):
    return {u.unit_id: u for u in session.scalars(select(Union).where(
        Union.closed_on.is_(None)))}


def current_members(session):
    return session.scalars(select(Member).where(Member.left_on.is_(None))
                           .order_by(Member.employee_no)).all()
