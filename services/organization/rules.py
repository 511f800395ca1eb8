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


REGULATION_TRANSITIONS = {
    "issue": ("draft",),
    "revise": ("issued", "revised"),
    "repeal": ("issued", "revised"),
}


def check_regulation_transition(action, status):
    if status not in REGULATION_TRANSITIONS[action]:
        raise Conflict(f"cannot {action} a regulation that is {status}",
                       {"status": [f"{action} needs one of {REGULATION_TRANSITIONS[action]}"]})


def next_status(action):
    return {"issue": "issued", "revise": "revised", "repeal": "repealed"}[action]


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

