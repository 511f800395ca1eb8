"""The union tree: the company's business units and the unions in them — the company union
(公司工会), grassroots unions (基层工会) and union groups (工会小组). A union's parent is the
union of its nearest ancestor unit that has one.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

from gonghui.errors import Conflict, NotFound, get_or_not_found
from services.organization import events, members, payloads, queries, rules
from services.organization.models import RoleAssignment, Union, Unit

UNIT_FIELDS = ("id", "code", "name", "kind", "domain", "parent_id", "established_on",
               "closed_on")


def unit_out(unit, depth=0):
    return {**{c: getattr(unit, c) for c in UNIT_FIELDS}, "depth": depth}


def union_out(union, parent_union_id):
    return {"id": union.id, "unit_id": union.unit_id, "level": union.level,
            "name": union.name, "established_on": union.established_on,
            "closed_on": union.closed_on, "parent_union_id": parent_union_id}


# ----------------------------------------------------------------- units


def create_unit(work, code, name, kind, domain, parent_id, established_on):
    if queries.unit_id_by_code(work.db, code):
        raise Conflict(f"unit code {code} is taken", {"code": ["already used"]})
    if parent_id is not None:
        queries.open_unit(work.db, parent_id)
    elif queries.has_open_top_unit(work.db):
        raise Conflict("there is already a top unit", {"parent_id": ["required"]})
    unit = Unit(code=code, name=name, kind=kind, domain=domain, parent_id=parent_id,
                established_on=established_on)
    work.db.add(unit)
    work.db.flush()
    work.emit(events.UNIT_CREATED, payloads.unit(work.db, unit), ("unit", unit.id))
    return unit


def rename_unit(work, unit_id, name):
    unit = queries.open_unit(work.db, unit_id)
    old = unit.name
    unit.name = name
    work.emit(events.UNIT_RENAMED, payloads.unit_renamed(unit, old), ("unit", unit.id),
              changes={"name": [old, name]})
    return unit


def move_unit(work, unit_id, parent_id):
    unit = queries.open_unit(work.db, unit_id)
    parent = queries.open_unit(work.db, parent_id)
    rules.check_move(unit.id, parent.id, {u.id for u in queries.ancestors(work.db, parent.id)})
    union = queries.open_union(work.db, unit.id)
    if union is not None:
        chain = queries.union_chain(work.db, parent.id)
        above = chain[0][1] if chain else None
        rules.check_union_placement(union.level, above.level if above else None)
    old = unit.parent_id
    unit.parent_id = parent.id
    work.emit(events.UNIT_MOVED, payloads.unit_moved(unit, old, parent), ("unit", unit.id),
              changes={"parent_id": [old, parent.id]})
    return unit


def close_unit(work, unit_id, closed_on):
    unit = queries.open_unit(work.db, unit_id)
    if queries.has_open_units_below(work.db, unit.id):
        raise Conflict("close or move the units below first", {"unit_id": ["has units"]})
    if queries.open_union(work.db, unit.id) is not None:
        raise Conflict("close the unit's union first", {"unit_id": ["has a union"]})
    if queries.has_current_members(work.db, unit.id):
        raise Conflict("move the unit's members first", {"unit_id": ["has members"]})
    unit.closed_on = closed_on
    work.emit(events.UNIT_CLOSED, payloads.unit_closed(unit), ("unit", unit.id))
    return unit


def get_unit(session, unit_id):
    return unit_out(get_or_not_found(session, Unit, unit_id, "unit"))


def list_units(session, domain, kind, include_closed, limit, offset):
    return queries.units_page(session, domain, kind, include_closed, limit, offset).map(
        lambda row: unit_out(*row))


def subtree(session, unit_id, include_closed):
    """The unit and every unit below it, shallowest first."""
    get_or_not_found(session, Unit, unit_id, "unit")
    depths = queries.subtree_ids(session, unit_id)
    return sorted((unit_out(u, depths[u.id])
                   for u in queries.units_in(session, depths, include_closed)),
                  key=lambda u: (u["depth"], u["id"]))


def ancestors(session, unit_id):
    """Units above this one, nearest first, at depth -1, -2, …"""
    get_or_not_found(session, Unit, unit_id, "unit")
    return [unit_out(u, -i - 1) for i, u in enumerate(queries.ancestors(session, unit_id))]


# ----------------------------------------------------------------- unions


def establish_union(work, unit_id, level, name, established_on):
    """The union, established (or established again after being dissolved), and the id of
    the union above it."""
    unit = queries.open_unit(work.db, unit_id)
    existing = queries.unit_union(work.db, unit.id)
    rules.check_union_step(rules.union_status(existing), "establish")
    _, above = queries.parent_union(work.db, unit.id)
    rules.check_union_placement(level, above.level if above else None)
    if existing is not None:  # re-established after being dissolved
        existing.level, existing.name = level, name
        existing.established_on, existing.closed_on = established_on, None
        union = existing
    else:
        union = Union(unit_id=unit.id, level=level, name=name, established_on=established_on)
        work.db.add(union)
    work.db.flush()
    data = payloads.union(work.db, union)
    work.emit(events.UNION_ESTABLISHED, data, ("union", union.id))
    return union, data["parent_union_id"]


def close_union(work, unit_id, closed_on):
    """Dissolve the unit's union once no union below is open; its roles end that day."""
    union = queries.open_union(work.db, unit_id)
    if union is None:
        raise NotFound(f"unit {unit_id} has no open union", {"unit_id": ["no union"]})
    if queries.has_open_unions_in(work.db, set(queries.subtree_ids(work.db, unit_id))
                                  - {unit_id}):
        raise Conflict("close the unions below first", {"unit_id": ["has unions below"]})
    union.closed_on = closed_on
    members.end_roles(work, queries.open_roles(work.db, RoleAssignment.union_id == union.id),
                      closed_on)
    data = payloads.union(work.db, union)
    work.emit(events.UNION_CLOSED, data, ("union", union.id))
    return union_out(union, data["parent_union_id"])


def union_serving(session, unit_id):
    """The unit's own union, or the nearest one above it."""
    chain = queries.union_chain(session, unit_id)
    if not chain:
        raise NotFound(f"no union serves unit {unit_id}", {"unit_id": ["no union"]})
    return union_out(chain[0][1], chain[1][1].id if len(chain) > 1 else None)
