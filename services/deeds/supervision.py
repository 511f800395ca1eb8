"""Supervision orders (督办单): issued for a missed report or deadline with a deadline in
working days, closed by the report, the completion or an accepted explanation
(``ORDER_FLOW``), else escalated up the union tree day by day until the top union, where
the order is parked (``at_top``) until the tree grows above it.

Orders name units (the supervising union's, the one escalated to) and the item's
responsible person, never officers: notifications resolves units into people.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.lookup`` (names and union chains),
``work.settings`` and ``work.calendar``.
"""

from sqlalchemy import update

from gonghui import directory
from gonghui.actor import SYSTEM_TICK
from gonghui.errors import get_or_not_found
from services.deeds import events, payloads, queries, rules
from services.deeds.models import Item, SupervisionOrder


def _deadline(work, as_of):
    return work.calendar.add_working_days(as_of, work.settings.supervision_working_days)


def issue_order(work, item, cause, period, missed_on, as_of):
    """An order for what the item missed, supervised by the nearest union above it."""
    chain = work.lookup.union_chain(item.owner_unit_id)
    supervising_unit = chain[0][0] if chain else item.owner_unit_id
    order = SupervisionOrder(
        item_id=item.id, period=period, cause=cause, supervising_unit_id=supervising_unit,
        reason=rules.order_reason(cause, period, missed_on), issued_on=as_of, status="open",
        escalation_level=0, deadline=_deadline(work, as_of))
    work.db.add(order)
    work.db.flush()
    # The supervising union's officers are named by unit (supervising_unit_id) and resolved
    # by notifications: who is told is decided there once.
    recipients = [item.responsible_member_id] if item.responsible_member_id else []
    work.emit(events.SUPERVISION_ISSUED, payloads.order_data(work, order, item, recipients),
              ("item", item.id), actor=SYSTEM_TICK)


def supervise_missed_deadlines(work, as_of, counts):
    """An item past its planned completion, or a non-conforming one past its new
    deadline, is overdue like a missed report: a supervision order on the same ladder."""
    for item, cause, deadline in queries.items_past_deadline(work.db, as_of):
        issue_order(work, item, cause, rules.period_of(deadline), deadline, as_of)
        counts["supervision_issued"] += 1


def escalate(work, as_of, counts):
    """Open orders past their deadline go one union up, with a new deadline; at the top
    union they are parked."""
    for order, item in queries.orders_to_escalate(work.db, as_of):
        chain = work.lookup.union_chain(item.owner_unit_id)
        level = order.escalation_level + 1
        if level >= len(chain):
            order.at_top = True  # no union above: it stays open at the top one
            continue
        order.escalation_level, order.escalated_to_unit_id = level, chain[level][0]
        order.deadline = _deadline(work, as_of)
        # escalated_to_unit_id names the union told; notifications resolves its officers
        work.emit(events.SUPERVISION_ESCALATED, payloads.order_data(work, order, item, []),
                  ("item", item.id), actor=SYSTEM_TICK)
        counts["supervision_escalated"] += 1


def close_order(work, order, closed_by, closed_on, explanation, actor=None):
    rules.check_order_step(order.status)
    order.status, order.closed_by = "closed", closed_by
    order.closed_on, order.explanation = closed_on, explanation
    item = work.db.get(Item, order.item_id)
    work.emit(events.SUPERVISION_CLOSED, payloads.order_data(work, order, item, []),
              ("item", item.id), actor=actor)


def close_supervision(work, order_id, explanation, closed_on):
    """Closed by an explanation the supervisor accepts."""
    order = get_or_not_found(work.db, SupervisionOrder, order_id, "order")
    close_order(work, order, "explanation", closed_on, explanation)
    return order


def list_supervision(work, status, owner_unit_id, unit_id, limit, offset):
    directory.unit(work.db, owner_unit_id, "owner_unit_id")
    directory.unit(work.db, unit_id)
    return queries.supervision_orders(work.db, status, owner_unit_id, unit_id, limit, offset)


def reopen_orders_at_top(session):
    """The tree grew above some unit (a move, a new union): orders parked at the top union
    are looked at again by the next tick, which escalates them if there is now a union above
    or parks them again."""
    session.execute(update(SupervisionOrder).where(
        SupervisionOrder.status == "open", SupervisionOrder.at_top.is_(True))
        .values(at_top=False))
