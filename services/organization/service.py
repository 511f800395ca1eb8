"""The organization service: union tree, members and roles, terms and elections (换届),
coverage, cadre training and field visits, meetings and their tasks, regulations (制度),
import and export of the offices' spreadsheets.

Entrypoints are thin: arguments are validated by the schemas, the rules live in
``rules.py``, tree queries in ``tree.py``; every change goes to the audit trail and the
outbox in the worker's transaction.
"""

import base64
from datetime import UTC, datetime

from sqlalchemy import func, select

from gonghui import service as kit
from gonghui.actor import SYSTEM_TICK
from gonghui.clock import today
from gonghui.daily import begin_day
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, GonghuiError, NotFound, ValidationError
from gonghui.events import emit
from services.organization import events, importer, rules, snapshot
from services.organization import schemas as s
from services.organization.models import (
    ActionItem,
    ActionItemNotice,
    Election,
    FieldVisit,
    Meeting,
    Member,
    Regulation,
    RegulationVersion,
    RoleAssignment,
    Term,
    TermNotice,
    Training,
    Union,
    Unit,
)
from services.organization.tree import (
    ancestors,
    depths,
    get,
    open_union,
    parent_union,
    role_holders,
    subtree_ids,
    union_chain,
)


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class OrganizationService(kit.DailyTimer, kit.ServiceBase):
    name = "organization"
    tick_name = "organization.tick"

    # ------------------------------------------------------------ helpers

    def _emit(self, declared, data, aggregate, actor=None, changes=None):
        emit(self.db, declared, data, actor=actor or self.actor(), aggregate=aggregate,
             changes=changes)

    def _unit_data(self, unit):
        parent = self.db.get(Unit, unit.parent_id) if unit.parent_id else None
        return {"unit_id": unit.id, "unit_name": unit.name, "code": unit.code,
                "kind": unit.kind, "domain": unit.domain, "parent_id": unit.parent_id,
                "parent_name": parent.name if parent else None,
                "established_on": unit.established_on}

    def _open_unit(self, unit_id):
        unit = get(self.db, Unit, unit_id, "unit")
        if unit.closed_on is not None:
            raise Conflict(f"unit {unit_id} is closed", {"unit_id": ["closed"]})
        return unit

    def _member_data(self, member):
        unit = self.db.get(Unit, member.unit_id)
        return {"member_id": member.id, "employee_no": member.employee_no,
                "name": member.name, "gender": member.gender, "unit_id": unit.id,
                "unit_name": unit.name, "email": member.email, "mobile": member.mobile,
                "wecom_id": member.wecom_id, "joined_on": member.joined_on,
                "left_on": member.left_on}

    def _union_data(self, union):
        unit = self.db.get(Unit, union.unit_id)
        _, parent = parent_union(self.db, unit.id)
        return {"unit_id": unit.id, "unit_name": unit.name, "union_id": union.id,
                "union_name": union.name, "level": union.level,
                "parent_union_id": parent.id if parent else None,
                "established_on": union.established_on, "closed_on": union.closed_on}

    def _role_data(self, assignment):
        member = self.db.get(Member, assignment.member_id)
        union = self.db.get(Union, assignment.union_id)
        unit = self.db.get(Unit, union.unit_id)
        return {"unit_id": unit.id, "unit_name": unit.name, "member_id": member.id,
                "member_name": member.name, "union_id": union.id, "role": assignment.role,
                "term_id": assignment.term_id, "starts_on": assignment.starts_on,
                "ends_on": assignment.ends_on}

    def _term_data(self, term):
        union = self.db.get(Union, term.union_id)
        unit = self.db.get(Unit, union.unit_id)
        return {"unit_id": unit.id, "unit_name": unit.name, "union_id": union.id,
                "union_name": union.name, "term_id": term.id, "number": term.number,
                "starts_on": term.starts_on, "ends_on": term.ends_on}

    def _active_member(self, member_id):
        member = get(self.db, Member, member_id, "member")
        if member.left_on is not None:
            raise Conflict(f"member {member_id} has left the union", {"member_id": ["left"]})
        return member

    def _require_members(self, member_ids, field):
        found = set(self.db.scalars(select(Member.id).where(Member.id.in_(member_ids))))
        missing = sorted(set(member_ids) - found)
        if missing:
            raise NotFound("unknown members", {field: [f"member {m} not found"
                                                       for m in missing]})

    # ------------------------------------------------------------ units

    @rpc(args=s.CreateUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def create_unit(self, code, name, kind, domain, parent_id, established_on):
        """Add a business unit under ``parent_id`` (none: the company at the top)."""
        return self._unit_out(self._create_unit(code, name, kind, domain, parent_id,
                                                established_on))

    def _create_unit(self, code, name, kind, domain, parent_id, established_on):
        if self.db.scalar(select(Unit.id).where(Unit.code == code)):
            raise Conflict(f"unit code {code} is taken", {"code": ["already used"]})
        if parent_id is not None:
            self._open_unit(parent_id)
        elif self.db.scalar(select(func.count()).select_from(Unit).where(
                Unit.parent_id.is_(None), Unit.closed_on.is_(None))):
            raise Conflict("there is already a top unit", {"parent_id": ["required"]})
        unit = Unit(code=code, name=name, kind=kind, domain=domain, parent_id=parent_id,
                    established_on=established_on)
        self.db.add(unit)
        self.db.flush()
        self._emit(events.UNIT_CREATED, self._unit_data(unit), ("unit", unit.id))
        return unit

    def _unit_out(self, unit, depth=0):
        return {**{c: getattr(unit, c) for c in ("id", "code", "name", "kind", "domain",
                                                 "parent_id", "established_on",
                                                 "closed_on")}, "depth": depth}

    @rpc(args=s.RenameUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def rename_unit(self, unit_id, name):
        return self._unit_out(self._rename_unit(unit_id, name))

    def _rename_unit(self, unit_id, name):
        unit = self._open_unit(unit_id)
        old = unit.name
        unit.name = name
        self._emit(events.UNIT_RENAMED, {"unit_id": unit.id, "unit_name": name,
                                         "old_name": old}, ("unit", unit.id),
                   changes={"name": [old, name]})
        return unit

    @rpc(args=s.MoveUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def move_unit(self, unit_id, parent_id):
        """Move a unit (and its subtree) under another parent; cycles are refused."""
        return self._unit_out(self._move_unit(unit_id, parent_id))

    def _move_unit(self, unit_id, parent_id):
        unit = self._open_unit(unit_id)
        parent = self._open_unit(parent_id)
        rules.check_move(unit.id, parent.id, {u.id for u in ancestors(self.db, parent.id)})
        union = open_union(self.db, unit.id)
        if union is not None:
            chain = union_chain(self.db, parent.id)
            above = chain[0][1] if chain else None
            rules.check_union_placement(union.level, above.level if above else None)
        old = unit.parent_id
        unit.parent_id = parent.id
        self._emit(events.UNIT_MOVED, {"unit_id": unit.id, "unit_name": unit.name,
                                       "old_parent_id": old, "new_parent_id": parent.id,
                                       "new_parent_name": parent.name}, ("unit", unit.id),
                   changes={"parent_id": [old, parent.id]})
        return unit

    @rpc(args=s.CloseUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def close_unit(self, unit_id, closed_on):
        """Close a unit that has no open units, union or members below it."""
        unit = self._open_unit(unit_id)
        if self.db.scalar(select(func.count()).select_from(Unit).where(
                Unit.parent_id == unit.id, Unit.closed_on.is_(None))):
            raise Conflict("close or move the units below first", {"unit_id": ["has units"]})
        if open_union(self.db, unit.id) is not None:
            raise Conflict("close the unit's union first", {"unit_id": ["has a union"]})
        if self.db.scalar(select(func.count()).select_from(Member).where(
                Member.unit_id == unit.id, Member.left_on.is_(None))):
            raise Conflict("move the unit's members first", {"unit_id": ["has members"]})
        unit.closed_on = closed_on
        self._emit(events.UNIT_CLOSED, {"unit_id": unit.id, "unit_name": unit.name,
                                        "closed_on": closed_on}, ("unit", unit.id))
        return self._unit_out(unit)

    @rpc(args=s.UnitId, result=s.UnitOut, errors=(NotFound,))
    def get_unit(self, unit_id):
        return self._unit_out(get(self.db, Unit, unit_id, "unit"))

    @rpc(args=s.ListUnits, result=s.UnitOut, many=True)
    def list_units(self, domain, kind, include_closed, limit, offset):
        """Units with each one's depth in the tree (0 for the top unit)."""
        tree = depths()
        query = (select(Unit, tree.c.depth).join(tree, tree.c.id == Unit.id)
                 .order_by(Unit.id).limit(limit).offset(offset))
        if domain:
            query = query.where(Unit.domain == domain)
        if kind:
            query = query.where(Unit.kind == kind)
        if not include_closed:
            query = query.where(Unit.closed_on.is_(None))
        return [self._unit_out(u, depth) for u, depth in self.db.execute(query)]

    @rpc(args=s.UnitQuery, result=s.UnitOut, many=True, errors=(NotFound,))
    def subtree(self, unit_id, include_closed):
        """The unit and every unit below it, with each one's depth."""
        get(self.db, Unit, unit_id, "unit")
        depths = subtree_ids(self.db, unit_id)
        query = select(Unit).where(Unit.id.in_(depths)).order_by(Unit.id)
        if not include_closed:
            query = query.where(Unit.closed_on.is_(None))
        return sorted((self._unit_out(u, depths[u.id]) for u in self.db.scalars(query)),
                      key=lambda u: (u["depth"], u["id"]))

    @rpc(args=s.UnitId, result=s.UnitOut, many=True, errors=(NotFound,))
    def ancestors(self, unit_id):
        """Units above this one, nearest first."""
        get(self.db, Unit, unit_id, "unit")
        return [self._unit_out(u, -i - 1) for i, u in enumerate(ancestors(self.db, unit_id))]

    # ------------------------------------------------------------ unions

    @rpc(args=s.EstablishUnion, result=s.UnionOut, writes=True, errors=(NotFound, Conflict))
    def establish_union(self, unit_id, level, name, established_on):
        """Set up a union in a unit: company union at the top, grassroots unions under it,
        union groups under those."""
        union, parent_union_id = self._establish_union(unit_id, level, name, established_on)
        return self._union_out(union, parent_union_id)

    def _establish_union(self, unit_id, level, name, established_on):
        unit = self._open_unit(unit_id)
        existing = self.db.scalar(select(Union).where(Union.unit_id == unit.id))
        if existing is not None and existing.closed_on is None:
            raise Conflict("the unit already has a union", {"unit_id": ["has a union"]})
        _, above = parent_union(self.db, unit.id)
        rules.check_union_placement(level, above.level if above else None)
        if existing is not None:  # re-established after being dissolved
            existing.level, existing.name = level, name
            existing.established_on, existing.closed_on = established_on, None
            union = existing
        else:
            union = Union(unit_id=unit.id, level=level, name=name,
                          established_on=established_on)
            self.db.add(union)
        self.db.flush()
        data = self._union_data(union)
        self._emit(events.UNION_ESTABLISHED, data, ("union", union.id))
        return union, data["parent_union_id"]

    def _union_out(self, union, parent_union_id):
        return {"id": union.id, "unit_id": union.unit_id, "level": union.level,
                "name": union.name, "established_on": union.established_on,
                "closed_on": union.closed_on, "parent_union_id": parent_union_id}

    @rpc(args=s.CloseUnion, result=s.UnionOut, writes=True, errors=(NotFound, Conflict))
    def close_union(self, unit_id, closed_on):
        union = open_union(self.db, unit_id)
        if union is None:
            raise NotFound(f"unit {unit_id} has no open union", {"unit_id": ["no union"]})
        below = set(subtree_ids(self.db, unit_id)) - {unit_id}
        if below and self.db.scalar(select(func.count()).select_from(Union).where(
                Union.unit_id.in_(below), Union.closed_on.is_(None))):
            raise Conflict("close the unions below first", {"unit_id": ["has unions below"]})
        union.closed_on = closed_on
        for assignment in self.db.scalars(select(RoleAssignment).where(
                RoleAssignment.union_id == union.id, RoleAssignment.ends_on.is_(None))):
            assignment.ends_on = closed_on
            self._emit(events.ROLE_ENDED, self._role_data(assignment),
                       ("member", assignment.member_id))
        data = self._union_data(union)
        self._emit(events.UNION_CLOSED, data, ("union", union.id))
        return self._union_out(union, data["parent_union_id"])

    @rpc(args=s.UnitId, result=s.UnionOut, errors=(NotFound,))
    def get_union(self, unit_id):
        """The union serving a unit: its own, or the nearest one above it."""
        chain = union_chain(self.db, unit_id)
        if not chain:
            raise NotFound(f"no union serves unit {unit_id}", {"unit_id": ["no union"]})
        union = chain[0][1]
        return self._union_out(union, chain[1][1].id if len(chain) > 1 else None)

    # ------------------------------------------------------------ members

    @rpc(args=s.AddMember, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def add_member(self, employee_no, name, gender, unit_id, email, mobile, wecom_id,
                   joined_on):
        """A worker joins the union (employee number unique)."""
        return self._add_member(employee_no, name, gender, unit_id, email, mobile, wecom_id,
                                joined_on)

    def _add_member(self, employee_no, name, gender, unit_id, email, mobile, wecom_id,
                    joined_on):
        if self.db.scalar(select(Member.id).where(Member.employee_no == employee_no)):
            raise Conflict(f"employee number {employee_no} is taken",
                           {"employee_no": ["already a member"]})
        self._open_unit(unit_id)
        member = Member(employee_no=employee_no, name=name, gender=gender, unit_id=unit_id,
                        email=email, mobile=mobile, wecom_id=wecom_id, joined_on=joined_on)
        self.db.add(member)
        self.db.flush()
        self._emit(events.MEMBER_JOINED, self._member_data(member), ("member", member.id))
        return member

    @rpc(args=s.UpdateMember, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def update_member(self, member_id, **changes):
        """Change a member's name, unit or contact details."""
        return self._update_member(member_id, **changes)

    def _update_member(self, member_id, **changes):
        member = self._active_member(member_id)
        if "unit_id" in changes:
            self._open_unit(changes["unit_id"])
        diff = {k: [getattr(member, k), v] for k, v in changes.items()
                if getattr(member, k) != v}
        for key, (_, new) in diff.items():
            setattr(member, key, new)
        if diff:
            self._emit(events.MEMBER_UPDATED, self._member_data(member),
                       ("member", member.id), changes=diff)
        return member

    @rpc(args=s.MemberLeaves, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def member_leaves(self, member_id, left_on):
        """A member leaves the union; their roles end the same day."""
        member = self._active_member(member_id)
        if left_on < member.joined_on:
            raise Conflict("cannot leave before joining", {"left_on": ["before joined_on"]})
        member.left_on = left_on
        for assignment in self.db.scalars(select(RoleAssignment).where(
                RoleAssignment.member_id == member.id, RoleAssignment.ends_on.is_(None))):
            assignment.ends_on = left_on
            self._emit(events.ROLE_ENDED, self._role_data(assignment), ("member", member.id))
        self._emit(events.MEMBER_LEFT, self._member_data(member), ("member", member.id))
        return member

    @rpc(args=s.MemberId, result=s.MemberOut, errors=(NotFound,))
    def get_member(self, member_id):
        return get(self.db, Member, member_id, "member")

    @rpc(args=s.ListMembers, result=s.MemberOut, many=True, errors=(NotFound,))
    def list_members(self, unit_id, subtree, include_left, limit, offset):
        """Members of a unit (and, by default, of every unit under it)."""
        query = select(Member).order_by(Member.employee_no).limit(limit).offset(offset)
        if unit_id is not None:
            get(self.db, Unit, unit_id, "unit")
            ids = list(subtree_ids(self.db, unit_id)) if subtree else [unit_id]
            query = query.where(Member.unit_id.in_(ids))
        if not include_left:
            query = query.where(Member.left_on.is_(None))
        return list(self.db.scalars(query))

    # ------------------------------------------------------------ roles

    @rpc(args=s.AssignRole, result=s.RoleOut, writes=True, errors=(NotFound, Conflict))
    def assign_role(self, member_id, unit_id, role, starts_on):
        """Give a member a role in the union of ``unit_id``."""
        member = self._active_member(member_id)
        union = open_union(self.db, unit_id)
        if union is None:
            raise Conflict(f"unit {unit_id} has no union", {"unit_id": ["no union"]})
        if role == "chair" and role_holders(self.db, union.id, ["chair"], starts_on):
            raise Conflict("the union already has a chair", {"role": ["end the chair first"]})
        if any(a.member_id == member.id for a, _ in
               role_holders(self.db, union.id, [role], starts_on)):
            raise Conflict("the member already holds this role", {"role": ["held"]})
        term = self.db.scalar(select(Term).where(Term.union_id == union.id,
                                                 Term.closed_on.is_(None)))
        assignment = RoleAssignment(member_id=member.id, union_id=union.id, role=role,
                                    starts_on=starts_on,
                                    term_id=term.id if term and role in rules.COMMITTEE_ROLES
                                    else None)
        self.db.add(assignment)
        self.db.flush()
        self._emit(events.ROLE_ASSIGNED, self._role_data(assignment), ("member", member.id))
        return assignment

    @rpc(args=s.EndRole, result=s.RoleOut, writes=True, errors=(NotFound, Conflict))
    def end_role(self, assignment_id, ends_on):
        assignment = get(self.db, RoleAssignment, assignment_id, "assignment")
        if assignment.ends_on is not None:
            raise Conflict("the role has already ended", {"assignment_id": ["ended"]})
        if ends_on < assignment.starts_on:
            raise Conflict("a role cannot end before it starts", {"ends_on": ["too early"]})
        assignment.ends_on = ends_on
        self._emit(events.ROLE_ENDED, self._role_data(assignment),
                   ("member", assignment.member_id))
        return assignment

    def _recipients(self, unit, union, roles, as_of):
        return [{"member_id": m.id, "name": m.name, "employee_no": m.employee_no,
                 "role": a.role, "unit_id": unit.id, "unit_name": unit.name,
                 "email": m.email, "mobile": m.mobile, "wecom_id": m.wecom_id}
                for a, m in role_holders(self.db, union.id, roles, as_of)]

    @rpc(args=s.RoleQuery, result=s.RecipientOut, many=True, errors=(NotFound,))
    def recipients(self, unit_id, role, as_of):
        """Who holds ``role`` in the union serving the unit (its own or the nearest above)."""
        chain = union_chain(self.db, unit_id)
        if not chain:
            return []
        unit, union = chain[0]
        return self._recipients(unit, union, [role], as_of)

    @rpc(args=s.EscalationQuery, result=s.RecipientOut, many=True, errors=(NotFound,))
    def escalation_recipients(self, unit_id, role, as_of, levels_up):
        """Who holds ``role`` ``levels_up`` unions above the union serving the unit, e.g.
        the chair of the parent union; the top union's holders when the chain is shorter."""
        chain = union_chain(self.db, unit_id)
        if not chain:
            return []
        unit, union = chain[min(levels_up, len(chain) - 1)]
        return self._recipients(unit, union, [role], as_of)

    # ------------------------------------------------------------ terms and elections

    def _union_for_term(self, unit_id):
        union = open_union(self.db, unit_id)
        if union is None:
            raise Conflict(f"unit {unit_id} has no union", {"unit_id": ["no union"]})
        return union

    @rpc(args=s.StartTerm, result=s.TermOut, writes=True, errors=(NotFound, Conflict))
    def start_term(self, unit_id, starts_on, ends_on):
        """Record a union's current term when it is first put on the platform."""
        rules.check_term_dates(starts_on, ends_on)
        union = self._union_for_term(unit_id)
        if self.db.scalar(select(Term.id).where(Term.union_id == union.id,
                                                Term.closed_on.is_(None))):
            raise Conflict("the union has a current term: record an election instead",
                           {"unit_id": ["term open"]})
        number = (self.db.scalar(select(func.max(Term.number)).where(
            Term.union_id == union.id)) or 0) + 1
        term = Term(union_id=union.id, number=number, starts_on=starts_on, ends_on=ends_on)
        self.db.add(term)
        self.db.flush()
        self._emit(events.TERM_STARTED, self._term_data(term), ("union", union.id))
        return term

    @rpc(args=s.UnitId, result=s.TermOut, errors=(NotFound,))
    def current_term(self, unit_id):
        union = open_union(self.db, unit_id)
        term = union and self.db.scalar(select(Term).where(Term.union_id == union.id,
                                                           Term.closed_on.is_(None)))
        if not term:
            raise NotFound(f"unit {unit_id} has no current term", {"unit_id": ["no term"]})
        return term

    @rpc(args=s.TermsDueQuery, result=s.TermDueOut, many=True, errors=(NotFound,))
    def terms_due(self, unit_id, as_of, within_days, limit, offset):
        """Unions of the unit and every unit below it whose term open on ``as_of`` has
        expired (``status`` ``expired``: no election recorded) or ends within
        ``within_days`` (``due``; default 90), the longest expired first: what a union's
        office chases for the elections (换届) below it."""
        get(self.db, Unit, unit_id, "unit")
        below = subtree_ids(self.db, unit_id)
        rows = []
        for term, union, unit in self.db.execute(
                select(Term, Union, Unit).join(Union, Union.id == Term.union_id)
                .join(Unit, Unit.id == Union.unit_id).where(Union.unit_id.in_(below))):
            if not (rules.open_on(union.established_on, union.closed_on, as_of)
                    and rules.open_on(term.starts_on, term.closed_on, as_of)):
                continue
            status = rules.term_standing(term.ends_on, as_of, within_days)
            if status is not None:
                rows.append({"unit_id": unit.id, "unit_name": unit.name,
                             "depth": below[unit.id], "union_id": union.id,
                             "union_name": union.name, "level": union.level,
                             "term_id": term.id, "number": term.number,
                             "starts_on": term.starts_on, "ends_on": term.ends_on,
                             "days_left": (term.ends_on - as_of).days, "status": status})
        rows.sort(key=lambda r: (r["ends_on"], r["unit_id"]))
        return rows[offset:offset + limit]

    @rpc(args=s.RecordElection, result=s.ElectionOut, writes=True,
         errors=(NotFound, Conflict))
    def record_election(self, unit_id, held_on, term_starts_on, term_ends_on, committee,
                        notes):
        """An election (换届): closes the current term, opens the next and replaces the
        committee roster (chair, vice-chairs, committee members)."""
        rules.check_term_dates(term_starts_on, term_ends_on)
        rules.check_committee(committee)
        union = self._union_for_term(unit_id)
        ids = [seat["member_id"] for seat in committee]
        self._require_members(ids, "committee")
        members = {m.id: m for m in self.db.scalars(select(Member).where(Member.id.in_(ids)))}
        gone = sorted(m for m, member in members.items() if member.left_on is not None)
        if gone:
            raise Conflict("former members cannot be elected",
                           {"committee": [f"member {m} has left" for m in gone]})
        old = self.db.scalar(select(Term).where(Term.union_id == union.id,
                                                Term.closed_on.is_(None)))
        if old is not None:
            if held_on < old.starts_on:
                raise Conflict("the election is before the current term began",
                               {"held_on": ["too early"]})
            old.closed_on = held_on
        for assignment in self.db.scalars(select(RoleAssignment).where(
                RoleAssignment.union_id == union.id,
                RoleAssignment.role.in_(rules.COMMITTEE_ROLES),
                RoleAssignment.ends_on.is_(None))):
            assignment.ends_on = term_starts_on
            self._emit(events.ROLE_ENDED, self._role_data(assignment),
                       ("member", assignment.member_id))
        number = (self.db.scalar(select(func.max(Term.number)).where(
            Term.union_id == union.id)) or 0) + 1
        term = Term(union_id=union.id, number=number, starts_on=term_starts_on,
                    ends_on=term_ends_on)
        self.db.add(term)
        self.db.flush()
        election = Election(union_id=union.id, held_on=held_on,
                            closed_term_id=old.id if old else None, new_term_id=term.id,
                            notes=notes)
        self.db.add(election)
        seats = []
        for seat in committee:
            assignment = RoleAssignment(member_id=seat["member_id"], union_id=union.id,
                                        role=seat["role"], term_id=term.id,
                                        starts_on=term_starts_on)
            self.db.add(assignment)
            self.db.flush()
            self._emit(events.ROLE_ASSIGNED, self._role_data(assignment),
                       ("member", seat["member_id"]))
            seats.append({"member_id": seat["member_id"], "role": seat["role"],
                          "member_name": members[seat["member_id"]].name})
        self.db.flush()
        self._emit(events.ELECTION_RECORDED, {
            **self._term_data(term), "election_id": election.id, "held_on": held_on,
            "closed_term_id": election.closed_term_id, "committee": seats},
            ("union", union.id))
        return {"id": election.id, "union_id": union.id, "held_on": held_on,
                "closed_term_id": election.closed_term_id, "new_term": term,
                "committee": seats}

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's periodic work for ``as_of``: term reminders 90 and 30 days before a
        term ends and once after it ended, and a reminder of each field visit's follow-up
        action still open after its due date, each exactly once. Idempotent."""
        return self._tick(as_of)

    def _tick(self, as_of):
        begin_day(self.db, self.tick_name, as_of)
        counts = {"term_expiring": 0, "term_expired": 0}
        open_terms = self.db.execute(
            select(Term, Union).join(Union, Union.id == Term.union_id)
            .where(Term.closed_on.is_(None), Union.closed_on.is_(None),
                   Term.starts_on <= as_of)).all()
        sent = {}
        for notice in self.db.scalars(select(TermNotice).where(
                TermNotice.term_id.in_([t.id for t, _ in open_terms]))):
            sent.setdefault(notice.term_id, set()).add(notice.kind)
        for term, union in open_terms:
            for kind in rules.term_notices_due(term.ends_on, as_of, sent.get(term.id, set())):
                self.db.add(TermNotice(term_id=term.id, kind=kind, sent_for=as_of))
                officers = role_holders(self.db, union.id, ["chair", "vice_chair"], as_of)
                parent_unit, _ = parent_union(self.db, union.unit_id)
                data = {**self._term_data(term), "days_left": (term.ends_on - as_of).days,
                        "as_of": as_of, "recipient_member_ids": [m.id for _, m in officers],
                        "parent_unit_id": parent_unit.id if parent_unit else None}
                declared = events.TERM_EXPIRED if kind == "expired" else events.TERM_EXPIRING
                self._emit(declared, data, ("union", union.id), actor=SYSTEM_TICK,
                           changes={"notice": kind, "as_of": as_of.isoformat()})
                counts["term_expired" if kind == "expired" else "term_expiring"] += 1
        counts["follow_up_overdue"] = self._follow_ups_overdue(as_of)
        return {"as_of": as_of, **counts}

    def _follow_ups_overdue(self, as_of):
        """Remind each field visit's follow-up action open past its due date, once: to its
        owner unit, flagged to the union above (``follow_up_overdue``)."""
        open_items = self.db.execute(
            select(ActionItem, FieldVisit)
            .join(FieldVisit, FieldVisit.id == ActionItem.source_id)
            .where(ActionItem.source_type == "field_visit",
                   (ActionItem.closed_on.is_(None)) | (ActionItem.closed_on > as_of))
            .order_by(ActionItem.id)).all()
        sent = {}
        for notice in self.db.scalars(select(ActionItemNotice).where(
                ActionItemNotice.action_item_id.in_([i.id for i, _ in open_items]))):
            sent.setdefault(notice.action_item_id, set()).add(notice.kind)
        count = 0
        for item, visit in open_items:
            for kind in rules.follow_up_notices_due(item.due_on, as_of,
                                                    sent.get(item.id, set())):
                self.db.add(ActionItemNotice(action_item_id=item.id, kind=kind,
                                             sent_for=as_of))
                chain = union_chain(self.db, item.owner_unit_id)
                parent_unit = chain[1][0] if len(chain) > 1 else None
                visited = self.db.get(Unit, visit.unit_id)
                data = {**self._action_data(item), "days_overdue": (as_of - item.due_on).days,
                        "as_of": as_of, "visit_id": visit.id, "visit_kind": visit.kind,
                        "visited_on": visit.visited_on, "visit_unit_id": visited.id,
                        "visit_unit_name": visited.name,
                        "parent_unit_id": parent_unit.id if parent_unit else None,
                        "parent_unit_name": parent_unit.name if parent_unit else None}
                self._emit(events.FOLLOW_UP_OVERDUE, data, ("action_item", item.id),
                           actor=SYSTEM_TICK, changes={"notice": kind,
                                                       "as_of": as_of.isoformat()})
                count += 1
        return count

    # ------------------------------------------------------------ coverage

    @rpc(args=s.CoverageQuery, result=s.CoverageOut, errors=(NotFound,))
    def coverage_report(self, as_of, unit_id):
        """Units with a union, unions with a valid term, members per unit, by domain, on
        any date, for the whole company or a subtree."""
        query = select(Unit)
        if unit_id is not None:
            get(self.db, Unit, unit_id, "unit")
            query = query.where(Unit.id.in_(list(subtree_ids(self.db, unit_id))))
        units = [rules.UnitFacts(u.id, u.name, u.domain, u.established_on, u.closed_on)
                 for u in self.db.scalars(query)]
        ids = [u.id for u in units]
        unions = self.db.execute(select(Union.unit_id, Union.established_on,
                                        Union.closed_on, Union.id)
                                 .where(Union.unit_id.in_(ids))).all()
        terms = self.db.execute(select(Term.union_id, Term.starts_on, Term.ends_on,
                                       Term.closed_on)
                                .where(Term.union_id.in_([u.id for u in unions]))).all()
        member_units = self.db.scalars(select(Member.unit_id).where(
            Member.unit_id.in_(ids), Member.joined_on <= as_of,
            (Member.left_on.is_(None)) | (Member.left_on > as_of))).all()
        return rules.coverage(as_of, units, unions, terms, member_units)

    # ------------------------------------------------------------ cadre development

    @rpc(args=s.RecordTraining, result=s.TrainingOut, writes=True,
         errors=(NotFound, Conflict))
    def record_training(self, title, kind, provider, organiser_unit_id, starts_on, ends_on,
                        hours, attendee_ids):
        """A training of union cadres: external (走出去) or internal online/offline
        (请进来), with its attendees."""
        if ends_on < starts_on:
            raise Conflict("a training cannot end before it starts", {"ends_on": ["early"]})
        get(self.db, Unit, organiser_unit_id, "unit")
        attendee_ids = sorted(set(attendee_ids))
        self._require_members(attendee_ids, "attendee_ids")
        training = Training(title=title, kind=kind, provider=provider,
                            organiser_unit_id=organiser_unit_id, starts_on=starts_on,
                            ends_on=ends_on, hours=hours, attendee_ids=attendee_ids)
        self.db.add(training)
        self.db.flush()
        self._emit(events.TRAINING_RECORDED, {
            "training_id": training.id, "title": title, "kind": kind,
            "organiser_unit_id": organiser_unit_id, "starts_on": starts_on,
            "ends_on": ends_on, "attendee_ids": attendee_ids}, ("training", training.id))
        return training

    @rpc(args=s.ListTrainings, result=s.TrainingOut, many=True)
    def list_trainings(self, year, kind, member_id, limit, offset):
        query = select(Training).order_by(Training.starts_on, Training.id)
        if year:
            query = query.where(func.extract("year", Training.starts_on) == year)
        if kind:
            query = query.where(Training.kind == kind)
        rows = list(self.db.scalars(query))
        if member_id:
            rows = [t for t in rows if member_id in t.attendee_ids]
        return rows[offset:offset + limit]

    def _add_actions(self, source_type, source_id, actions):
        items = []
        for action in actions:
            owner = self._open_unit(action["owner_unit_id"])
            item = ActionItem(source_type=source_type, source_id=source_id,
                              description=action["description"], owner_unit_id=owner.id,
                              due_on=action["due_on"])
            self.db.add(item)
            self.db.flush()
            self._emit(events.ACTION_ITEM_CREATED, self._action_data(item),
                       ("action_item", item.id))
            items.append(item)
        return items

    def _action_data(self, item):
        owner = self.db.get(Unit, item.owner_unit_id)
        return {"action_item_id": item.id, "source_type": item.source_type,
                "source_id": item.source_id, "description": item.description,
                "owner_unit_id": owner.id, "owner_unit_name": owner.name,
                "due_on": item.due_on, "closed_on": item.closed_on,
                "closing_note": item.closing_note}

    def _actions_of(self, source_type, source_id):
        return list(self.db.scalars(select(ActionItem).where(
            ActionItem.source_type == source_type, ActionItem.source_id == source_id)
            .order_by(ActionItem.id)))

    @rpc(args=s.RecordFieldVisit, result=s.FieldVisitOut, writes=True,
         errors=(NotFound, Conflict))
    def record_field_visit(self, unit_id, kind, visited_on, visitor_ids, findings, actions):
        """A symposium (座谈), visit (走访) or heart-to-heart talk (谈心谈话) at a unit, with
        findings and the follow-up actions it set."""
        unit = get(self.db, Unit, unit_id, "unit")
        visitor_ids = sorted(set(visitor_ids))
        self._require_members(visitor_ids, "visitor_ids")
        visit = FieldVisit(kind=kind, unit_id=unit.id, visited_on=visited_on,
                           visitor_ids=visitor_ids, findings=findings)
        self.db.add(visit)
        self.db.flush()
        items = self._add_actions("field_visit", visit.id, actions)
        self._emit(events.FIELD_VISIT_RECORDED, {
            "visit_id": visit.id, "unit_id": unit.id, "unit_name": unit.name, "kind": kind,
            "visited_on": visited_on, "findings": findings,
            "action_item_ids": [i.id for i in items]}, ("field_visit", visit.id))
        return self._visit_out(visit)

    def _visit_out(self, visit):
        return {**{c: getattr(visit, c) for c in ("id", "kind", "unit_id", "visited_on",
                                                  "visitor_ids", "findings")},
                "actions": self._actions_of("field_visit", visit.id)}

    @rpc(args=s.ListByUnit, result=s.FieldVisitOut, many=True)
    def list_field_visits(self, unit_id, kind, limit, offset):
        query = select(FieldVisit).order_by(FieldVisit.visited_on, FieldVisit.id)
        if unit_id:
            query = query.where(FieldVisit.unit_id == unit_id)
        if kind:
            query = query.where(FieldVisit.kind == kind)
        return [self._visit_out(v) for v in self.db.scalars(query.limit(limit).offset(offset))]

    @rpc(args=s.RecordMeeting, result=s.MeetingOut, writes=True, errors=(NotFound, Conflict))
    def record_meeting(self, unit_id, kind, title, held_on, attendee_ids, tasks):
        """A meeting that sets the union's work (workers' congress 职代会, seminar,
        half-year review) and the tasks it set, each owned by a unit with a due date."""
        unit = get(self.db, Unit, unit_id, "unit")
        attendee_ids = sorted(set(attendee_ids))
        self._require_members(attendee_ids, "attendee_ids")
        meeting = Meeting(kind=kind, title=title, unit_id=unit.id, held_on=held_on,
                          attendee_ids=attendee_ids)
        self.db.add(meeting)
        self.db.flush()
        items = self._add_actions("meeting", meeting.id, tasks)
        self._emit(events.MEETING_RECORDED, {
            "meeting_id": meeting.id, "unit_id": unit.id, "unit_name": unit.name,
            "kind": kind, "title": title, "held_on": held_on,
            "task_ids": [i.id for i in items]}, ("meeting", meeting.id))
        return self._meeting_out(meeting)

    def _meeting_out(self, meeting):
        return {**{c: getattr(meeting, c) for c in ("id", "kind", "title", "unit_id",
                                                    "held_on", "attendee_ids")},
                "tasks": self._actions_of("meeting", meeting.id)}

    @rpc(args=s.ListByUnit, result=s.MeetingOut, many=True)
    def list_meetings(self, unit_id, kind, limit, offset):
        query = select(Meeting).order_by(Meeting.held_on, Meeting.id)
        if unit_id:
            query = query.where(Meeting.unit_id == unit_id)
        if kind:
            query = query.where(Meeting.kind == kind)
        return [self._meeting_out(m) for m in self.db.scalars(query.limit(limit).offset(offset))]

    @rpc(args=s.CloseActionItem, result=s.ActionItemOut, writes=True,
         errors=(NotFound, Conflict))
    def close_action_item(self, action_item_id, closing_note, closed_on):
        item = get(self.db, ActionItem, action_item_id, "action_item")
        if item.closed_on is not None:
            raise Conflict("the action item is already closed", {"action_item_id": ["closed"]})
        item.closed_on, item.closing_note = closed_on, closing_note
        self._emit(events.ACTION_ITEM_CLOSED, self._action_data(item), ("action_item", item.id))
        return item

    @rpc(args=s.ListActionItems, result=s.ActionItemOut, many=True)
    def list_action_items(self, owner_unit_id, open_only, overdue_as_of, limit, offset):
        query = select(ActionItem).order_by(ActionItem.due_on, ActionItem.id)
        if owner_unit_id:
            query = query.where(ActionItem.owner_unit_id == owner_unit_id)
        if open_only or overdue_as_of:
            query = query.where(ActionItem.closed_on.is_(None))
        if overdue_as_of:
            query = query.where(ActionItem.due_on < overdue_as_of)
        return list(self.db.scalars(query.limit(limit).offset(offset)))

    # ------------------------------------------------------------ regulations

    def _regulation_data(self, regulation, version):
        unit = self.db.get(Unit, regulation.issuing_unit_id)
        return {"regulation_id": regulation.id, "title": regulation.title,
                "category": regulation.category, "status": regulation.status,
                "issuing_unit_id": unit.id, "issuing_unit_name": unit.name,
                "version": version.number, "effective_on": version.effective_on,
                "change_summary": version.change_summary}

    def _latest_version(self, regulation_id):
        return self.db.scalar(select(RegulationVersion).where(
            RegulationVersion.regulation_id == regulation_id)
            .order_by(RegulationVersion.number.desc()).limit(1))

    def _regulation_out(self, regulation):
        return {**{c: getattr(regulation, c) for c in ("id", "title", "category", "status",
                                                       "issuing_unit_id", "repealed_on")},
                "current_version": self._latest_version(regulation.id).number}

    @rpc(args=s.DraftRegulation, result=s.RegulationOut, writes=True, errors=(NotFound,))
    def draft_regulation(self, title, category, issuing_unit_id, body):
        """Draft a regulation or work document, e.g. the year's work points (工作要点)."""
        self._open_unit(issuing_unit_id)
        regulation = Regulation(title=title, category=category, status="draft",
                                issuing_unit_id=issuing_unit_id)
        self.db.add(regulation)
        self.db.flush()
        version = RegulationVersion(regulation_id=regulation.id, number=1, body=body,
                                    change_summary="first draft")
        self.db.add(version)
        self.db.flush()
        self._emit(events.REGULATION_DRAFTED, self._regulation_data(regulation, version),
                   ("regulation", regulation.id))
        return self._regulation_out(regulation)

    def _transition(self, regulation_id, action):
        regulation = get(self.db, Regulation, regulation_id, "regulation")
        rules.check_regulation_transition(action, regulation.status)
        regulation.status = rules.next_status(action)
        return regulation

    @rpc(args=s.IssueRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def issue_regulation(self, regulation_id, effective_on):
        regulation = self._transition(regulation_id, "issue")
        version = self._latest_version(regulation.id)
        version.effective_on, version.issued_at = effective_on, datetime.now(UTC)
        self._emit(events.REGULATION_ISSUED, self._regulation_data(regulation, version),
                   ("regulation", regulation.id))
        return self._regulation_out(regulation)

    @rpc(args=s.ReviseRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def revise_regulation(self, regulation_id, body, effective_on, change_summary):
        """A new version; every earlier version is kept with its effective date."""
        regulation = self._transition(regulation_id, "revise")
        latest = self._latest_version(regulation.id)
        if latest.effective_on and effective_on <= latest.effective_on:
            raise Conflict("a revision must take effect after the version it replaces",
                           {"effective_on": [f"not after {latest.effective_on}"]})
        version = RegulationVersion(regulation_id=regulation.id, number=latest.number + 1,
                                    body=body, effective_on=effective_on,
                                    change_summary=change_summary,
                                    issued_at=datetime.now(UTC))
        self.db.add(version)
        self.db.flush()
        self._emit(events.REGULATION_REVISED, self._regulation_data(regulation, version),
                   ("regulation", regulation.id))
        return self._regulation_out(regulation)

    @rpc(args=s.RepealRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def repeal_regulation(self, regulation_id, repealed_on, reason):
        regulation = self._transition(regulation_id, "repeal")
        regulation.repealed_on = repealed_on
        version = self._latest_version(regulation.id)
        data = {**self._regulation_data(regulation, version), "change_summary": reason}
        self._emit(events.REGULATION_REPEALED, data, ("regulation", regulation.id))
        return self._regulation_out(regulation)

    @rpc(args=s.ListRegulations, result=s.RegulationOut, many=True)
    def list_regulations(self, category, status, limit, offset):
        query = select(Regulation).order_by(Regulation.id).limit(limit).offset(offset)
        if category:
            query = query.where(Regulation.category == category)
        if status:
            query = query.where(Regulation.status == status)
        return [self._regulation_out(r) for r in self.db.scalars(query)]

    @rpc(args=s.RegulationId, result=s.RegulationHistoryOut, errors=(NotFound,))
    def regulation_history(self, regulation_id):
        """A regulation with every version, oldest first."""
        regulation = get(self.db, Regulation, regulation_id, "regulation")
        versions = self.db.scalars(select(RegulationVersion).where(
            RegulationVersion.regulation_id == regulation.id)
            .order_by(RegulationVersion.number)).all()
        return {**self._regulation_out(regulation), "versions": versions}

    # ------------------------------------------------------------ spreadsheets

    @rpc(args=s.ImportFile, result=s.ImportOut, writes=True)
    def import_file(self, kind, file_format, content_base64, dry_run):
        """Import units or members from the office's Excel (.xlsx) or CSV file. Every bad
        row is reported with its line number and reason; the import is all or nothing, and
        a dry run (the default) checks everything, the database's rules included, and
        writes nothing."""
        try:
            content = base64.b64decode(content_base64, validate=True)
        except ValueError:
            raise ValidationError("invalid file", {"content_base64": ["not base64"]}) from None
        rows, problems = importer.read_rows(kind, file_format, content)
        if kind == "units":
            rows, more = importer.check_units(rows, set(self.db.scalars(select(Unit.code))))
        else:
            codes = set(self.db.scalars(select(Unit.code).where(Unit.closed_on.is_(None))))
            rows, more = importer.check_members(
                rows, set(self.db.scalars(select(Member.employee_no))), codes)
        problems = list(problems) + list(more)
        bad_lines = {p.line for p in problems}
        counts = {"created": 0, "updated": 0}
        everything = self.db.begin_nested()
        for row in rows:
            if row.line in bad_lines:
                continue
            savepoint = self.db.begin_nested()
            try:
                outcome = (self._import_unit if kind == "units" else self._import_member)(
                    row.values)
                savepoint.commit()
                counts[outcome] += 1
            except GonghuiError as exc:
                savepoint.rollback()
                problems.append(importer.Problem(row.line, str(exc)))
        valid = not problems
        if dry_run or not valid:
            everything.rollback()
        else:
            everything.commit()
        applied = valid and not dry_run
        return {"kind": kind, "dry_run": dry_run, "rows": len(rows), "valid": valid,
                "created": counts["created"] if applied else 0,
                "updated": counts["updated"] if applied else 0,
                "problems": sorted(problems)}

    def _unit_id_by_code(self, code):
        return self.db.scalar(select(Unit.id).where(Unit.code == code)) if code else None

    def _import_unit(self, values):
        parent_id = self._unit_id_by_code(values.get("parent_code"))
        if values["existing"]:
            unit = self.db.scalar(select(Unit).where(Unit.code == values["code"]))
            if unit.name != values["name"]:
                self._rename_unit(unit.id, values["name"])
            if parent_id and unit.parent_id != parent_id:
                self._move_unit(unit.id, parent_id)
            outcome = "updated"
        else:
            unit = self._create_unit(values["code"], values["name"], values["kind"],
                                     values.get("domain"), parent_id,
                                     values.get("established_on"))
            outcome = "created"
        if values.get("union_level") and open_union(self.db, unit.id) is None:
            self._establish_union(unit.id, values["union_level"], values["union_name"],
                                  values.get("established_on") or today())
        return outcome

    def _import_member(self, values):
        unit_id = self._unit_id_by_code(values["unit_code"])
        fields = {k: values.get(k) for k in ("name", "email", "mobile", "wecom_id")}
        if values["existing"]:
            member = self.db.scalar(select(Member).where(
                Member.employee_no == values["employee_no"]))
            self._update_member(member.id, unit_id=unit_id, **fields)
            return "updated"
        self._add_member(values["employee_no"], values["name"], values["gender"], unit_id,
                         values.get("email"), values.get("mobile"), values.get("wecom_id"),
                         values["joined_on"])
        return "created"

    @rpc(args=s.ExportFile, result=s.ExportOut)
    def export_file(self, kind, file_format):
        """Export units (with their unions) or current members in the import layout."""
        if kind == "units":
            codes = dict(self.db.execute(select(Unit.id, Unit.code)).all())
            unions = {u.unit_id: u for u in self.db.scalars(
                select(Union).where(Union.closed_on.is_(None)))}
            records = [{"code": u.code, "name": u.name, "kind": u.kind, "domain": u.domain,
                        "parent_code": codes.get(u.parent_id),
                        "established_on": u.established_on,
                        "union_level": unions[u.id].level if u.id in unions else None,
                        "union_name": unions[u.id].name if u.id in unions else None}
                       for u in self.db.scalars(select(Unit).where(Unit.closed_on.is_(None))
                                                .order_by(Unit.id))]
        else:
            codes = dict(self.db.execute(select(Unit.id, Unit.code)).all())
            records = [{"employee_no": m.employee_no, "name": m.name, "gender": m.gender,
                        "unit_code": codes[m.unit_id], "email": m.email, "mobile": m.mobile,
                        "wecom_id": m.wecom_id, "joined_on": m.joined_on}
                       for m in self.db.scalars(select(Member).where(
                           Member.left_on.is_(None)).order_by(Member.employee_no))]
        content = importer.write_rows(kind, file_format, records)
        return {"kind": kind, "file_format": file_format, "rows": len(records),
                "content_base64": base64.b64encode(content).decode()}

    @rpc(args=s.SnapshotPage, result=s.DirectorySnapshot)
    def directory_snapshot(self, part, after, limit):
        """One page of the tree for a consumer's read model (units, unions, members or role
        assignments, in id order after ``after``), each row shaped as the event that writes
        it; ``taken_at`` is when it was read."""
        return snapshot.page(self.db, part, after, limit)

    @rpc(result=s.DirectoryStatus)
    def directory_status(self):
        """The counts of the tree today, as a complete read model of it would count them."""
        return snapshot.status(self.db, today())
