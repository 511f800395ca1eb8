"""The outbox relay: publishes committed events to ``<service>.events`` with confirms.

One relay publishes at a time per database (a transaction-scoped advisory lock), so events
leave in commit order and two replicas never publish the same row; rows are locked
``FOR UPDATE SKIP LOCKED`` as well and marked published only after the broker confirmed them.
A crash before the mark means the batch is published again: consumers ignore repeats.

The relay also keeps the kit's tables bounded (``prune``): published outbox rows are
deleted after ``OUTBOX_RETENTION_DAYS`` and inbox records after ``INBOX_RETENTION_DAYS``.
The audit trail is the permanent record and is never pruned.
"""

import logging
import zlib
from datetime import timedelta

from nameko.extensions import SharedExtension
from sqlalchemy import delete, func, select, tuple_, update

from gonghui.amqp import ConfirmingPublisher, PublishFailed
from gonghui.background import BackgroundLoop
from gonghui.tables import inbox, outbox

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = zlib.crc32(b"gonghui.outbox.relay")
PRUNE_LOCK_KEY = zlib.crc32(b"gonghui.outbox.prune")


def relay_once(engine, publisher, batch_size=200):
    """Publish one batch; returns how many rows were published (0: nothing or locked)."""
    with engine.begin() as conn:
        if not conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY))):
            return 0
        rows = conn.execute(
            select(outbox.c.id, outbox.c.event_type, outbox.c.envelope)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        messages = []
        for row in rows:
            producer, _, name = row.event_type.partition(".")
            messages.append((f"{producer}.events", name, row.envelope, {
                "message_id": row.envelope["id"], "type": row.event_type}))
        publisher.publish_batch(messages)
        conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                     .values(published_at=func.now()))
        return len(rows)


def prune(engine, outbox_days, inbox_days, now=None, batch_size=5000):
    """Delete outbox rows published more than ``outbox_days`` ago and inbox records of events
    handled more than ``inbox_days`` ago, in batches of short transactions; a row not yet
    published is never deleted. ``None`` or 0 keeps that table for ever. One replica prunes
    at a time. Returns ``{"outbox": n, "inbox": n}``.

    The inbox must outlive any redelivery of an event (broker redelivery, retries, a
    dead-lettered message moved back by an operator): that is why it is kept in days.

    Ages are measured on the database's clock (``now()``), the clock that stamped the rows, so
    a service host whose clock is off cannot prune what is still recent; ``now`` (tests,
    tools) fixes the instant instead."""
    now = func.now() if now is None else now
    deleted = {"outbox": 0, "inbox": 0}
    targets = []
    if outbox_days:
        cutoff = now - timedelta(days=float(outbox_days))  # SQL when now is now()
        # oldest first along the primary key: the scan stops at the batch size
        targets.append(("outbox", delete(outbox).where(outbox.c.id.in_(
            select(outbox.c.id).where(outbox.c.published_at < cutoff)
            .order_by(outbox.c.id).limit(batch_size).scalar_subquery()))))
    if inbox_days:
        cutoff_inbox = now - timedelta(days=float(inbox_days))
        targets.append(("inbox", delete(inbox).where(
            tuple_(inbox.c.event_id, inbox.c.handler).in_(
                select(inbox.c.event_id, inbox.c.handler)
                .where(inbox.c.processed_at < cutoff_inbox).limit(batch_size)))))
    for name, statement in targets:
        while True:
            with engine.begin() as conn:
                if not conn.scalar(select(func.pg_try_advisory_xact_lock(PRUNE_LOCK_KEY))):
                    return deleted  # another replica is pruning
                count = conn.execute(statement).rowcount
            deleted[name] += count
            if count < batch_size:
                break
    return deleted


def outbox_backlog(conn):
    """(unpublished rows, age in seconds of the oldest) for health checks, on the database's
    clock that stamped the rows."""
    count, age = conn.execute(
        select(func.count(),
               func.coalesce(func.extract("epoch", func.now() - func.min(outbox.c.created_at)), 0))
        .where(outbox.c.published_at.is_(None))
    ).one()
    return count, float(age)


class OutboxRelay(SharedExtension):
    """Runs in every service process; polls, and is woken at once after a commit that wrote
    events. Publishing and pruning are two background loops (:mod:`gonghui.background`):
    a long prune never delays an event, and either backs off while the database or the
    broker is away."""

    def setup(self):
        config = self.container.config
        self.enabled = config.get("OUTBOX_RELAY", True) not in (False, "false", "0", 0)
        self.poll_interval = float(config.get("OUTBOX_POLL_SECONDS", 1.0))
        self.outbox_retention_days = float(config.get("OUTBOX_RETENTION_DAYS", 7) or 0)
        self.inbox_retention_days = float(config.get("INBOX_RETENTION_DAYS", 30) or 0)
        self.prune_interval = float(config.get("PRUNE_INTERVAL_SECONDS", 3600))
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        self.publishing = BackgroundLoop(
            "outbox relay", lambda: relay_once(self.engine, self.publisher),
            idle=self.poll_interval, expected=(PublishFailed,))
        # A failed prune is tried again at the next interval.
        self.pruning = BackgroundLoop("pruning the outbox and inbox", self._prune,
                                      idle=self.prune_interval, base=self.prune_interval,
                                      cap=self.prune_interval)

    engine = None  # set by the Database that owns this relay (setup order is not fixed)

    def attach(self, engine):
        self.engine = engine

    def start(self):
        if self.enabled and self.engine is not None:
            self.container.spawn_managed_thread(self.publishing.run, identifier="outbox_relay")
            if self.outbox_retention_days or self.inbox_retention_days:
                self.container.spawn_managed_thread(self.pruning.run,
                                                    identifier="outbox_prune")

    def wake(self):
        self.publishing.wake()

    def _prune(self):
        deleted = prune(self.engine, self.outbox_retention_days, self.inbox_retention_days)
        if any(deleted.values()):
            log.info("pruned %(outbox)d published outbox rows and %(inbox)d inbox records",
                     deleted)
        return False  # however much it deleted: the next prune is an interval away

    def stop(self):
        self.publishing.stop()
        self.pruning.stop()
        self.publisher.close()

    def kill(self):
        self.stop()
