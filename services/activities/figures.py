"""The figures of any period and any subtree, and the measurement of campaign goals.

Attendance and participation rows repeat the organiser unit, the member's unit, the kind,
the campaign and the date, so each figure is one scan of one table, filtered by a set of
unit ids (the subtree, from the read model's recursive CTE) and ``held_on``: for a subtree,
index-only range scans of the unit-first covering indexes; for everything, a sequential scan
(bench/ACTIVITIES.md has the figures and the alternatives measured). What
is counted is attendance, never sign-ups: an activity is *held* when attendance was
recorded for it.

Scope: activities (and recurring sessions) count for the subtree of their organiser unit;
"members reached" counts the subtree's own members, whoever organised what they attended.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import text

from gonghui import directory
from gonghui.clock import today
from services.activities import rules


def _scope(column, unit_ids):
    return "" if unit_ids is None else f" AND {column} = ANY(:units)"


def _params(date_from, date_to, unit_ids, **more):
    params = {"date_from": date_from, "date_to": date_to, **more}
    if unit_ids is not None:
        params["units"] = sorted(unit_ids)
    return params


def activity_rows(session, date_from, date_to, unit_ids):
    """Per (campaign, kind), per campaign and overall: activities held, distinct
    participants, attendances. GROUPING SETS: one pass over the attendance rows."""
    rows = session.execute(text(
        "SELECT campaign_id, kind, GROUPING(campaign_id, kind) AS level, "
        "count(DISTINCT activity_id) AS activities, count(DISTINCT member_id) AS participants, "
        "count(*) AS attendances FROM attendance "
        "WHERE held_on BETWEEN :date_from AND :date_to"
        + _scope("organiser_unit_id", unit_ids) +
        " GROUP BY GROUPING SETS ((campaign_id, kind), (campaign_id), ())"),
        _params(date_from, date_to, unit_ids)).all()
    names = dict(session.execute(text("SELECT id, name FROM campaigns")).all())
    by_kind, by_campaign = [], []
    totals = {"activities": 0, "participants": 0, "attendances": 0}
    for row in rows:
        counts = {"activities": row.activities, "participants": row.participants,
                  "attendances": row.attendances}
        ref = {"campaign_id": row.campaign_id, "campaign_name": names.get(row.campaign_id)}
        if row.level == 0:
            by_kind.append({**ref, "kind": row.kind, **counts})
        elif row.level == 1:
            by_campaign.append({**ref, **counts})
        else:
            totals = counts

    def order(row):
        return row["campaign_id"] is None, row["campaign_id"] or 0, row.get("kind", "")

    return sorted(by_kind, key=order), sorted(by_campaign, key=order), totals


def mental_health_lectures(session, date_from, date_to, unit_ids):
    return session.scalar(text(
        "SELECT count(*) FROM activities a WHERE a.kind = 'lecture' AND a.topic = :topic "
        "AND a.status = 'scheduled' AND a.held_on BETWEEN :date_from AND :date_to"
        + _scope("a.organiser_unit_id", unit_ids) +
        " AND EXISTS (SELECT 1 FROM attendance t WHERE t.activity_id = a.id)"),
        _params(date_from, date_to, unit_ids, topic=rules.MENTAL_HEALTH))


def recurring_rows(session, date_from, date_to, unit_ids, campaign_id=None):
    campaign = "" if campaign_id is None else " AND campaign_id = :campaign"
    scoped = ("SELECT kind, schedule_id, held_on, member_id FROM participations "
              "WHERE held_on BETWEEN :date_from AND :date_to"
              + _scope("organiser_unit_id", unit_ids) + campaign)
    # Sessions are counted from one row per (schedule, day), hashed, rather than with
    # count(DISTINCT (schedule_id, held_on)), which sorts every participation row.
    rows = session.execute(text(
        f"WITH scoped AS ({scoped}), "
        "sessions AS (SELECT kind, schedule_id, held_on, count(*) AS n FROM scoped "
        "GROUP BY kind, schedule_id, held_on), "
        "people AS (SELECT kind, count(DISTINCT member_id) AS participants FROM scoped "
        "GROUP BY kind) "
        "SELECT s.kind, count(DISTINCT s.schedule_id) AS schedules, count(*) AS occurrences, "
        "sum(s.n)::integer AS participations, min(p.participants) AS participants "
        "FROM sessions s JOIN people p ON p.kind = s.kind GROUP BY s.kind ORDER BY s.kind"),
        _params(date_from, date_to, unit_ids, campaign=campaign_id)).all()
    return [dict(r._mapping) for r in rows]


def daily_exercise_units(session, date_from, date_to, unit_ids):
    """Units running daily workplace exercise (工间操) with participation in the period."""
    rows = session.execute(text(
        "SELECT DISTINCT p.organiser_unit_id AS unit_id, u.name AS unit_name "
        "FROM participations p JOIN recurring_schedules s ON s.id = p.schedule_id "
        "LEFT JOIN directory_units u ON u.unit_id = p.organiser_unit_id "
        "WHERE s.kind = 'workplace_exercise' AND s.frequency = 'daily' "
        "AND p.held_on BETWEEN :date_from AND :date_to"
        + _scope("p.organiser_unit_id", unit_ids) + " ORDER BY 1"),
        _params(date_from, date_to, unit_ids)).all()
    return [dict(r._mapping) for r in rows]


def facility_rows(session, date_from, date_to, unit_ids):
    """Per kind: open at the end of the period, and opened (built) during it."""
    rows = session.execute(text(
        "SELECT kind, "
        "count(*) FILTER (WHERE opened_on <= :date_to AND "
        "(closed_on IS NULL OR closed_on > :date_to)) AS open, "
        "count(*) FILTER (WHERE opened_on BETWEEN :date_from AND :date_to) AS opened "
        "FROM facilities WHERE true" + _scope("unit_id", unit_ids) + " GROUP BY kind"),
        _params(date_from, date_to, unit_ids)).all()
    found = {r.kind: {"kind": r.kind, "open": r.open, "opened": r.opened} for r in rows}
    return [found.get(k, {"kind": k, "open": 0, "opened": 0}) for k in rules.FACILITY_KINDS]


def members_on(session, unit_ids, day):
    return session.scalar(text(
        "SELECT count(*) FROM directory_members WHERE joined_on <= :day "
        "AND (left_on IS NULL OR left_on > :day)" + _scope("unit_id", unit_ids)),
        _params(None, None, unit_ids, day=day))


def checkup_figure(session, date_from, date_to, unit_ids):
    """Members in the union at the end of the period, and how many of them had a check-up
    during it."""
    # A plain join lets the planner probe the (member_id, year) index for a small subtree
    # and hash-join for everything; DISTINCT because a period can span two years.
    row = session.execute(text(
        "SELECT count(DISTINCT m.member_id) AS members, count(DISTINCT c.member_id) AS checked "
        "FROM directory_members m LEFT JOIN checkups c ON c.member_id = m.member_id "
        "AND c.checked_on BETWEEN :date_from AND :date_to "
        "WHERE m.joined_on <= :date_to AND (m.left_on IS NULL OR m.left_on > :date_to)"
        + _scope("m.unit_id", unit_ids)),
        _params(date_from, date_to, unit_ids)).one()
    return {"members": row.members, "checked": row.checked,
            "coverage": rules.ratio(row.checked, row.members)}


def members_reached(session, date_from, date_to, unit_ids, campaign_id=None):
    campaign = "" if campaign_id is None else " AND campaign_id = :campaign"
    return session.scalar(text(
        "SELECT count(*) FROM (SELECT member_id FROM attendance "
        "WHERE held_on BETWEEN :date_from AND :date_to"
        + _scope("member_unit_id", unit_ids) + campaign +
        " UNION SELECT member_id FROM participations "
        "WHERE held_on BETWEEN :date_from AND :date_to"
        + _scope("member_unit_id", unit_ids) + campaign + ") reached"),
        _params(date_from, date_to, unit_ids, campaign=campaign_id))


def idle_units(session, date_from, date_to, unit_ids):
    """Of ``unit_ids``, those that organised no held activity or session and none of whose
    members took part in one: four index probes per unit (unit-first indexes)."""
    period = "held_on BETWEEN :date_from AND :date_to"
    probes = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE {column} = u.id AND {period})"
        for table in ("attendance", "participations")
        for column in ("organiser_unit_id", "member_unit_id"))
    return set(session.scalars(text(
        f"SELECT u.id FROM unnest(CAST(:units AS integer[])) AS u(id) WHERE NOT ({probes})"),
        {"date_from": date_from, "date_to": date_to, "units": sorted(unit_ids)}))


def donations(session, date_from, date_to, unit_ids):
    row = session.execute(text(
        "SELECT count(*) AS drives, coalesce(sum(amount_raised), 0) AS amount FROM activities "
        "WHERE kind = 'donation_drive' AND status = 'scheduled' AND amount_raised IS NOT NULL "
        "AND held_on BETWEEN :date_from AND :date_to" + _scope("organiser_unit_id", unit_ids)),
        _params(date_from, date_to, unit_ids)).one()
    return {"drives": row.drives, "amount_raised": Decimal(row.amount)}


def unit_names(session, ids):
    if not ids:
        return {}
    return dict(session.execute(text(
        "SELECT unit_id, name FROM directory_units WHERE unit_id = ANY(:ids)"),
        {"ids": sorted(ids)}).all())


def figures(session, date_from, date_to, unit_id):
    """Everything the union office reports for a period and a subtree (None: everything)."""
    unit_ids = directory.subtree_ids(session, unit_id) if unit_id is not None else None
    by_kind, by_campaign, totals = activity_rows(session, date_from, date_to, unit_ids)
    open_units = directory.open_unit_ids(session, unit_ids, date_to)
    idle = sorted(idle_units(session, date_from, date_to, open_units))
    names = unit_names(session, idle)
    members = members_on(session, unit_ids, date_to)
    reached = members_reached(session, date_from, date_to, unit_ids)
    daily = daily_exercise_units(session, date_from, date_to, unit_ids)
    result = {
        "date_from": date_from, "date_to": date_to, "unit_id": unit_id,
        "unit_name": directory.unit_name(session, unit_id) if unit_id is not None else None,
        "units": len(open_units),
        "activities": by_kind, "by_campaign": by_campaign,
        "totals": {**totals, "members": members, "members_reached": reached,
                   "reach": rules.ratio(reached, members)},
        "recurring": recurring_rows(session, date_from, date_to, unit_ids),
        "facilities": facility_rows(session, date_from, date_to, unit_ids),
        "units_with_daily_exercise": {"count": len(daily), "units": daily},
        "checkups": checkup_figure(session, date_from, date_to, unit_ids),
        "donations": donations(session, date_from, date_to, unit_ids),
        "mental_health_lectures": mental_health_lectures(session, date_from, date_to,
                                                         unit_ids),
        "units_without_activity": [{"unit_id": u, "unit_name": names.get(u)} for u in idle],
    }
    result["headline"] = rules.headline(result)
    return result


# ------------------------------------------------------------------ campaign goals


def campaign_activity_counts(session, campaign_id, date_from, date_to, kinds=(), topic=None):
    """(activities held, distinct participants) of a campaign's activities."""
    kind_clause = " AND a.kind = ANY(:kinds)" if kinds else ""
    topic_clause = " AND a.topic = :topic" if topic else ""
    row = session.execute(text(
        "SELECT count(DISTINCT t.activity_id) AS held, count(DISTINCT t.member_id) AS people "
        "FROM attendance t JOIN activities a ON a.id = t.activity_id "
        "WHERE t.campaign_id = :campaign AND t.held_on BETWEEN :date_from AND :date_to"
        + kind_clause + topic_clause),
        {"campaign": campaign_id, "date_from": date_from, "date_to": date_to,
         "kinds": list(kinds), "topic": topic}).one()
    return row.held, row.people


def units_with_facility_share(session, unit_ids, level, kinds, day):
    """Share of the scope's units whose own union has ``level`` that have an open facility
    of ``kinds`` in their subtree on ``day`` (a team's reading corner counts for its
    grassroots union)."""
    targets = set(session.scalars(text(
        "SELECT unit_id FROM directory_unions WHERE level = :level "
        "AND (established_on IS NULL OR established_on <= :day) "
        "AND (closed_on IS NULL OR closed_on > :day)"),
        {"level": level, "day": day})) & unit_ids
    parents = dict(session.execute(text("SELECT unit_id, parent_id FROM directory_units")).all())
    with_facility = set(session.scalars(text(
        "SELECT DISTINCT unit_id FROM facilities WHERE kind = ANY(:kinds) "
        "AND opened_on <= :day AND (closed_on IS NULL OR closed_on > :day)"),
        {"kinds": list(kinds), "day": day}))
    covered = set()
    for unit in with_facility:
        seen = 0
        while unit is not None and seen < 50:  # bounded: a broken tree cannot loop
            if unit in targets:
                covered.add(unit)
            unit, seen = parents.get(unit), seen + 1
    return rules.ratio(len(covered), len(targets))


def measure_goal(session, campaign, goal, unit_ids, date_from, date_to):
    params = goal.params or {}
    kinds = params.get("facility_kinds") or []
    metric = goal.metric
    if metric == "checkup_coverage":
        return checkup_figure(session, date_from, date_to, unit_ids)["coverage"]
    if metric == "member_reach":
        members = members_on(session, unit_ids, date_to)
        return rules.ratio(members_reached(session, date_from, date_to, unit_ids, campaign.id),
                           members)
    if metric == "units_with_facility":
        return units_with_facility_share(session, unit_ids, params.get("union_level")
                                         or "grassroots_union", kinds, date_to)
    if metric == "facilities_opened":
        return session.scalar(text(
            "SELECT count(*) FROM facilities WHERE kind = ANY(:kinds) AND unit_id = ANY(:units) "
            "AND opened_on BETWEEN :date_from AND :date_to"),
            {"kinds": kinds, "units": sorted(unit_ids), "date_from": date_from,
             "date_to": date_to})
    if metric in ("activities_held", "participants"):
        held, people = campaign_activity_counts(session, campaign.id, date_from, date_to,
                                                params.get("activity_kinds") or (),
                                                params.get("topic"))
        return held if metric == "activities_held" else people
    if metric == "units_with_daily_exercise":
        return len(daily_exercise_units(session, date_from, date_to, unit_ids))
    if metric == "recurring_sessions":
        rows = recurring_rows(session, date_from, date_to, None, campaign_id=campaign.id)
        return sum(r["occurrences"] for r in rows)
    raise ValueError(f"unknown metric {metric}")


def campaign_period(year, as_of):
    return date(year, 1, 1), min(date(year, 12, 31), as_of)


def of_period(work, date_from, date_to, unit_id):
    """``figures`` of a period (default: the year to date) and subtree (default: all);
    ``work`` is the worker's service instance, used only through ``work.db``."""
    date_to = date_to or today()
    date_from = date_from or date_to.replace(month=1, day=1)
    directory.unit(work.db, unit_id)
    return figures(work.db, date_from, date_to, unit_id)
