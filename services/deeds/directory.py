"""The deeds service's read model of the union tree, kept from organization's events so
that escalation finds the parent union's officers while organization is down."""

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from services.deeds.models import DirectoryMember, DirectoryRole, DirectoryUnion, DirectoryUnit
from services.deeds.rules import OFFICER_ROLES


def upsert(session, model, keys, values):
    statement = insert(model).values(**keys, **values)
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=values)
                    if values else statement.on_conflict_do_nothing())


def apply_unit(session, unit_id, name, parent_id, closed=False):
    upsert(session, DirectoryUnit, {"unit_id": unit_id},
           {"name": name, "parent_id": parent_id, "closed": closed})


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


def counts(session):
    from sqlalchemy import func
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in (
        ("units", DirectoryUnit), ("unions", DirectoryUnion), ("members", DirectoryMember),
        ("roles", DirectoryRole))}


class Lookup:
    """The read model loaded once per worker: a tick emitting thousands of events looks up
    names, union chains and officers in memory instead of one query each."""

    def __init__(self, session):
        self.units = {u.unit_id: u for u in session.scalars(select(DirectoryUnit))}
        self.members = {m.member_id: m for m in session.scalars(select(DirectoryMember))}
        self.union_of_unit = {u.unit_id: u.union_id for u in session.scalars(
            select(DirectoryUnion).where(DirectoryUnion.closed.is_(False)))}
        self._officers = {}
        for role in session.scalars(select(DirectoryRole).where(
                DirectoryRole.active.is_(True), DirectoryRole.role.in_(OFFICER_ROLES))):
            member = self.members.get(role.member_id)
            if member is not None and not member.left:
                self._officers.setdefault(role.union_id, set()).add(role.member_id)
        self._chains = {}

    def unit_name(self, unit_id):
        unit = self.units.get(unit_id)
        return unit.name if unit else f"#{unit_id}"

    def member_name(self, member_id):
        if member_id is None:
            return None
        member = self.members.get(member_id)
        return member.name if member else f"#{member_id}"

    def union_chain(self, unit_id):
        if unit_id not in self._chains:
            chain, current, seen = [], unit_id, set()
            while current is not None and current not in seen:
                seen.add(current)
                if current in self.union_of_unit:
                    chain.append((current, self.union_of_unit[current]))
                current = self.units[current].parent_id if current in self.units else None
            self._chains[unit_id] = chain
        return self._chains[unit_id]

    def officers(self, union_id):
        return sorted(self._officers.get(union_id, ()))
