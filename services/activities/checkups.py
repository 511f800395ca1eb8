"""Check-ups: a member's annual health check-up (健康体检) — when and by whom, never what it
found — the coverage of a year, the list of those missing it (for the unit's union officers
only), and the reminder to them in the year's last quarter.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()`` and ``work.calendar`` (the
working-day calendar).
"""

from collections import defaultdict
from datetime import date

from gonghui import directory
from gonghui.actor import SYSTEM_TICK
from gonghui.clock import today
from gonghui.errors import Conflict, Forbidden, ValidationError
from services.activities import events, figures, payloads, queries, rules
from services.activities.models import Checkup, CheckupReminder


def record_checkup(work, member_id, checked_on, provider):
    if checked_on > today():
        raise ValidationError("a check-up is recorded once it took place",
                              {"checked_on": ["in the future"]})
    member = directory.member(work.db, member_id)
    if not rules.active_on(member.joined_on, member.left_on, checked_on):
        raise Conflict("not a member of the union that day", {"checked_on": ["not a member"]})
    if queries.checkup_recorded(work.db, member.member_id, checked_on.year):
        raise Conflict(f"the member's {checked_on.year} check-up is already recorded",
                       {"member_id": ["already recorded this year"]})
    checkup = Checkup(member_id=member.member_id, year=checked_on.year, checked_on=checked_on,
                      provider=provider, unit_id=member.unit_id)
    work.db.add(checkup)
    work.db.flush()
    work.emit(events.CHECKUP_RECORDED, payloads.checkup_data(work.db, checkup, member),
              ("member", member.member_id))
    return checkup


def _year_members(session, unit_ids, year):
    """Members counted for a year's coverage: in the union at the year's end, or today for
    the current year."""
    day = min(date(year, 12, 31), max(today(), date(year, 1, 1)))
    return directory.current_members(session, unit_ids, day)


def coverage(work, year, unit_id):
    unit_ids = None
    if unit_id is not None:
        directory.unit(work.db, unit_id)
        unit_ids = directory.subtree_ids(work.db, unit_id)
    members = _year_members(work.db, unit_ids, year)
    checked = queries.checked(work.db, year, [m.member_id for m in members])
    per_unit = defaultdict(lambda: [0, 0])
    for member in members:
        per_unit[member.unit_id][0] += 1
        per_unit[member.unit_id][1] += member.member_id in checked
    names = figures.unit_names(work.db, set(per_unit))
    return {"year": year, "unit_id": unit_id, "members": len(members),
            "checked": len(checked), "coverage": rules.ratio(len(checked), len(members)),
            "by_unit": [{"unit_id": u, "unit_name": names.get(u), "members": n,
                         "checked": c, "coverage": rules.ratio(c, n)}
                        for u, (n, c) in sorted(per_unit.items())]}


# Who reads the names of members missing a check-up (health data) without holding an office
# over the unit here: administrators, auditors (who read everything), and the systems an
# administrator gave a token the gateway checked against its subtree (``service``).
READ_ANY_UNIT = ("admin", "auditor", "service")


def _require_officer(work, unit_id):
    """Only the unit's officers (chair, vice-chair, committee member, cadre of its union or
    a union above, per the read model of the tree) and ``READ_ANY_UNIT``; not an operator's
    shell."""
    actor = work.actor()
    if actor.kind in READ_ANY_UNIT:
        return
    if actor.kind in ("officer", "member"):
        chain = directory.ancestor_ids(work.db, unit_id)
        if directory.officer_units(work.db, actor.id, today(), rules.OFFICER_ROLES) & set(chain):
            return
    raise Forbidden("only the unit's union officers may see who is missing a check-up",
                    {"actor": [f"{actor} holds no officer role over unit {unit_id}"]})


def missing(work, year, unit_id):
    directory.unit(work.db, unit_id)
    _require_officer(work, unit_id)
    members = _year_members(work.db, directory.subtree_ids(work.db, unit_id), year)
    checked = queries.checked(work.db, year, [m.member_id for m in members])
    names = figures.unit_names(work.db, {m.unit_id for m in members})
    return [{"member_id": m.member_id, "employee_no": m.employee_no, "name": m.name,
             "unit_id": m.unit_id, "unit_name": names.get(m.unit_id)}
            for m in members if m.member_id not in checked]


def remind_missing(work, as_of):
    """In the last quarter, on a working day, ``checkup_missing`` per unit to its members
    still missing the year's check-up; each member once a year. Returns the counts."""
    counts = {"checkup_missing": 0, "members_reminded": 0}
    if not rules.checkup_reminders_due(as_of, work.calendar.is_working_day):
        return counts
    year = as_of.year
    checked = queries.checked(work.db, year)
    reminded = queries.reminded_of_checkup(work.db, year)
    by_unit = defaultdict(list)
    for member in directory.current_members(work.db, None, as_of):
        if member.member_id not in checked and member.member_id not in reminded:
            by_unit[member.unit_id].append(member.member_id)
    names = figures.unit_names(work.db, set(by_unit))
    for unit_id, member_ids in sorted(by_unit.items()):
        work.db.add_all([CheckupReminder(member_id=m, year=year, sent_for=as_of)
                         for m in member_ids])
        work.emit(events.CHECKUP_MISSING, {
            "year": year, "as_of": as_of, "unit_id": unit_id,
            "unit_name": names.get(unit_id), "recipient_member_ids": member_ids,
            "recipient_unit_ids": [unit_id]}, ("unit", unit_id), actor=SYSTEM_TICK,
            changes={"notice": "checkup_missing", "year": year, "as_of": as_of.isoformat()})
        counts["checkup_missing"] += 1
        counts["members_reminded"] += len(member_ids)
    return counts
