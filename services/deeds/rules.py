"""The deed cycle's rules in plain Python: no nameko, no database.

Vocabulary: practical deeds for the workforce (我为群众办实事), the five focuses (五个聚焦),
the five batches (五个一批: strengthening 强企, talent 成才, warm-heart 暖心, care 关爱,
foundation 基础), party-committee list (党委) and grassroots list (基层), monthly report
(月汇报), supervision (月督办), quarterly public notice (季公示), quarterly evaluation (季评价),
commitment (承诺), ledger (台账).
"""

import calendar as month_calendar
import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from gonghui.errors import Conflict

LEVELS = ("party_committee", "grassroots")
BATCHES = ("strengthening", "talent", "warm_heart", "care", "foundation")
BATCH_NAMES = {"strengthening": "强企工程", "talent": "成才工程", "warm_heart": "暖心工程",
               "care": "关爱工程", "foundation": "基础工程"}
# The article's five focuses; names are configurable (focus_area codes are stable).
FOCUS_AREAS = {
    "key_work": "聚焦年度重点工作落地落实",
    "deep_problems": "聚焦解决制约企业高质量发展深层次系统性问题",
    "conditions": "聚焦员工工作和生活条件改善",
    "talent": "聚焦人才队伍建设",
    "reform": "聚焦深化改革和服务基层能力提升",
}
IDEA_FLOW = {"submitted": ("argued", "declined"), "argued": ("studied", "declined"),
             "studied": ("accepted", "declined")}
ITEM_STATUSES = ("open", "completed", "noticed", "non_conforming")
TRACKS = ("on_track", "under_supervision", "completed_awaiting_notice", "publicly_noticed",
          "non_conforming")
DEFAULT_WEIGHTS = {"completion": 0.35, "timeliness": 0.25, "supervision": 0.15,
                   "objections": 0.10, "satisfaction": 0.15}


@dataclass(frozen=True)
class Settings:
    report_due_day: int = 25
    due_notice_working_days: int = 3
    supervision_working_days: int = 5
    notice_working_days: int = 5

    @classmethod
    def from_config(cls, config):
        """The service's settings from its config (``DEEDS_REPORT_DUE_DAY`` ..., see
        deploy/nameko.yaml), each defaulting as above."""
        return cls(**{f.name: int(config.get(f"DEEDS_{f.name.upper()}", f.default))
                      for f in dataclasses.fields(cls)})


def check_idea_step(status, step, reason=None):
    if step not in IDEA_FLOW.get(status, ()):
        raise Conflict(f"an idea that is {status} cannot be {step}",
                       {"status": [f"{status} allows {IDEA_FLOW.get(status, ()) or 'nothing'}"]})
    if step == "declined" and not reason:
        raise Conflict("a declined idea needs a reason for its submitter",
                       {"reason": ["required when declining"]})


# What may happen to an item (实事项目) in which status: (the statuses it may happen in, the
# status it leads to or None when the status stays, why it is refused: None where the
# caller passes over an item it does not apply to).
ITEM_FLOW = {
    "report": (("open", "non_conforming"), None,
               "an item that is {status} takes no progress reports"),
    "complete": (("open", "non_conforming"), "completed",
                 "an item that is {status} cannot be completed"),
    "find_non_conforming": (("completed",), "non_conforming",
                            "only a completed item awaiting its notice can be found "
                            "non-conforming"),
    "uphold_objection": (("completed", "noticed"), "non_conforming", None),
    "notice": (("completed",), "noticed", None),
    "vote": (("completed", "noticed"), None, "votes are on completed items"),
}


def item_may(action, status):
    return status in ITEM_FLOW[action][0]


def check_item_step(action, status):
    """The status the item moves to by ``action`` (None: it stays), else ``Conflict``."""
    allowed, leads_to, refusal = ITEM_FLOW[action]
    if status not in allowed:
        raise Conflict(refusal.format(status=status), {"item_id": [f"item is {status}"]})
    return leads_to


# A supervision order is closed once (by the report, the completion or an explanation); an
# objection is reviewed once.
ORDER_FLOW = {"open": ("closed",)}
OBJECTION_FLOW = {"raised": ("upheld", "rejected")}


def check_order_step(status, step="closed"):
    if step not in ORDER_FLOW.get(status, ()):
        raise Conflict("the order is already closed", {"order_id": ["closed"]})


def check_objection_review(status, upheld, new_deadline):
    if ("upheld" if upheld else "rejected") not in OBJECTION_FLOW.get(status, ()):
        raise Conflict("the objection was already reviewed", {"objection_id": ["reviewed"]})
    if upheld and new_deadline is None:
        raise Conflict("an upheld objection needs a new deadline for the owner",
                       {"new_deadline": ["required when upheld"]})


# Each track as (item status, has an open supervision order): None where the order does
# not matter. The one definition of the tracks, also turned into SQL by the ledger query.
TRACK_RULES = {
    "on_track": ("open", False),
    "under_supervision": ("open", True),
    "completed_awaiting_notice": ("completed", None),
    "publicly_noticed": ("noticed", None),
    "non_conforming": ("non_conforming", None),
}


def track(status, has_open_supervision):
    """Every item is in exactly one track at every moment."""
    for name, (track_status, supervised) in TRACK_RULES.items():
        if status == track_status and supervised in (None, bool(has_open_supervision)):
            return name
    raise ValueError(f"no track for an item that is {status!r}")


# Items not completed: they owe monthly reports (non-conforming ones are being redone).
REPORTING_STATUSES = ITEM_FLOW["report"][0]


def owes_reports(status):
    """Items not completed owe monthly reports (non-conforming ones are being redone)."""
    return status in REPORTING_STATUSES


# What a supervision order (督办单) chases, with the reason written on it. A missed report
# is closed by that report; a missed deadline only by completion (or an explanation).
ORDER_CAUSES = {
    "report": "{period} 月度进展未在 {deadline} 前报送",
    "completion": "计划完成时间 {deadline} 已过，事项尚未完成",
    "rework": "不符合项整改期限 {deadline} 已过，事项尚未重新完成",
}


def order_reason(cause, period, deadline):
    return ORDER_CAUSES[cause].format(period=period, deadline=deadline.isoformat())


def check_can_report(status):
    check_item_step("report", status)


def period_of(day):
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period):
    year, month = map(int, period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def period_start(period):
    year, month = map(int, period.split("-"))
    return date(year, month, 1)


def due_date(period, due_day, calendar):
    """The report's due day in a month, moved to the previous working day when it falls on
    a weekend or holiday."""
    start = period_start(period)
    last = month_calendar.monthrange(start.year, start.month)[1]
    return calendar.working_day_on_or_before(start.replace(day=min(due_day, last)))


# The one definition of "an item owes a report for a period" (月汇报义务), read both by
# ``owes_period`` here and by the reminder query (``queries.items_owing``): each row is
# (the item's date, how it compares, the period's bound). An item owes reports from the first
# month after the one it was created in, and one sent back (non-conforming) owes none for a
# period whose due day passed before it was reopened.
OWES_REPORT = (
    ("created_on", "before", "period_start"),
    ("reopened_on", "unset_or_not_after", "due_on"),
)
COMPARISONS = {
    "before": lambda value, bound: value < bound,
    "unset_or_not_after": lambda value, bound: value is None or value <= bound,
}


def period_bounds(period, due_on=None):
    return {"period_start": period_start(period), "due_on": due_on}


def owes_period(created_on, period, due_on=None, reopened_on=None):
    """Whether an item (not completed) owes a report for ``period`` due ``due_on``."""
    values = {"created_on": created_on, "reopened_on": reopened_on}
    bounds = period_bounds(period, due_on)
    return all(COMPARISONS[how](values[field], bounds[bound])
               for field, how, bound in OWES_REPORT)


def weighted_progress(children):
    """(weight, progress) pairs → the parent's progress, rounded down."""
    total = sum(w for w, _ in children)
    if total <= 0:
        return 0
    return int(sum(w * p for w, p in children) / total)


def quarter_of(day):
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year, quarter):
    first = date(year, 3 * quarter - 2, 1)
    last_month = 3 * quarter
    last = date(year, last_month, month_calendar.monthrange(year, last_month)[1])
    return first, last


def notice_window(year, quarter, settings, calendar, opened_on=None):
    """(opens_on, closes_on): the first working day after the quarter, open N working days.
    A notice opened later than that (``opened_on``: the service was down, or the tick ran
    late) still gives members its full N working days from the day it opens."""
    _, last = quarter_bounds(year, quarter)
    opens = calendar.next_working_day(last)
    if opened_on is not None and opened_on > opens:
        opens = opened_on
    first = calendar.working_day_on_or_after(opens)
    return opens, calendar.add_working_days(first, settings.notice_working_days - 1)


def previous_quarter(year, quarter):
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def check_objection_window(status, closes_on, raised_on):
    if status != "open" or raised_on > closes_on:
        raise Conflict("the notice is closed for objections",
                       {"notice_id": [f"objections were open until {closes_on}"]})


def score_units(stats, weights):
    """stats: {unit_id: dict(completed, items, reports_on_time, reports_owed,
    supervision_orders, upheld_objections, satisfaction (0..1 or None))} → ranking rows."""
    rows = []
    for unit_id, s in stats.items():
        completion = s["completed"] / s["items"] if s["items"] else 0.0
        on_time = s["reports_on_time"] / s["reports_owed"] if s["reports_owed"] else 1.0
        satisfaction = s["satisfaction"] if s["satisfaction"] is not None else 0.5
        score = (weights["completion"] * completion + weights["timeliness"] * on_time
                 + weights["supervision"] / (1 + s["supervision_orders"])
                 + weights["objections"] / (1 + s["upheld_objections"])
                 + weights["satisfaction"] * satisfaction)
        rows.append({"unit_id": unit_id, "score": round(100 * score, 2),
                     "completion_rate": round(completion, 4), "on_time_rate": round(on_time, 4),
                     "supervision_orders": s["supervision_orders"],
                     "upheld_objections": s["upheld_objections"],
                     "satisfaction": s["satisfaction"]})
    rows.sort(key=lambda r: (-r["score"], r["unit_id"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def check_weights(weights):
    if set(weights) != set(DEFAULT_WEIGHTS) or any(w < 0 for w in weights.values()) or abs(
            sum(weights.values()) - 1.0) > 1e-6:
        raise Conflict("evaluation weights must name every criterion, be >= 0 and add up to 1",
                       {"weights": [f"criteria: {sorted(DEFAULT_WEIGHTS)}"]})


def check_commitment(owner_kind, owner_member_id, starts_on, ends_on):
    if ends_on <= starts_on:
        raise Conflict("a commitment's period must end after it starts",
                       {"ends_on": ["not after starts_on"]})
    if (owner_kind == "member") != (owner_member_id is not None):
        raise Conflict("a cadre's commitment names the cadre; a unit's does not",
                       {"owner_member_id": ["required exactly for owner_kind member"]})


def check_commitment_report(starts_on, ends_on, reported_on):
    if not starts_on <= reported_on <= ends_on:
        raise Conflict("the report falls outside the commitment's period",
                       {"reported_on": [f"{starts_on}..{ends_on}"]})


def commitment_ratio(achieved, target):
    return round(achieved / target, 4) if target else 0.0


def days(n):
    return timedelta(days=n)
