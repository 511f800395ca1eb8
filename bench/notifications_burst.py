"""A burst of notices to one unit's group robot: N deeds.report_overdue events (N items of
one unit overdue at once) to its WeCom robot, at the robot's real rate (20 a minute) with
merging, beside the unthrottled baseline in the same run.

Run from the repository root::

    .venv/bin/python bench/notifications_burst.py [--sizes 100 1000] [--rate 20]

The service runs as operators run it (``nameko run services.notifications.service``, its own
process) against the local RabbitMQ (a fresh vhost, deleted at the end) and PostgreSQL
(``gonghui_bench_notifications_burst``, re-created for each case, left behind). The robot is
the tests' fake WeCom robot (``tests/support/servers.py``) in this process, refusing what
arrives above 20 a minute (errcode 45009) in the throttled cases, counting only in the
baseline. This process publishes the events and watches the database and the robot. See
bench/NOTIFICATIONS.md for the method and figures.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.notifications_fanout import (  # noqa: E402
    SECRETS_KEY,
    consuming,
    count,
    log,
    run_service,
    tear_down,
    vhost,
    wait,
)
from deploy import infra  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.amqp import ConfirmingPublisher  # noqa: E402
from gonghui.directory import DirectoryUnit  # noqa: E402
from gonghui.entrypoints import handler_queue_name  # noqa: E402
from gonghui.events import build_envelope  # noqa: E402
from gonghui.migrations import migrate  # noqa: E402
from services.deeds import events as deeds_events  # noqa: E402
from services.notifications import sealing  # noqa: E402
from services.notifications.models import UnitRobot  # noqa: E402
from tests.support.servers import RobotServer, free_port  # noqa: E402

PG = os.environ.get("GONGHUI_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
NAME = "gonghui_bench_notifications_burst"
DATABASE = f"{PG}/{NAME}"
TICK = Actor("system", "tick")
UNIT = 2
UNLIMITED = 1_000_000  # the baseline's rate: no throttling in practice


def fresh_database():
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    admin.dispose()
    migrate("notifications", DATABASE)


def overdue(item_id):
    return build_envelope(deeds_events.REPORT_OVERDUE, {
        "item_id": item_id, "item_title": f"倒班宿舍热水系统改造第{item_id:04d}项",
        "level": "grassroots", "focus_area": "livelihood", "batch": "warm_heart",
        "owner_unit_id": UNIT, "owner_unit_name": "神木光伏电站",
        "responsible_member_id": None, "responsible_member_name": "陈责任",
        "idea_id": None, "idea_submitter_member_id": None, "period": "2026-03",
        "due_on": date(2026, 3, 25), "as_of": date(2026, 3, 26),
        "recipient_member_ids": []}, TICK)


def window_peak(arrivals, window=60.0):
    """The most messages that arrived within any ``window`` seconds."""
    return max((sum(1 for b in arrivals[i:] if b < a + window) for i, a in enumerate(arrivals)),
               default=0)


def run_case(notices, rate, robot_limit):
    """One burst of ``notices`` events; the service's WeCom rate ``rate`` a minute, the
    robot refusing above ``robot_limit`` a minute (None: it counts only)."""
    fresh_database()
    engine = create_engine(DATABASE)
    with engine.begin() as conn:
        conn.execute(insert(DirectoryUnit), [
            {"unit_id": 1, "name": "陕煤新型能源公司", "parent_id": None},
            {"unit_id": UNIT, "name": "神木光伏电站", "parent_id": 1}])
    robots = RobotServer().start()
    if robot_limit:
        robots.limit_rate("wecom:bench", robot_limit, 60.0)
    with Session(engine) as session, session.begin():
        session.add(UnitRobot(unit_id=UNIT, kind="wecom", name="电站工会群",
                              webhook_url=robots.wecom_url("bench")))
    vhost_name, uri = vhost("bench_burst", timeout=120)
    workdir = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    config = {"AMQP_URI": uri, "DATABASE_URL": DATABASE,
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}", "SECRETS_KEY": SECRETS_KEY,
              "NOTIFY_BASE_URL": "https://gonghui.example.cn", "DISPATCH_POLL_SECONDS": 0.5,
              "NOTIFY_WECOM_RATE": rate, "NOTIFY_RATE_WINDOW_SECONDS": 60,
              "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}
    service = run_service(workdir, config)
    try:
        queue = handler_queue_name("deeds", "report_overdue", "notifications",
                                   "on_deeds_report_overdue")
        wait(lambda: consuming(vhost_name, queue), 60, 0.2)
        # The burst is the robot's alone: the personal rule of the same event is off.
        with engine.begin() as conn:
            conn.execute(text("UPDATE rules SET enabled = false WHERE key = 'report_overdue'"))
        envelopes = [overdue(n) for n in range(1, notices + 1)]
        publisher = ConfirmingPublisher(uri)
        started = time.monotonic()
        publisher.publish_batch([("deeds.events", "report_overdue", e, {"message_id": e["id"]})
                                 for e in envelopes])
        publisher.close()
        rows_at = wait(lambda: count(engine, "SELECT count(*) FROM deliveries") >= notices,
                       300)
        drained_at = wait(lambda: count(engine, "SELECT count(*) FROM deliveries "
                                                "WHERE status = 'sent'") >= notices, 3600, 0.2)
        messages = robots.received["wecom:bench"]
        sizes = [len(m["markdown"]["content"].encode()) for m in messages]
        return {"notices": notices, "rate": rate, "rows": rows_at - started,
                "drain": drained_at - started, "messages": len(messages),
                "carried": count(engine, "SELECT count(DISTINCT id) FROM deliveries "
                                         "WHERE status = 'sent' AND message_id IS NOT NULL"),
                "largest": max(sizes), "refused": len(robots.refused),
                "peak_minute": window_peak(robots.arrived["wecom:bench"]),
                "waited": count(engine, "SELECT count(*) FROM deliveries "
                                        "WHERE held_reason LIKE 'rate_limit:%'")}
    finally:
        tear_down(service, robots, vhost_name, engine)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rate", type=int, default=20, help="the robot's messages a minute")
    args = parser.parse_args(argv)
    infra.ensure_infrastructure()
    sealing.configure(SECRETS_KEY)
    results = []
    for notices in args.sizes:
        for label, rate, limit in (("unthrottled baseline", UNLIMITED, None),
                                   (f"{args.rate}/min, merged", args.rate, args.rate)):
            log(f"{notices} notices, {label} ...")
            results.append((label, run_case(notices, rate, limit)))
            log(f"  {results[-1][1]}")
    print(f"notifications burst to one WeCom robot ({os.cpu_count()} cores; service: "
          "nameko run, one process)")
    print(f"{'case':<24}{'notices':>8}{'messages':>10}{'carried':>9}{'largest B':>10}"
          f"{'waited':>8}{'rows s':>8}{'drain s':>9}{'peak/min':>9}{'refused':>8}")
    for label, r in results:
        print(f"{label:<24}{r['notices']:>8}{r['messages']:>10}{r['carried']:>9}"
              f"{r['largest']:>10}{r['waited']:>8}{r['rows']:>8.1f}{r['drain']:>9.1f}"
              f"{r['peak_minute']:>9}{r['refused']:>8}")


if __name__ == "__main__":
    main()
