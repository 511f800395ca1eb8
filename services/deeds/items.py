"""Deed lists and items (实事项目) with their monthly reports (月汇报): lists per level and
year, items and weighted sub-items whose progress rolls up, reports by the due day and the
reminders before and after it, completion, and non-conformance (不符合) sent back with
feedback and a new deadline (``ITEM_FLOW``). The five focuses' names live here too.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()``, ``work.lookup``,
``work.settings`` and ``work.calendar``.
"""

from gonghui import directory
from gonghui.actor import SYSTEM_TICK
from gonghui.errors import Conflict, get_or_not_found
from gonghui.events import record_change
from services.deeds import events, payloads, queries, rules, supervision
from services.deeds.models import DeedList, Item, ReminderSent, Report, Setting


def item_out(work, item):
    out = {c.name: getattr(item, c.name) for c in Item.__table__.columns}
    out["track"] = rules.track(item.status, queries.has_open_supervision(work.db, item.id))
    return out


def create_list(work, level, year, unit_id, title):
    directory.unit(work.db, unit_id)
    if queries.list_exists(work.db, level, year, unit_id):
        raise Conflict("that list exists", {"level": ["one list per level, year, unit"]})
    deed_list = DeedList(level=level, year=year, unit_id=unit_id, title=title)
    work.db.add(deed_list)
    work.db.flush()
    record_change(work.db, work.actor(), "deeds.list_created", ("list", deed_list.id),
                  {"level": level, "year": year, "unit_id": unit_id, "title": title})
    return deed_list


def create_item(work, list_id, title, description, focus_area, batch, owner_unit_id,
                responsible_member_id, planned_completion, parent_item_id, weight, created_on,
                idea_id=None):
    deed_list = get_or_not_found(work.db, DeedList, list_id, "list")
    directory.unit(work.db, owner_unit_id, "owner_unit_id")
    directory.member(work.db, responsible_member_id, "responsible_member_id")
    if parent_item_id is not None:
        parent = get_or_not_found(work.db, Item, parent_item_id, "item")
        if parent.list_id != list_id or parent.parent_id is not None:
            raise Conflict("sub-items sit one level under an item of the same list",
                           {"parent_item_id": ["not a top item of this list"]})
    item = Item(list_id=list_id, parent_id=parent_item_id, title=title,
                description=description, level=deed_list.level, focus_area=focus_area,
                batch=batch, owner_unit_id=owner_unit_id,
                responsible_member_id=responsible_member_id,
                planned_completion=planned_completion, weight=weight, progress=0,
                status="open", created_on=created_on, idea_id=idea_id)
    work.db.add(item)
    work.db.flush()
    work.emit(events.ITEM_CREATED, payloads.item_data(work, item), ("item", item.id))
    return item


def roll_up(work, item):
    """A sub-item's progress moves its parent's (weighted)."""
    if item.parent_id is None:
        return
    parent = work.db.get(Item, item.parent_id)
    progress = rules.weighted_progress([(c.weight, c.progress)
                                        for c in queries.children(work.db, parent.id)])
    if progress != parent.progress:
        parent.progress = progress
        work.emit(events.ITEM_PROGRESSED, payloads.item_data(work, parent), ("item", parent.id))


def submit_report(work, item_id, progress, text, attachment_ref, period, submitted_on):
    """The period's report; it closes the period's open supervision order."""
    item = get_or_not_found(work.db, Item, item_id, "item")
    rules.check_can_report(item.status)
    if queries.children(work.db, item.id):
        raise Conflict("an item with sub-items reports through them",
                       {"item_id": ["has sub-items"]})
    period = period or rules.period_of(submitted_on)
    if queries.report_exists(work.db, item.id, period):
        raise Conflict(f"the report for {period} is already in",
                       {"period": ["already reported"]})
    due_on = rules.due_date(period, work.settings.report_due_day, work.calendar)
    report = Report(item_id=item.id, period=period, progress=progress, text=text,
                    attachment_ref=attachment_ref, submitted_on=submitted_on, due_on=due_on,
                    on_time=submitted_on <= due_on)
    work.db.add(report)
    item.progress = progress
    work.db.flush()
    for order in queries.open_orders(work.db, item.id, period, "report")[:1]:
        supervision.close_order(work, order, "report", submitted_on, None)
    work.emit(events.REPORT_SUBMITTED, {
        **payloads.item_ref(work, item), "report_id": report.id, "period": period,
        "progress": progress, "submitted_on": submitted_on, "on_time": report.on_time},
        ("item", item.id))
    roll_up(work, item)
    return report


def list_reports(work, item_id):
    get_or_not_found(work.db, Item, item_id, "item")
    return queries.reports_of(work.db, item_id)


def complete_item(work, item_id, completed_on, summary):
    """Done: the item's open orders close, and it goes to the next public notice."""
    item = get_or_not_found(work.db, Item, item_id, "item")
    status = rules.check_item_step("complete", item.status)
    if any(rules.item_may("complete", c.status) for c in queries.children(work.db, item.id)):
        raise Conflict("complete its sub-items first", {"item_id": ["open sub-items"]})
    item.status, item.completed_on, item.progress = status, completed_on, 100
    item.feedback = None
    for order in queries.open_orders(work.db, item.id):
        supervision.close_order(work, order, "completion", completed_on, summary)
    work.emit(events.ITEM_COMPLETED, {**payloads.item_ref(work, item),
                                      "completed_on": completed_on},
              ("item", item.id), changes={"summary": summary})
    roll_up(work, item)
    return item_out(work, item)


def make_non_conforming(work, item, feedback, new_deadline, source, on, actor=None):
    """Sent back (on review or by an upheld objection): feedback and a new deadline."""
    item.status, item.feedback, item.new_deadline = "non_conforming", feedback, new_deadline
    item.completed_on, item.reopened_on = None, on
    work.emit(events.ITEM_NON_CONFORMING, {
        **payloads.item_ref(work, item), "feedback": feedback, "new_deadline": new_deadline,
        "source": source}, ("item", item.id), actor=actor)


def mark_non_conforming(work, item_id, feedback, new_deadline, marked_on):
    item = get_or_not_found(work.db, Item, item_id, "item")
    rules.check_item_step("find_non_conforming", item.status)
    make_non_conforming(work, item, feedback, new_deadline, "review", marked_on)
    return item_out(work, item)


def focus_areas(work):
    names = {**rules.FOCUS_AREAS, **queries.stored_setting(work.db, "focus_area_names", {})}
    return [{"code": code, "name": names[code]} for code in rules.FOCUS_AREAS]


def name_focus_areas(work, names):
    """New names for focus areas (the codes stay, so items and events keep their meaning)."""
    merged = {**queries.stored_setting(work.db, "focus_area_names", {}), **names}
    work.db.merge(Setting(key="focus_area_names", value=merged))
    record_change(work.db, work.actor(), "deeds.focus_areas_named",
                  ("settings", "focus_area_names"), names)
    return focus_areas(work)


# ------------------------------------------------------------------ the day's reminders


def remind_reports(work, as_of, counts):
    """Before the due day (from N working days before it), the report is due; after it,
    overdue, with a supervision order. Each reminder goes out once (``ReminderSent``)."""
    settings, calendar = work.settings, work.calendar
    current = rules.period_of(as_of)
    for period in (rules.previous_period(current), current):
        due_on = rules.due_date(period, settings.report_due_day, calendar)
        remind_from = calendar.add_working_days(due_on, -settings.due_notice_working_days)
        if remind_from <= as_of <= due_on:
            for item in queries.items_owing(work.db, period, due_on, "due"):
                _remind(work, item, period, due_on, as_of, "due", events.REPORT_DUE)
                counts["report_due"] += 1
        elif as_of > due_on:
            for item in queries.items_owing(work.db, period, due_on, "overdue"):
                _remind(work, item, period, due_on, as_of, "overdue", events.REPORT_OVERDUE)
                counts["report_overdue"] += 1
                supervision.issue_order(work, item, "report", period, due_on, as_of)
                counts["supervision_issued"] += 1


def _remind(work, item, period, due_on, as_of, kind, declared):
    work.db.add(ReminderSent(item_id=item.id, period=period, kind=kind))
    recipients = [item.responsible_member_id] if item.responsible_member_id else []
    work.emit(declared, {**payloads.item_ref(work, item), "period": period, "due_on": due_on,
                         "as_of": as_of, "recipient_member_ids": recipients},
              ("item", item.id), actor=SYSTEM_TICK)
