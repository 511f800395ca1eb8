"""Retention of the kit's tables over the real database and broker: published outbox rows and
old inbox records are pruned in batches, unpublished rows and the audit trail never; one
replica prunes at a time; a running service prunes on its own."""

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, insert, select

from gonghui.outbox import PRUNE_LOCK_KEY, prune
from gonghui.tables import audit_log, inbox, outbox
from services.organization.service import OrganizationService

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def outbox_row(ago, created_days, published_days):
    event_id = uuid.uuid4()
    # a type no test subscribes to: the relay publishes the unpublished one on start
    return {"event_id": event_id, "event_type": "organization.prune_test",
            "aggregate_type": "unit", "aggregate_id": "1",
            "envelope": {"id": str(event_id)}, "created_at": ago(created_days),
            "published_at": None if published_days is None else ago(published_days)}


def fill(url, now=NOW):
    """Rows dated back from ``now``; ``None`` dates them from the database's clock, the one a
    running service prunes by."""
    engine = create_engine(url)
    with engine.begin() as conn:
        now = now or conn.scalar(select(func.now()))

        def ago(days):
            return now - timedelta(days=days)
        conn.execute(insert(outbox), [outbox_row(ago, 10, 10) for _ in range(5)]  # old, published
                     + [outbox_row(ago, 30, None)]  # old, never published: kept
                     + [outbox_row(ago, 1, 1) for _ in range(2)])  # recent: kept
        conn.execute(insert(inbox), [
            {"event_id": uuid.uuid4(), "handler": "h", "event_type": "organization.x",
             "processed_at": ago(days)} for days in (40, 40, 40, 2)])
        conn.execute(insert(audit_log).values(
            actor_kind="system", actor_id="test", action="old", entity_type="unit",
            entity_id="1", changes={}, occurred_at=ago(400)))
    return engine


def remaining(engine):
    with engine.connect() as conn:
        published = conn.execute(select(outbox.c.published_at)).scalars().all()
        return {"outbox": sorted(p is not None for p in published),
                "inbox": conn.scalar(select(func.count()).select_from(inbox)),
                "audit": conn.scalar(select(func.count()).select_from(audit_log))}


def test_prune_deletes_only_what_is_past_retention_in_batches(databases):
    engine = fill(databases["organization"])
    assert prune(engine, 7, 30, now=NOW, batch_size=2) == {"outbox": 5, "inbox": 3}
    assert remaining(engine) == {"outbox": [False, True, True], "inbox": 1, "audit": 1}
    assert prune(engine, 7, 30, now=NOW, batch_size=2) == {"outbox": 0, "inbox": 0}
    # 0 keeps a table for ever
    assert prune(engine, 0, 0, now=NOW + timedelta(days=365)) == {"outbox": 0, "inbox": 0}
    engine.dispose()


def test_one_replica_prunes_at_a_time(databases):
    engine = fill(databases["organization"])
    with engine.begin() as other:
        other.scalar(select(func.pg_advisory_xact_lock(PRUNE_LOCK_KEY)))
        assert prune(engine, 7, 30, now=NOW) == {"outbox": 0, "inbox": 0}
    assert prune(engine, 7, 30, now=NOW) == {"outbox": 5, "inbox": 3}
    engine.dispose()


def test_a_running_service_prunes_and_keeps_publishing(start_service, rpc, subscribe,
                                                       databases):
    engine = fill(databases["organization"], now=None)
    sub = subscribe("organization.events", "unit_created")
    start_service(OrganizationService, OUTBOX_RETENTION_DAYS=7, INBOX_RETENTION_DAYS=30,
                  PRUNE_INTERVAL_SECONDS=0.2)
    deadline = time.monotonic() + 20
    while (len(remaining(engine)["outbox"]), remaining(engine)["inbox"]) != (3, 1):
        assert time.monotonic() < deadline, f"not pruned: {remaining(engine)}"
        time.sleep(0.1)
    with rpc() as proxy:
        unit = proxy.organization.create_unit(code="P1", name="公司", kind="company")
    events = sub.collect(1)
    assert events[0]["body"]["data"]["unit_id"] == unit["id"]
    # the row never published before is published now, and kept for its retention
    assert remaining(engine)["outbox"].count(False) == 0
    engine.dispose()
