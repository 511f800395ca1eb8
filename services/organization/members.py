"""Members (会员) and their roles in the unions: chair (主席), vice-chair (副主席), committee
member (委员), cadre (工会干部); and who holds a role in the union serving a unit.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

from gonghui.errors import Conflict, NotFound, get_or_not_found
from services.organization import events, payloads, queries, rules
from services.organization.models import Member, RoleAssignment, Unit


def active_member(session, member_id):
    """The member ``member_id``: NotFound if there is none, Conflict once they have left."""
    member = get_or_not_found(session, Member, member_id, "member")
    rules.check_not_ended("member", member_id, member.left_on)
    return member


def require_members(session, member_ids, field):
    """NotFound naming, under ``field``, each of ``member_ids`` that is no member's."""
    missing = queries.missing_members(session, member_ids)
    if missing:
        raise NotFound("unknown members", {field: [f"member {m} not found" for m in missing]})


def add_member(work, employee_no, name, gender, unit_id, email, mobile, wecom_id, joined_on):
    if queries.employee_no_taken(work.db, employee_no):
        raise Conflict(f"employee number {employee_no} is taken",
                       {"employee_no": ["already a member"]})
    queries.open_unit(work.db, unit_id)
    member = Member(employee_no=employee_no, name=name, gender=gender, unit_id=unit_id,
                    email=email, mobile=mobile, wecom_id=wecom_id, joined_on=joined_on)
    work.db.add(member)
    work.db.flush()
    work.emit(events.MEMBER_JOINED, payloads.member(work.db, member), ("member", member.id))
    return member


def update_member(work, member_id, **changes):
    """Apply the changes that change something; one ``member_updated`` with the diff."""
    member = active_member(work.db, member_id)
    if "unit_id" in changes:
        queries.open_unit(work.db, changes["unit_id"])
    diff = {k: [getattr(member, k), v] for k, v in changes.items() if getattr(member, k) != v}
    for key, (_, new) in diff.items():
        setattr(member, key, new)
    if diff:
        work.emit(events.MEMBER_UPDATED, payloads.member(work.db, member),
                  ("member", member.id), changes=diff)
    return member


def member_leaves(work, member_id, left_on):
    member = active_member(work.db, member_id)
    rules.check_left_on(member.joined_on, left_on)
    member.left_on = left_on
    end_roles(work, queries.open_roles(work.db, RoleAssignment.member_id == member.id), left_on)
    work.emit(events.MEMBER_LEFT, payloads.member(work.db, member), ("member", member.id))
    return member


def list_members(session, unit_id, subtree, include_left, limit, offset):
    unit_ids = None
    if unit_id is not None:
        get_or_not_found(session, Unit, unit_id, "unit")
        unit_ids = list(queries.subtree_ids(session, unit_id)) if subtree else [unit_id]
    return queries.members_page(session, unit_ids, include_left, limit, offset)


# ----------------------------------------------------------------- roles


def assign_role(work, member_id, unit_id, role, starts_on):
    member = active_member(work.db, member_id)
    union = queries.open_union(work.db, unit_id)
    if union is None:
        raise Conflict(f"unit {unit_id} has no union", {"unit_id": ["no union"]})
    if role == "chair" and queries.role_holders(work.db, union.id, ["chair"], starts_on):
        raise Conflict("the union already has a chair", {"role": ["end the chair first"]})
    if any(a.member_id == member.id
           for a, _ in queries.role_holders(work.db, union.id, [role], starts_on)):
        raise Conflict("the member already holds this role", {"role": ["held"]})
    term = queries.open_term(work.db, union.id)
    # Committee roles belong to the current term; a cadre's does not end with it.
    assignment = RoleAssignment(member_id=member.id, union_id=union.id, role=role,
                                starts_on=starts_on,
                                term_id=term.id if term and role in rules.COMMITTEE_ROLES
                                else None)
    work.db.add(assignment)
    work.db.flush()
    work.emit(events.ROLE_ASSIGNED, payloads.role(work.db, assignment), ("member", member.id))
    return assignment


def end_role(work, assignment_id, ends_on):
    assignment = get_or_not_found(work.db, RoleAssignment, assignment_id, "assignment")
    rules.check_not_ended("role", assignment_id, assignment.ends_on)
    rules.check_role_end(assignment.starts_on, ends_on)
    end_roles(work, [assignment], ends_on)
    return assignment


def end_roles(work, assignments, ends_on):
    """End each assignment on ``ends_on``, each with its ``role_ended``."""
    for assignment in assignments:
        assignment.ends_on = ends_on
        work.emit(events.ROLE_ENDED, payloads.role(work.db, assignment),
                  ("member", assignment.member_id))


def recipients(session, unit_id, role, as_of):
    """Who holds ``role`` on ``as_of`` in the union serving the unit, with how to reach them."""
    chain = queries.union_chain(session, unit_id)
    if not chain:
        return []
    unit, union = chain[0]
    return [{"member_id": m.id, "name": m.name, "employee_no": m.employee_no,
             "role": a.role, "unit_id": unit.id, "unit_name": unit.name,
             "email": m.email, "mobile": m.mobile, "wecom_id": m.wecom_id}
            for a, m in queries.role_holders(session, union.id, [role], as_of)]
