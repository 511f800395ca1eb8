"""工作台, the home page ("/"): for an officer, the figures of their union's subtree, each
from a route of the API; for a member, their own home (their inbox, their ideas, what is
on). Dates are the business date's (``gonghui.clock.today``)."""

from dataclasses import dataclass

from gonghui.clock import today
from gonghui.errors import Forbidden, NotFound, ServiceTimeout
from services.gateway.pages import layout, render
from services.gateway.pages.i18n import N_

COMPLETED_TRACKS = ("completed_awaiting_notice", "publicly_noticed")
TERMS_WITHIN_DAYS = 90
CAMPAIGNS_SHOWN = 5
# An idea's status as shown (msgids).
IDEA_STATUSES = {"submitted": N_("Submitted"), "argued": N_("Argued"), "studied": N_("Studied"),
                 "accepted": N_("Accepted"), "declined": N_("Declined")}


@dataclass
class UnitCompletion:
    unit_id: int
    name: str
    items: int
    tracks: dict
    completed: int
    on_time_rate: float

    @property
    def percent(self):
        return round(100 * self.completed / self.items, 1) if self.items else 0.0


def completion_rows(figures):
    """Per grassroots union: its items, their tracks, how many are completed."""
    rows = []
    for entry in figures:
        if entry["level"] != "grassroots":
            continue
        rows.append(UnitCompletion(entry["unit_id"], entry["unit_name"], entry["items"],
                                   entry["tracks"], sum(entry["tracks"].get(t, 0)
                                                        for t in COMPLETED_TRACKS),
                                   entry["on_time_rate"]))
    return rows


def missing_reports(ledger_rows, day):
    """Open items that owe this month's report (created before the month) and have none.
    (A report's period is deeds' "YYYY-MM"; the gateway imports no service's rules.)"""
    period, start = f"{day.year:04d}-{day.month:02d}", day.replace(day=1)
    return [row for row in ledger_rows if row["status"] == "open"
            and row["created_on"] < start.isoformat()
            and (row.get("last_report_period") or "") < period]


def supervision_figures(orders, day):
    open_orders = [o for o in orders if o["status"] == "open"]
    return {"open": len(open_orders),
            "overdue": sum(o["deadline"] < day.isoformat() for o in open_orders),
            "escalated": sum(o["escalation_level"] > 0 for o in open_orders)}


def campaign_progress(visit, year):
    shown = []
    for campaign in visit.get("activities_list_campaigns", year=year,
                              limit=CAMPAIGNS_SHOWN)["items"]:
        shown.append(visit.get("activities_campaign_progress",
                               {"campaign_id": campaign["id"]}))
    return shown


def officer_figures(visit, unit_id, day):
    year = day.year
    ledger = visit.every("deeds_ledger", unit_id=unit_id, year=year)
    return {
        "completion": completion_rows(visit.get("deeds_figures", unit_id=unit_id,
                                                year=year)),
        "supervision": supervision_figures(visit.every("deeds_list_supervision",
                                                       unit_id=unit_id, status="open"), day),
        "missing": missing_reports(ledger, day),
        "campaigns": campaign_progress(visit, year),
        "checkups": visit.get("activities_checkup_coverage", unit_id=unit_id, year=year),
        "terms": visit.every("organization_terms_due", unit_id=unit_id,
                             within_days=TERMS_WITHIN_DAYS),
    }


def member_home(visit, day):
    ideas = visit.get("list_my_ideas", limit=20)["items"]
    try:
        activities = visit.get("activities_list_activities", status="scheduled",
                               date_from=day.isoformat(), limit=10)["items"]
        signups = visit.get("activities_member_signups", limit=10)["items"]
    except (ServiceTimeout, NotFound, Forbidden):
        activities = signups = []
    return {"ideas": ideas, "activities": activities, "signups": signups}


def chart_data(rows, locale):
    """The completion chart's figures, for charts.js (the same numbers as the table)."""
    return {"kind": "bar", "renderer": "svg", "categories": [r.name for r in rows],
            "values": [r.percent for r in rows], "unit": "%",
            "series": render.gettext(locale, "Completion rate")}


def home(visit):
    shell = layout.shell(visit, "home")
    day = today()
    principal = visit.principal
    unit_id = layout.home_unit(principal)
    if principal.office_units or principal.is_admin:
        figures = officer_figures(visit, unit_id, day) if unit_id else None
        return render.page(visit.locale, "dashboard.html", shell=shell, day=day,
                           figures=figures, tracks=layout_tracks(),
                           chart=chart_data(figures["completion"], visit.locale)
                           if figures else None, terms_within=TERMS_WITHIN_DAYS)
    return render.page(visit.locale, "member_home.html", shell=shell, day=day,
                       home=member_home(visit, day) if principal.member_id else None,
                       idea_statuses=IDEA_STATUSES)


def layout_tracks():
    """The deed tracks in the order of the table's columns, with their labels (msgids)."""
    return [("on_track", N_("On track")), ("under_supervision", N_("Under supervision")),
            ("completed_awaiting_notice", N_("Completed, awaiting notice")),
            ("publicly_noticed", N_("Publicly noticed")), ("non_conforming", N_("Non-conforming"))]
