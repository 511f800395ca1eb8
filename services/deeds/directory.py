"""The deeds service's read model of the union tree, kept from organization's events so
that escalation finds the parent union's officers while organization is down."""

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from gonghui.errors import get_or_not_found
from services.deeds.models import (
    DirectoryMember,
    DirectoryRole,
    DirectoryUnion,
    DirectoryUnit,
    SupervisionOrder,
)
from services.deeds.rules import OFFICER_ROLES


def upsert(session, model, keys, values):
    statement = insert(model).values(**keys, **values)
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=values)
                    if values else statement.on_conflict_do_nothing())


def apply_unit(session, unit_id, name, parent_id, closed=False):
    upsert(session, DirectoryUnit, {"unit_id": unit_id},
           {"name": name, "parent_id": parent_id, "closed": closed})


def reopen_orders_at_top(session):
    """The tree grew above some unit (a move, a new union): orders parked at the top union
    are looked at again by the next tick, which escalates them if there is now a union above
    or parks them again."""
    session.execute(update(SupervisionOrder).where(
        SupervisionOrder.status == "open", SupervisionOrder.at_top.is_(True))
        .values(at_top=False))


def apply_union(session, union_id, unit_id, level, closed=False):
    upsert(session, DirectoryUnion, {"union_id": union_id},
           {"unit_id": unit_id, "level": level, "closed": closed})


def apply_member(session, member_id, name, unit_id, left=False):
    upsert(session, DirectoryMember, {"member_id": member_id},
           {"name": name, "unit_id": unit_id, "left": left})


def apply_role(session, member_id, union_id, role, active):
    upsert(session, DirectoryRole, {"member_id": member_id, "union_id": union_id, "role": role},
           {"active": active})


def replace_all(session, snapshot):
    """A full resync from organization's ``directory_snapshot``."""
    for model in (DirectoryRole, DirectoryMember, DirectoryUnion, DirectoryUnit):
        session.execute(delete(model))
    for u in snapshot["units"]:
        apply_unit(session, u["unit_id"], u["name"], u["parent_id"], u["closed"])
    for u in snapshot["unions"]:
        apply_union(session, u["union_id"], u["unit_id"], u["level"], u["closed"])
    for m in snapshot["members"]:
        apply_member(session, m["member_id"], m["name"], m["unit_id"], m["left"])
    for r in snapshot["roles"]:
        apply_role(session, r["member_id"], r["union_id"], r["role"], True)
    reopen_orders_at_top(session)


UNKNOWN = "not in deeds' directory (unknown, or not yet synchronised from organization)"


def unit(session, unit_id, field="unit_id"):
    """The unit of the read model, else ``NotFound`` under the argument ``field``; nothing
    to look up for ``None`` (an optional argument left out)."""
    if unit_id is None:
        return None
    return get_or_not_found(session, DirectoryUnit, unit_id, "unit", field, UNKNOWN)


def member(session, member_id, field="member_id"):
    """The member of the read model, else ``NotFound`` under the argument ``field``; nothing
    to look up for ``None``."""
    if member_id is None:
        return None
    return get_or_not_found(session, DirectoryMember, member_id, "member", field, UNKNOWN)


def counts(session):
    from sqlalchemy import func
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in (
        ("units", DirectoryUnit), ("unions", DirectoryUnion), ("members", DirectoryMember),
        ("roles", DirectoryRole))}


class Lookup:
    """Names, union chains and officers from the read model, cached for one worker.

    A single RPC looks up only the rows it names (the directory may hold tens of thousands
    of members); bulk work, such as a tick emitting thousands of events, loads each table
    once after ``BULK_AFTER`` point lookups instead of one query per event."""

    BULK_AFTER = 32

    def __init__(self, session):
        self.session = session
        self._rows = {"unit": {}, "member": {}}
        self._complete = {"unit": False, "member": False}
        self._misses = {"unit": 0, "member": 0}
        self._union_of_unit = None
        self._officers = None
        self._chains = {}

    _QUERIES = {
        "unit": (DirectoryUnit.unit_id, DirectoryUnit.name, DirectoryUnit.parent_id),
        "member": (DirectoryMember.member_id, DirectoryMember.name, DirectoryMember.left),
    }

    def _row(self, kind, key):
        rows = self._rows[kind]
        if key in rows or self._complete[kind]:
            return rows.get(key)
        self._misses[kind] += 1
        if self._misses[kind] > self.BULK_AFTER:
            self._load(kind)
            return self._rows[kind].get(key)
        key_column = self._QUERIES[kind][0]
        rows[key] = self.session.execute(
            select(*self._QUERIES[kind]).where(key_column == key)).first()
        return rows[key]

    def _load(self, kind):
        self._rows[kind] = {row[0]: row for row in self.session.execute(
            select(*self._QUERIES[kind]))}
        self._complete[kind] = True

    def unit_name(self, unit_id):
        unit = self._row("unit", unit_id)
        return unit.name if unit else f"#{unit_id}"

    def member_name(self, member_id):
        if member_id is None:
            return None
        member = self._row("member", member_id)
        return member.name if member else f"#{member_id}"

    def union_chain(self, unit_id):
        """``[(unit_id, union_id), ...]`` from the unit up to the top union: the whole tree is
        loaded once, since escalation walks it for every order."""
        if self._union_of_unit is None:
            self._load("unit")
            self._union_of_unit = dict(self.session.execute(
                select(DirectoryUnion.unit_id, DirectoryUnion.union_id).where(
                    DirectoryUnion.closed.is_(False))).all())
        if unit_id not in self._chains:
            units = self._rows["unit"]
            chain, current, seen = [], unit_id, set()
            while current is not None and current not in seen:
                seen.add(current)
                if current in self._union_of_unit:
                    chain.append((current, self._union_of_unit[current]))
                current = units[current].parent_id if current in units else None
            self._chains[unit_id] = chain
        return self._chains[unit_id]

    def officers(self, union_id):
        """The union's active chair and vice-chairs who are still members."""
        if self._officers is None:
            self._officers = {}
            for member_id, role_union in self.session.execute(
                    select(DirectoryRole.member_id, DirectoryRole.union_id)
                    .join(DirectoryMember, DirectoryMember.member_id == DirectoryRole.member_id)
                    .where(DirectoryRole.active.is_(True),
                           DirectoryRole.role.in_(OFFICER_ROLES),
                           DirectoryMember.left.is_(False))):
                self._officers.setdefault(role_union, set()).add(member_id)
        return sorted(self._officers.get(union_id, ()))
