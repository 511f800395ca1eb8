"""Terms of office (届) and elections (换届): a union's current term, the terms of a subtree
falling due, an election closing a term and seating the next committee, and the day's
reminders of terms ending (90 and 30 days before) and ended.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

from gonghui.actor import SYSTEM_TICK
from gonghui.errors import Conflict, NotFound, get_or_not_found
from gonghui.paging import slice_page
from services.organization import events, members, payloads, queries, rules
from services.organization.models import Election, RoleAssignment, Term, TermNotice, Unit

OFFICER_ROLES = ("chair", "vice_chair")


def union_for_term(session, unit_id):
    union = queries.open_union(session, unit_id)
    if union is None:
        raise Conflict(f"unit {unit_id} has no union", {"unit_id": ["no union"]})
    return union


def _open_next_term(work, union, starts_on, ends_on):
    term = Term(union_id=union.id, number=queries.next_term_number(work.db, union.id),
                starts_on=starts_on, ends_on=ends_on)
    work.db.add(term)
    work.db.flush()
    return term


def start_term(work, unit_id, starts_on, ends_on):
    rules.check_term_dates(starts_on, ends_on)
    union = union_for_term(work.db, unit_id)
    rules.check_term_step(rules.term_status(queries.open_term(work.db, union.id)), "start")
    term = _open_next_term(work, union, starts_on, ends_on)
    work.emit(events.TERM_STARTED, payloads.term(work.db, term), ("union", union.id))
    return term


def current_term(session, unit_id):
    union = queries.open_union(session, unit_id)
    term = union and queries.open_term(session, union.id)
    if not term:
        raise NotFound(f"unit {unit_id} has no current term", {"unit_id": ["no term"]})
    return term


def terms_due(session, unit_id, as_of, within_days, limit, offset):
    """The subtree's unions whose term open on ``as_of`` has expired or ends within
    ``within_days``, by end date then unit."""
    get_or_not_found(session, Unit, unit_id, "unit")
    below = queries.subtree_ids(session, unit_id)
    rows = []
    for term, union, unit in queries.terms_in(session, below):
        if not (rules.open_on(union.established_on, union.closed_on, as_of)
                and rules.open_on(term.starts_on, term.closed_on, as_of)):
            continue
        status = rules.term_standing(term.ends_on, as_of, within_days)
        if status is not None:
            rows.append({"unit_id": unit.id, "unit_name": unit.name, "depth": below[unit.id],
                         "union_id": union.id, "union_name": union.name,
                         "level": union.level, "term_id": term.id, "number": term.number,
                         "starts_on": term.starts_on, "ends_on": term.ends_on,
                         "days_left": (term.ends_on - as_of).days, "status": status})
    rows.sort(key=lambda r: (r["ends_on"], r["unit_id"]))
    return slice_page(rows, limit, offset)


def record_election(work, unit_id, held_on, term_starts_on, term_ends_on, committee, notes):
    """Close the open term on ``held_on``, end the committee's roles when the next term
    starts, open it and seat the elected committee."""
    rules.check_term_dates(term_starts_on, term_ends_on)
    rules.check_committee(committee)
    union = union_for_term(work.db, unit_id)
    ids = [seat["member_id"] for seat in committee]
    members.require_members(work.db, ids, "committee")
    elected = queries.members_by_id(work.db, ids)
    gone = sorted(m for m, member in elected.items() if member.left_on is not None)
    if gone:
        raise Conflict("former members cannot be elected",
                       {"committee": [f"member {m} has left" for m in gone]})
    old = queries.open_term(work.db, union.id)
    rules.check_term_step(rules.term_status(old), "elect")
    if old is not None:
        rules.check_election_day(held_on, old.starts_on)
        old.closed_on = held_on
    members.end_roles(work, queries.open_roles(
        work.db, RoleAssignment.union_id == union.id,
        RoleAssignment.role.in_(rules.COMMITTEE_ROLES)), term_starts_on)
    term = _open_next_term(work, union, term_starts_on, term_ends_on)
    election = Election(union_id=union.id, held_on=held_on,
                        closed_term_id=old.id if old else None, new_term_id=term.id,
                        notes=notes)
    work.db.add(election)
    seats = []
    for seat in committee:
        assignment = RoleAssignment(member_id=seat["member_id"], union_id=union.id,
                                    role=seat["role"], term_id=term.id,
                                    starts_on=term_starts_on)
        work.db.add(assignment)
        work.db.flush()
        work.emit(events.ROLE_ASSIGNED, payloads.role(work.db, assignment),
                  ("member", seat["member_id"]))
        seats.append({"member_id": seat["member_id"], "role": seat["role"],
                      "member_name": elected[seat["member_id"]].name})
    work.db.flush()
    work.emit(events.ELECTION_RECORDED, payloads.election(work.db, election, term, seats),
              ("union", union.id))
    return {"id": election.id, "union_id": union.id, "held_on": held_on,
            "closed_term_id": election.closed_term_id, "new_term": term, "committee": seats}


def send_reminders(work, as_of):
    """The day's term reminders, each kind once per term (``rules.term_notices_due``): to
    the union's chair and vice-chairs, naming the unit of the union above."""
    counts = {"term_expiring": 0, "term_expired": 0}
    open_terms = queries.open_terms_started(work.db, as_of)
    sent = queries.notices_sent(work.db, TermNotice, TermNotice.term_id,
                                [t.id for t, _ in open_terms])
    for term, union in open_terms:
        for kind in rules.term_notices_due(term.ends_on, as_of, sent.get(term.id, set())):
            work.db.add(TermNotice(term_id=term.id, kind=kind, sent_for=as_of))
            officers = queries.role_holders(work.db, union.id, OFFICER_ROLES, as_of)
            parent_unit, _ = queries.parent_union(work.db, union.unit_id)
            expired = kind == "expired"
            work.emit(events.TERM_EXPIRED if expired else events.TERM_EXPIRING,
                      payloads.term_reminder(work.db, term, officers, parent_unit, as_of),
                      ("union", union.id), actor=SYSTEM_TICK,
                      changes={"notice": kind, "as_of": as_of.isoformat()})
            counts["term_expired" if expired else "term_expiring"] += 1
    return counts
