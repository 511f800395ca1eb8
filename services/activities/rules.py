"""The activities service's rules in plain Python: no nameko, no database.

Vocabulary: the three all-staff campaigns — health (全民健康), fitness (全民健身) and reading
(全民阅读); workplace exercise (工间操); staff library (职工书屋), reading corner (读书角),
mobile bookshelf (流动书架); annual health check-up (健康体检); women workers (女职工).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from gonghui.errors import Conflict

THEMES = ("health", "fitness", "reading", "other")
ACTIVITY_KINDS = ("lecture", "checkup", "match", "fitness_event", "charity_visit",
                  "donation_drive", "reading_session", "workplace_exercise", "youth_mixer",
                  "womens_health", "cultural", "other")
# What the article calls sports events (体育活动): matches and fitness events together.
SPORTS_KINDS = ("match", "fitness_event")
FACILITY_KINDS = ("sports_venue", "staff_library", "reading_corner", "mobile_bookshelf")
LIBRARY_KINDS = ("staff_library", "reading_corner")
AUDIENCES = ("all_staff", "subtree", "women", "role")
OFFICER_ROLES = ("chair", "vice_chair", "committee_member", "cadre")
UNION_LEVELS = ("company_union", "grassroots_union", "union_group")
RECURRING_KINDS = ("workplace_exercise", "reading_club", "fitness")
FREQUENCIES = ("daily", "weekly")
MENTAL_HEALTH = "mental_health"

# A campaign goal is measured, not just stored: each metric is computed from the data.
GOAL_METRICS = {
    "checkup_coverage": "share of members with the year's check-up (0..1)",
    "member_reach": "share of members who took part in at least one of the campaign's "
                    "activities or recurring sessions (0..1)",
    "units_with_facility": "share of the units whose union has the given level that have an "
                           "open facility of the given kinds in their subtree (0..1)",
    "facilities_opened": "facilities of the given kinds opened in the year",
    "activities_held": "the campaign's activities of the given kinds (and topic) held",
    "participants": "distinct members attending the campaign's activities",
    "units_with_daily_exercise": "units running daily workplace exercise with participation",
    "recurring_sessions": "held sessions of the campaign's recurring schedules",
}
RATIO_METRICS = ("checkup_coverage", "member_reach", "units_with_facility")

# The last quarter of the year, when members still missing a check-up are reminded.
CHECKUP_REMINDER_MONTH = 10


# What may be done to an activity in each of its states; ``held``: scheduled, with attendance
# recorded (it took place). Anything else is refused with the reason for that state.
ACTIVITY_FLOW = {
    "scheduled": ("sign_up", "cancel_signup", "cancel", "record_attendance",
                  "record_amount_raised"),
    "held": ("cancel_signup", "record_attendance", "record_amount_raised"),
    "cancelled": (),
}
ACTIVITY_REFUSALS = {
    ("cancelled", "cancel"): ("the activity is already cancelled", "cancelled"),
    ("held", "cancel"): ("the activity took place: attendance is recorded", "held"),
    ("held", "sign_up"): ("the activity has taken place", "held"),
}
CANCELLED = ("the activity is cancelled", "cancelled")


def activity_state(status, attended):
    if status == "cancelled":
        return "cancelled"
    return "held" if attended else "scheduled"


def check_activity_step(state, step):
    if step not in ACTIVITY_FLOW[state]:
        message, detail = ACTIVITY_REFUSALS.get((state, step), CANCELLED)
        raise Conflict(message, {"activity_id": [detail]})


# A member's sign-up: none yet (None) or withdrawn, confirmed, or waiting for a place (the
# first waiting is promoted when a confirmed member withdraws).
SIGNUP_FLOW = {
    None: ("sign_up",),
    "cancelled": ("sign_up",),
    "confirmed": ("cancel",),
    "waitlisted": ("cancel", "promote"),
}


def check_signup_step(status, step):
    if step in SIGNUP_FLOW[status]:
        return
    if step == "sign_up":
        raise Conflict("the member is already signed up", {"member_id": [f"already {status}"]})
    raise Conflict("the member is not signed up", {"member_id": ["not signed up"]})


FACILITY_FLOW = {"open": ("close",), "closed": ()}


def check_facility_step(status, step):
    if step not in FACILITY_FLOW[status]:
        raise Conflict(f"the facility is already {status}", {"facility_id": [status]})


def check_schedule_end(starts_on, ends_on, new_ends_on):
    """A recurring activity ends earlier than it would, and not before it starts."""
    if ends_on is not None and ends_on <= new_ends_on:
        raise Conflict("the schedule already ends by then", {"ends_on": ["already ended"]})
    if new_ends_on < starts_on:
        raise Conflict("cannot end before it starts", {"ends_on": ["before starts_on"]})


def active_on(joined_on, left_on, day):
    """A member counts on ``day`` if they had joined and had not yet left."""
    return (joined_on is None or joined_on <= day) and (left_on is None or left_on > day)


@dataclass(frozen=True)
class MemberFacts:
    id: int
    name: str
    gender: str | None
    unit_id: int | None
    joined_on: date | None
    left_on: date | None
    roles: frozenset = field(default_factory=frozenset)  # {(unit_id, role)} held that day


@dataclass(frozen=True)
class Audience:
    kind: str
    unit_ids: frozenset | None = None  # the audience unit's subtree, when one is named
    role: str | None = None
    label: str = ""


def audience_refusal(audience, member, day):
    """Why ``member`` is not in the audience on ``day``, or None when they are."""
    if not active_on(member.joined_on, member.left_on, day):
        return "not a member of the union on the activity's day"
    in_scope = audience.unit_ids is None or member.unit_id in audience.unit_ids
    if audience.kind in ("subtree", "all_staff") and not in_scope:
        return f"not in {audience.label or 'the audience unit'}"
    if audience.kind == "women":
        if member.gender != "female":
            return "the activity is for women workers"
        if not in_scope:
            return f"not in {audience.label or 'the audience unit'}"
    if audience.kind == "role":
        holds = [unit for unit, role in member.roles if role == audience.role]
        if not holds or (audience.unit_ids is not None
                         and not any(u in audience.unit_ids for u in holds)):
            return f"the activity is for holders of the role {audience.role}"
    return None


def signup_status(capacity, confirmed):
    """A new sign-up is confirmed while places are left, otherwise it waits in line."""
    return "confirmed" if capacity is None or confirmed < capacity else "waitlisted"


def is_occurrence(frequency, weekday, starts_on, ends_on, day, is_working_day):
    """Does the schedule meet on ``day``? Only on working days (Chinese calendar, make-up
    working days included); a weekly session that falls on a holiday is skipped."""
    if day < starts_on or (ends_on is not None and day > ends_on):
        return False
    if not is_working_day(day):
        return False
    return frequency == "daily" or day.weekday() == weekday


def occurrences(frequency, weekday, starts_on, ends_on, date_from, date_to, is_working_day):
    day = max(starts_on, date_from)
    last = min(ends_on, date_to) if ends_on is not None else date_to
    found = []
    while day <= last:
        if is_occurrence(frequency, weekday, starts_on, ends_on, day, is_working_day):
            found.append(day)
        day += timedelta(days=1)
    return found


def upcoming_due(held_on, as_of, previous_working_day):
    """The reminder is due from the working day before the activity until the day before
    it, so a tick missed on that working day (or an activity added late) still sends it."""
    return previous_working_day(held_on) <= as_of < held_on


def checkup_reminders_due(as_of, is_working_day):
    """Members still missing the year's check-up are reminded in the last quarter, on a
    working day (never during the National Day holiday)."""
    return as_of.month >= CHECKUP_REMINDER_MONTH and is_working_day(as_of)


def goal_result(metric, target, actual):
    met = actual >= target
    progress = 1.0 if target <= 0 else min(1.0, actual / target)
    return {"actual": round(actual, 4) if metric in RATIO_METRICS else actual,
            "met": met, "progress": round(progress, 4)}


def ratio(part, whole):
    return round(part / whole, 4) if whole else 0.0


def headline(figures):
    """The numbers the article reports, from the figures of a period (see ``figures``)."""
    kinds = {}
    for row in figures["activities"]:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["activities"]
    opened = {row["kind"]: row["opened"] for row in figures["facilities"]}
    reading_club = sum(r["occurrences"] for r in figures["recurring"]
                       if r["kind"] == "reading_club")
    return {
        "sports_venues": opened.get("sports_venue", 0),
        "sports_events": sum(kinds.get(k, 0) for k in SPORTS_KINDS),
        "units_with_daily_exercise": figures["units_with_daily_exercise"]["count"],
        "libraries_and_reading_corners": sum(opened.get(k, 0) for k in LIBRARY_KINDS),
        "mobile_bookshelves": opened.get("mobile_bookshelf", 0),
        "reading_sessions": kinds.get("reading_session", 0) + reading_club,
        "mental_health_lectures": figures["mental_health_lectures"],
        "womens_health_activities": kinds.get("womens_health", 0),
        "checkup_coverage": figures["checkups"]["coverage"],
    }
