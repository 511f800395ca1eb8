"""The ledger (台账): every item with its reports, supervision orders and notice, filtered
and paged by the database; its Excel workbook laid out for printing (with a sheet each of
the reports, orders and objections); and the figures per unit and level.

Each use case takes ``work``, the worker's service instance, read through ``work.db`` and
``work.lookup`` only.
"""

import base64

from gonghui import directory
from services.deeds import documents, queries, rules
from services.deeds.models import Item, Report, SupervisionOrder


def rows(work, level=None, batch=None, focus_area=None, owner_unit_id=None, status=None,
         year=None, track=None, limit=None, offset=0, unit_id=None):
    """``unit_id``: only items owned in that unit's subtree."""
    directory.unit(work.db, owner_unit_id, "owner_unit_id")
    directory.unit(work.db, unit_id)
    lookup = work.lookup
    items = queries.ledger_items(work.db, level, batch, focus_area, owner_unit_id, status,
                                 year, track, limit, offset, unit_id)
    ids = [i.id for i in items]
    reports = queries.report_counts(work.db, ids)
    orders, open_orders = queries.order_counts(work.db, ids)
    latest = queries.latest_notices(work.db)

    def row(item):
        count, on_time, last = reports[item.id]
        return {
            **{c.name: getattr(item, c.name) for c in Item.__table__.columns},
            "track": rules.track(item.status, item.id in open_orders),
            "owner_unit_name": lookup.unit_name(item.owner_unit_id),
            "responsible_member_name": lookup.member_name(item.responsible_member_id),
            "reports": count, "reports_on_time": on_time, "last_report_period": last,
            "supervision_orders": orders[item.id], "open_supervision": item.id in open_orders,
            "notice_id": latest[item.id].id if item.id in latest else None}

    return items.map(row)


def export(work, level, batch, focus_area, owner_unit_id, status, year, details, unit_id=None):
    found = rows(work, level, batch, focus_area, owner_unit_id, status, year, unit_id=unit_id)
    reports, orders, objections = _details(work, found) if details else (None,) * 3
    content = documents.ledger_workbook(found, year, reports, orders, objections)
    return {"filename": f"实事台账{'-' + str(year) if year else ''}.xlsx", "rows": len(found),
            "content_base64": base64.b64encode(content).decode(),
            **{name: (len(sheet) if sheet is not None else None) for name, sheet in (
                ("reports", reports), ("supervision_orders", orders),
                ("objections", objections))}}


def _details(work, found):
    """The detail sheets' lines, each item's in the items sheet's order."""
    lookup = work.lookup
    items = {r["id"]: {"item_title": r["title"], "owner_unit_name": r["owner_unit_name"]}
             for r in found}
    ids = list(items)
    position = {item_id: n for n, item_id in enumerate(ids)}

    def columns(record, names):
        return {**items[record.item_id], **{n: getattr(record, n) for n in names}}

    def in_order(model):
        return sorted(queries.records_of_items(work.db, model, ids),
                      key=lambda r: (position[r.item_id], r.period))

    reports = [columns(r, ("period", "progress", "text", "attachment_ref", "submitted_on",
                           "due_on", "on_time")) for r in in_order(Report)]
    orders = [{**columns(o, ("period", "reason", "issued_on", "deadline", "escalation_level",
                             "status", "closed_on", "closed_by", "explanation")),
               "supervising_unit_name": lookup.unit_name(o.supervising_unit_id),
               "escalated_to_unit_name": (lookup.unit_name(o.escalated_to_unit_id)
                                          if o.escalated_to_unit_id else None)}
              for o in in_order(SupervisionOrder)]
    objections = [{**columns(o, ("reason", "raised_on", "status", "review_note")),
                   "year": year, "quarter": quarter,
                   "member_name": lookup.member_name(o.member_id)}
                  for o, year, quarter in queries.objections_of_items(work.db, ids)]
    return reports, orders, objections


def figures(work, level, year, unit_id=None):
    """Per unit and level (of ``unit_id``'s subtree): items per track and the on-time report
    rate."""
    table = {}
    for row in rows(work, level=level, year=year, unit_id=unit_id):
        key = (row["owner_unit_id"], row["level"])
        entry = table.setdefault(key, {
            "unit_id": row["owner_unit_id"], "unit_name": row["owner_unit_name"],
            "level": row["level"], "items": 0, "tracks": dict.fromkeys(rules.TRACKS, 0),
            "reports": 0, "reports_on_time": 0})
        entry["items"] += 1
        entry["tracks"][row["track"]] += 1
        entry["reports"] += row["reports"]
        entry["reports_on_time"] += row["reports_on_time"]
    for entry in table.values():
        entry["on_time_rate"] = round(entry["reports_on_time"] / entry["reports"], 4) \
            if entry["reports"] else 0.0
    return [table[k] for k in sorted(table)]
