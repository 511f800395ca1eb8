"""The day's work of deeds (``tick(as_of)``), idempotent, in one transaction: report
reminders before the due day and overdue reports with their supervision orders, orders for
missed deadlines, escalations up the tree, opening and closing the quarterly public notice,
and the quarterly evaluation. Each step is its sub-domain's; this module only orders them.
"""

from collections import Counter

from gonghui.daily import begin_day
from services.deeds import evaluation, items, notices, supervision

COUNTED = ("report_due", "report_overdue", "supervision_issued", "supervision_escalated",
           "notice_published", "notice_closed", "evaluation_published")


def run_day(work, as_of):
    """``work``: the worker's service instance (its ``db``, ``emit``, ``lookup``,
    ``settings``, ``calendar`` and ``tick_name``)."""
    begin_day(work.db, work.tick_name, as_of)
    counts = Counter()
    items.remind_reports(work, as_of, counts)
    supervision.supervise_missed_deadlines(work, as_of, counts)
    supervision.escalate(work, as_of, counts)
    notices.publish_and_close(work, as_of, counts)
    evaluation.publish(work, as_of, counts)
    return {"as_of": as_of, **{key: counts[key] for key in COUNTED}}
