"""The delivery log as operators see it (one row per notice, channel and recipient, with
every attempt), replaying a dead delivery, and sending what is due now (``tick``,
``dispatch_due``: the dispatcher does it on its own all the time).

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate)`` and ``work.dispatcher`` (``written()``: wake the senders after the
commit; ``run_due(until)``).
"""

from datetime import UTC, datetime, time, timedelta

from gonghui.clock import CHINA
from gonghui.errors import get_or_not_found
from services.notifications import events, queries, rules
from services.notifications.dispatcher import delivery_data
from services.notifications.models import Delivery, WebhookSubscription


def delivery_out(work, delivery, with_attempts=False):
    out = {c.name: getattr(delivery, c.name) for c in Delivery.__table__.columns}
    out["attempt_log"] = queries.attempts(work.db, delivery.id) if with_attempts else []
    return out


def list_deliveries(work, status, channel, member_id, event_id, limit, offset):
    return queries.deliveries(work.db, limit, offset, status=status, channel=channel,
                              member_id=member_id, event_id=event_id).map(
        lambda delivery: delivery_out(work, delivery))


def get_delivery(work, delivery_id):
    delivery = get_or_not_found(work.db, Delivery, delivery_id, "delivery")
    return delivery_out(work, delivery, with_attempts=True)


def list_dead(work, limit, offset):
    return queries.deliveries(work.db, limit, offset, status="dead").map(
        lambda delivery: delivery_out(work, delivery, with_attempts=True))


def replay(work, delivery_id):
    """Back to pending with a fresh count of attempts (``rules.check_replay``)."""
    delivery = get_or_not_found(work.db, Delivery, delivery_id, "delivery")
    work.db.refresh(delivery, with_for_update=True)  # one replay of a delivery at a time
    sub = (work.db.get(WebhookSubscription, int(delivery.target))
           if delivery.channel == "webhook" else None)
    rules.check_replay(delivery_id, delivery.status, sub is None or sub.enabled)
    now = datetime.now(UTC)
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, now
    work.db.flush()
    work.emit(events.DELIVERY_REPLAYED,
              delivery_data(delivery, "pending", 0, now, delivery.last_error),
              ("delivery", delivery.id))
    work.dispatcher.written()
    return delivery_out(work, delivery, with_attempts=True)


def send_due_by_end_of(work, as_of):
    """Everything due by the end of the China day ``as_of``, never later than now."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=CHINA)
    until = min(datetime.now(UTC), end_of_day)
    return {"as_of": as_of, "handled": work.dispatcher.run_due(until)}


def send_due(work, until):
    return {"handled": work.dispatcher.run_due(until or datetime.now(UTC))}
