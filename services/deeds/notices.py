"""Quarterly public notices (季公示) and objections: the items completed in a quarter are
published on the first working day after it, open N working days for members' objections;
an upheld objection sends its item back as non-conforming (``OBJECTION_FLOW``), and when the
notice closes its items with no objection pending are publicly noticed.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.lookup``, ``work.settings`` and
``work.calendar``.
"""

import base64

from gonghui import directory
from gonghui.actor import SYSTEM_TICK, require_self, require_today
from gonghui.errors import Conflict, get_or_not_found
from services.deeds import documents, events, items, payloads, queries, rules
from services.deeds.models import Item, Notice, Objection

ITEM_NOTICED = rules.ITEM_FLOW["notice"][1]  # what a closing notice makes of its items


def objection_out(work, objection, owner_unit_id=None):
    """The objection with the unit owning the item objected to."""
    if owner_unit_id is None:
        owner_unit_id = work.db.get(Item, objection.item_id).owner_unit_id
    return {**{c.name: getattr(objection, c.name) for c in Objection.__table__.columns},
            "owner_unit_id": owner_unit_id}


def get_objection(work, objection_id):
    return objection_out(work, get_or_not_found(work.db, Objection, objection_id, "objection"))


def list_objections(work, notice_id, status, unit_id, limit, offset):
    get_or_not_found(work.db, Notice, notice_id, "notice")
    directory.unit(work.db, unit_id)
    return queries.objections(work.db, notice_id, status, unit_id, limit, offset).map(
        lambda row: objection_out(work, *row))


def raise_objection(work, notice_id, item_id, member_id, reason, raised_on):
    """A member objects as themselves (an officer or the platform may record a member's)."""
    notice = get_or_not_found(work.db, Notice, notice_id, "notice")
    require_self(work.actor(), directory.member(work.db, member_id).employee_no)
    require_today(work.actor(), raised_on, "raised_on")
    rules.check_objection_window(notice.status, notice.closes_on, raised_on)
    if item_id not in notice.item_ids:
        raise Conflict("the item is not on this notice", {"item_id": ["not noticed here"]})
    item = work.db.get(Item, item_id)
    objection = Objection(notice_id=notice.id, item_id=item_id, member_id=member_id,
                          reason=reason, raised_on=raised_on, status="raised")
    work.db.add(objection)
    work.db.flush()
    work.emit(events.OBJECTION_RAISED, payloads.objection_data(work, objection, item),
              ("item", item.id))
    return objection_out(work, objection, item.owner_unit_id)


def review_objection(work, objection_id, upheld, note, new_deadline, reviewed_on):
    objection = get_or_not_found(work.db, Objection, objection_id, "objection")
    rules.check_objection_review(objection.status, upheld, new_deadline)
    item = work.db.get(Item, objection.item_id)
    objection.status, objection.review_note = ("upheld" if upheld else "rejected"), note
    work.emit(events.OBJECTION_REVIEWED, payloads.objection_data(work, objection, item),
              ("item", item.id))
    notice = work.db.get(Notice, objection.notice_id)
    if upheld and rules.item_may("uphold_objection", item.status):
        items.make_non_conforming(work, item, note, new_deadline, "objection", reviewed_on)
    elif (notice.status == "closed" and rules.item_may("notice", item.status)
          and not queries.pending_objections(work.db, notice.id, item.id)):
        # The notice closed while this objection was pending; now the item is noticed.
        item.status, item.noticed_on = ITEM_NOTICED, reviewed_on
    return objection_out(work, objection, item.owner_unit_id)


def render_notice(work, notice_id, file_format):
    notice = get_or_not_found(work.db, Notice, notice_id, "notice")
    rows = [{**payloads.item_ref(work, i), "completed_on": i.completed_on, "status": i.status}
            for i in queries.items_of_notice(work.db, notice, queries.PRINT_ORDER)]
    content = documents.render_notice(notice, rows, file_format)
    return {"file_format": file_format,
            "filename": f"{notice.year}年第{notice.quarter}季度公示.{file_format}",
            "content_base64": base64.b64encode(content).decode()}


# ------------------------------------------------------------------ the day's notices


def publish_and_close(work, as_of, counts):
    """The last quarter's notice opens when due (late, it keeps its full window); notices
    past their window close."""
    year, quarter = rules.previous_quarter(*rules.quarter_of(as_of))
    due_to_open, _ = rules.notice_window(year, quarter, work.settings, work.calendar)
    if as_of >= due_to_open and queries.notice_of(work.db, year, quarter) is None:
        _publish(work, year, quarter, as_of, counts)
    for notice in queries.notices_closing(work.db, as_of):
        notice.status = "closed"
        pending = queries.pending_objections(work.db, notice.id)
        for item in queries.items_of_notice(work.db, notice):
            if rules.item_may("notice", item.status) and item.id not in pending:
                item.status, item.noticed_on = ITEM_NOTICED, as_of
        work.emit(events.NOTICE_CLOSED, payloads.notice_data(work, notice),
                  ("notice", notice.id), actor=SYSTEM_TICK)
        counts["notice_closed"] += 1


def _publish(work, year, quarter, as_of, counts):
    opens_on, closes_on = rules.notice_window(year, quarter, work.settings, work.calendar,
                                              opened_on=as_of)
    _, last = rules.quarter_bounds(year, quarter)
    noticed = queries.items_to_notice(work.db, last)
    if not noticed:
        return
    notice = Notice(year=year, quarter=quarter, opens_on=opens_on, closes_on=closes_on,
                    status="open", item_ids=[i.id for i in noticed])
    work.db.add(notice)
    work.db.flush()
    work.emit(events.NOTICE_PUBLISHED, payloads.notice_data(work, notice),
              ("notice", notice.id), actor=SYSTEM_TICK)
    counts["notice_published"] += 1
