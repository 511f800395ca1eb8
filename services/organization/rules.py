"""The organization's rules in plain Python: no nameko, no database.

Vocabulary: company union (公司工会), grassroots union (基层工会), union group (工会小组),
term of office (届) and its change by election (换届), chair (主席), vice-chair (副主席),
committee member (委员), union cadre (工会干部).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from gonghui.errors import Conflict

UNIT_KINDS = ("company", "subsidiary", "plant", "department", "workshop", "team", "office")
UNION_LEVELS = ("company_union", "grassroots_union", "union_group")
# What a union of each level may sit under (its nearest ancestor union).
PARENT_LEVEL = {"company_union": None, "grassroots_union": "company_union",
                "union_group": "grassroots_union"}
ROLES = ("chair", "vice_chair", "committee_member", "cadre", "member")
COMMITTEE_ROLES = ("chair", "vice_chair", "committee_member")
GENDERS = ("female", "male")
TRAINING_KINDS = ("external", "internal_online", "internal_offline")
VISIT_KINDS = ("symposium", "visit", "heart_to_heart")
MEETING_KINDS = ("workers_congress", "seminar", "half_year_review", "other")
REGULATION_CATEGORIES = ("work_points", "implementation_opinion", "management_rule",
                         "finance", "other")
REGULATION_STATUSES = ("draft", "issued", "revised", "repealed")

TERM_NOTICE_WINDOWS = (("expiring_90", 90), ("expiring_30", 30))


def check_union_placement(level, ancestor_union_level):
    """A union's level must fit the nearest union above it."""
    expected = PARENT_LEVEL[level]
    if expected != ancestor_union_level:
        where = f"under a {ancestor_union_level}" if ancestor_union_level else "at the top"
        raise Conflict(f"a {level} cannot be established {where}",
                       {"level": [f"needs a {expected or 'position with no union above'}"]})


def check_move(unit_id, new_parent_id, new_parent_ancestor_ids):
    """Moving a unit under itself or one of its descendants would make a cycle."""
    if new_parent_id == unit_id or unit_id in new_parent_ancestor_ids:
        raise Conflict("moving the unit there would make a cycle",
                       {"parent_id": ["is the unit itself or one of its descendants"]})


def term_notices_due(ends_on, as_of, already_sent):
    """Which term reminders are due on ``as_of``: each kind at most once, and a reminder
    whose window has passed (say, the 90-day one once only 20 days are left) is not sent
    late. ``expired`` goes out the first day after the end."""
    due = []
    days_left = (ends_on - as_of).days
    if days_left < 0:
        if "expired" not in already_sent:
            due.append("expired")
        return due
    for index, (kind, window) in enumerate(TERM_NOTICE_WINDOWS):
        next_window = TERM_NOTICE_WINDOWS[index + 1][1] if index + 1 < len(
            TERM_NOTICE_WINDOWS) else -1
        if next_window < days_left <= window and kind not in already_sent:
            due.append(kind)
    return due


def term_standing(ends_on, as_of, within_days):
    """Where a term open on ``as_of`` stands: ``expired`` once its last day has passed (the
    day ``term_notices_due`` sends ``expired``), ``due`` when it ends within ``within_days``
    (its last day counted: 0 means ending today), otherwise None."""
    days_left = (ends_on - as_of).days
    if days_left < 0:
        return "expired"
    return "due" if days_left <= within_days else None


FOLLOW_UP_OVERDUE = "overdue"


def follow_up_notices_due(due_on, as_of, already_sent):
    """Which reminders of an open follow-up action are due on ``as_of``: ``overdue`` once,
    from the first day after its due date (the due date itself is still in time)."""
    if as_of > due_on and FOLLOW_UP_OVERDUE not in already_sent:
        return [FOLLOW_UP_OVERDUE]
    return []


def check_term_dates(starts_on, ends_on):
    if ends_on <= starts_on:
        raise Conflict("a term must end after it starts", {"ends_on": ["not after starts_on"]})


def check_committee(roster):
    """An elected committee has exactly one chair and no member twice."""
    chairs = [r for r in roster if r["role"] == "chair"]
    if len(chairs) != 1:
        raise Conflict("a committee needs exactly one chair",
                       {"committee": [f"{len(chairs)} chairs given"]})
    counts = Counter(r["member_id"] for r in roster)
    twice = sorted(m for m, n in counts.items() if n > 1)
    if twice:
        raise Conflict("a member appears twice in the committee",
                       {"committee": [f"member {m} listed twice" for m in twice]})


# ----------------------------------------------------------------- state changes
# Each status machine as a table: the steps each status allows; one check per table says
# what a refused step is refused for.

# A regulation (制度): drafted, issued, then revised any number of times, until repealed;
# each step leads to the status it names.
REGULATION_FLOW = {
    "draft": {"issue": "issued"},
    "issued": {"revise": "revised", "repeal": "repealed"},
    "revised": {"revise": "revised", "repeal": "repealed"},
    "repealed": {},
}


def regulation_step(status, action):
    """The status a regulation that is ``status`` takes on ``action`` (issue, revise,
    repeal); Conflict when that status does not allow it."""
    allowed = REGULATION_FLOW[status]
    if action not in allowed:
        needs = tuple(s for s, steps in REGULATION_FLOW.items() if action in steps)
        raise Conflict(f"cannot {action} a regulation that is {status}",
                       {"status": [f"{action} needs one of {needs}"]})
    return allowed[action]


# A union's terms of office (届): the current term is recorded once, when the union comes on
# the platform with no term open; from then each election (换届) closes the open term and
# opens the next (an election also opens the first term of a union that has none).
TERM_FLOW = {"no_term": ("start", "elect"), "term_open": ("elect",)}


def term_status(open_term):
    return "no_term" if open_term is None else "term_open"


def check_term_step(status, step):
    if step not in TERM_FLOW[status]:
        raise Conflict("the union has a current term: record an election instead",
                       {"unit_id": ["term open"]})


# A unit's union: established, dissolved (closed), and established again in the same unit.
UNION_FLOW = {"none": ("establish",), "open": ("close",), "closed": ("establish",)}


def union_status(union):
    if union is None:
        return "none"
    return "open" if union.closed_on is None else "closed"


def check_union_step(status, step):
    """Only ``establish`` is checked here: a close with no open union is refused by the
    look-up of the unit's open union (NotFound), as a missing record is."""
    if step not in UNION_FLOW[status]:
        raise Conflict("the unit already has a union", {"unit_id": ["has a union"]})


# Records open until a day ends them for good: a unit closed, a member who left the union, a
# role ended, an action item closed. Once ended nothing changes them or uses them, and the
# refusal says why: (message naming the record's ``{id}``, argument, detail).
ENDED = {
    "unit": ("unit {id} is closed", "unit_id", "closed"),
    "member": ("member {id} has left the union", "member_id", "left"),
    "role": ("the role has already ended", "assignment_id", "ended"),
    "action_item": ("the action item is already closed", "action_item_id", "closed"),
}


def check_not_ended(record, ident, ended_on):
    """Refuse a step on ``record`` ``ident`` (a key of ``ENDED``) once it has ended."""
    if ended_on is not None:
        message, field, detail = ENDED[record]
        raise Conflict(message.format(id=ident), {field: [detail]})


# ----------------------------------------------------------------- dates


def check_left_on(joined_on, left_on):
    if left_on < joined_on:
        raise Conflict("cannot leave before joining", {"left_on": ["before joined_on"]})


def check_role_end(starts_on, ends_on):
    if ends_on < starts_on:
        raise Conflict("a role cannot end before it starts", {"ends_on": ["too early"]})


def check_election_day(held_on, open_term_starts_on):
    if open_term_starts_on is not None and held_on < open_term_starts_on:
        raise Conflict("the election is before the current term began",
                       {"held_on": ["too early"]})


def check_training_dates(starts_on, ends_on):
    if ends_on < starts_on:
        raise Conflict("a training cannot end before it starts", {"ends_on": ["early"]})


def check_revision_date(effective_on, replaced_effective_on):
    if replaced_effective_on and effective_on <= replaced_effective_on:
        raise Conflict("a revision must take effect after the version it replaces",
                       {"effective_on": [f"not after {replaced_effective_on}"]})


@dataclass(frozen=True)
class UnitFacts:
    id: int
    name: str
    domain: str | None
    established_on: date | None
    closed_on: date | None


def open_on(established_on, closed_on, as_of):
    """Open on a day: established by then (or undated) and not closed by then."""
    return (established_on is None or established_on <= as_of) and (
        closed_on is None or closed_on > as_of)


def coverage(as_of, units, unions, terms, member_units):
    """Coverage on ``as_of``.

    units: UnitFacts; unions: (unit_id, established_on, closed_on, union_id);
    terms: (union_id, starts_on, ends_on, closed_on); member_units: unit id of each member
    in the union on that day.
    """
    open_units = [u for u in units if open_on(u.established_on, u.closed_on, as_of)]
    open_ids = {u.id for u in open_units}
    union_by_unit = {}
    for unit_id, established_on, closed_on, union_id in unions:
        if unit_id in open_ids and open_on(established_on, closed_on, as_of):
            union_by_unit[unit_id] = union_id
    valid_term_unions = {
        union_id for union_id, starts_on, ends_on, closed_on in terms
        if starts_on <= as_of <= ends_on and (closed_on is None or closed_on > as_of)
    }
    members = Counter(u for u in member_units if u in open_ids)
    by_domain = defaultdict(lambda: {"units": 0, "units_with_union": 0,
                                     "unions_with_valid_term": 0, "members": 0})
    rows = []
    for unit in sorted(open_units, key=lambda u: u.id):
        union_id = union_by_unit.get(unit.id)
        valid = union_id in valid_term_unions if union_id else False
        domain = unit.domain or "unspecified"
        bucket = by_domain[domain]
        bucket["units"] += 1
        bucket["units_with_union"] += union_id is not None
        bucket["unions_with_valid_term"] += valid
        bucket["members"] += members[unit.id]
        rows.append({"unit_id": unit.id, "unit_name": unit.name, "domain": domain,
                     "has_union": union_id is not None, "valid_term": valid,
                     "members": members[unit.id]})
    total = len(open_units)
    with_union = len(union_by_unit)
    valid_terms = sum(1 for u in union_by_unit.values() if u in valid_term_unions)
    return {
        "as_of": as_of,
        "units": total,
        "units_with_union": with_union,
        "union_coverage": round(with_union / total, 4) if total else 0.0,
        "unions_with_valid_term": valid_terms,
        "valid_term_rate": round(valid_terms / with_union, 4) if with_union else 0.0,
        "members": sum(members.values()),
        "by_domain": [{"domain": d, **v} for d, v in sorted(by_domain.items())],
        "by_unit": rows,
    }


