"""How long the kit's retention takes: ``gonghui.outbox.prune`` over a year's outbox.

    .venv/bin/python bench/prune.py [--rows 141698] [--batch 5000]

Method: a scratch database (``gonghui_bench_prune``, dropped and re-created, migrated like
organization's) gets ``--rows`` outbox rows with ~1 KB envelopes (the deeds year wrote
141,698), all published, spread over the last 365 days, and as many inbox records. Then one
``prune(engine, 7, 30)`` call: its wall time, rows deleted, rows per second, and the longest
single batch transaction (what a concurrent writer could wait behind: the tables are not
locked, only the rows of one batch). The database is dropped at the end.
"""

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from deploy import infra
from gonghui.migrations import migrate
from gonghui.outbox import prune
from gonghui.tables import inbox, outbox

DATABASE = "gonghui_bench_prune"


def fill(engine, rows):
    now = datetime.now(UTC)
    payload = {"text": "月度进展：按计划推进" * 30}
    with engine.begin() as conn:
        for start in range(0, rows, 10000):
            batch = []
            for k in range(start, min(rows, start + 10000)):
                at = now - timedelta(days=365 * (rows - k) / rows)
                event_id = uuid.uuid4()
                batch.append({"event_id": event_id, "event_type": "deeds.report_due",
                              "aggregate_type": "item", "aggregate_id": str(k),
                              "envelope": {"id": str(event_id), "data": payload},
                              "created_at": at, "published_at": at})
            conn.execute(insert(outbox), batch)
            conn.execute(insert(inbox), [{"event_id": b["event_id"], "handler": "bench",
                                          "event_type": b["event_type"],
                                          "processed_at": b["published_at"]} for b in batch])
        conn.execute(text("ANALYZE outbox; ANALYZE inbox"))
    return now


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=141698)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    infra.ensure_postgres()
    url = make_url(infra.PG_ADMIN_URL).set(database=DATABASE).render_as_string(
        hide_password=False)
    admin = create_engine(infra.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    migrate("organization", url)
    engine = create_engine(url)
    try:
        t0 = time.perf_counter()
        fill(engine, args.rows)
        filled = time.perf_counter() - t0
        with engine.connect() as conn:
            size0 = conn.scalar(text("SELECT pg_total_relation_size('outbox')"))
        transactions, started = [], {}

        @event.listens_for(engine, "begin")
        def begun(conn):
            started[id(conn)] = time.perf_counter()

        @event.listens_for(engine, "commit")
        def committed(conn):
            transactions.append(time.perf_counter() - started.pop(id(conn)))

        t0 = time.perf_counter()
        deleted = prune(engine, 7, 30, batch_size=args.batch)
        seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            left = {t.name: conn.scalar(select(func.count()).select_from(t))
                    for t in (outbox, inbox)}
        print(f"prune bench: {args.rows} outbox rows (~1 KB envelopes, outbox "
              f"{size0 / 2**20:.0f} MB) and {args.rows} inbox records over 365 days; "
              f"filled in {filled:.1f} s")
        print(f"prune(engine, outbox 7 days, inbox 30 days, batch {args.batch}): "
              f"{seconds:.2f} s; deleted {deleted}; left {left}")
        total = deleted["outbox"] + deleted["inbox"]
        print(f"  {total / seconds:,.0f} rows/s; {len(transactions)} transactions, "
              f"median {statistics.median(transactions) * 1000:.0f} ms, "
              f"longest {max(transactions) * 1000:.0f} ms")
        print("method: see the docstring of bench/prune.py")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
