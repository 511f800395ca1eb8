"""Queries of the deeds database that the day's work runs: the rules they apply come from
``rules`` (one definition, read by the Python checks and by the SQL alike)."""

from sqlalchemy import func, or_, select

from services.deeds import rules
from services.deeds.models import Item, ReminderSent, Report, SupervisionOrder

# How each comparison of ``rules.OWES_REPORT`` reads in SQL.
SQL_COMPARISONS = {
    "before": lambda column, bound: column < bound,
    "unset_or_not_after": lambda column, bound: or_(column.is_(None), column <= bound),
}


def owes_period_clause(period, due_on):
    """``rules.owes_period`` as a WHERE clause over ``Item``."""
    bounds = rules.period_bounds(period, due_on)
    return [SQL_COMPARISONS[how](getattr(Item, field), bounds[bound])
            for field, how, bound in rules.OWES_REPORT]


def items_owing(session, period, due_on, kind=None):
    """Leaf items not completed that owe a report for ``period``, have none, and (with
    ``kind``) were not yet reminded of that kind: the database does the filtering, so a tick
    on a day without reminders costs two small queries whatever the number of items."""
    parents = select(Item.parent_id).where(Item.parent_id.is_not(None))
    reported = select(Report.id).where(Report.item_id == Item.id,
                                       Report.period == period).exists()
    conditions = [Item.status.in_(rules.REPORTING_STATUSES), Item.id.not_in(parents),
                  *owes_period_clause(period, due_on), ~reported]
    if kind is not None:
        conditions.append(~select(ReminderSent.item_id).where(
            ReminderSent.item_id == Item.id, ReminderSent.period == period,
            ReminderSent.kind == kind).exists())
    return list(session.scalars(select(Item).where(*conditions).order_by(Item.id)))


def items_past_deadline(session, as_of):
    """``(item, cause, deadline)`` for items whose deadline passed before ``as_of`` and
    that have no supervision order for it yet: open items past their planned completion
    (``completion``), non-conforming ones past their new deadline (``rework``)."""
    found = []
    for cause, status, deadline in (("completion", "open", Item.planned_completion),
                                    ("rework", "non_conforming", Item.new_deadline)):
        ordered = select(SupervisionOrder.id).where(
            SupervisionOrder.item_id == Item.id, SupervisionOrder.cause == cause,
            SupervisionOrder.period == func.to_char(deadline, "YYYY-MM")).exists()
        found += [(item, cause, getattr(item, deadline.key)) for item in session.scalars(
            select(Item).where(Item.status == status, deadline < as_of, ~ordered)
            .order_by(Item.id))]
    return found
