"""Fan-out of one event by the notifications service: 10,000 recipients over the in-app
inbox, 1,000 over SMTP to a local server.

Run from the repository root::

    .venv/bin/python bench/notifications_fanout.py [--inbox 10000] [--smtp 1000]

The service runs as operators run it (``nameko run services.notifications.service``, its own
process, default concurrency) against the local RabbitMQ (a fresh vhost ``bench_<random>``,
deleted at the end) and PostgreSQL (``gonghui_bench_notifications``, dropped and re-created,
left behind), and a local SMTP server (``python -m aiosmtpd``, writing a Maildir). This
process only publishes the events (real envelopes, ``gonghui.events.build_envelope``) and
watches the database and the Maildir. See bench/NOTIFICATIONS.md for the method and figures.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script

import requests  # noqa: E402
import yaml  # noqa: E402
from kombu import Connection, Exchange  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from deploy import infra  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.amqp import ConfirmingPublisher  # noqa: E402
from gonghui.directory import DirectoryMember, DirectoryUnit  # noqa: E402
from gonghui.entrypoints import handler_queue_name  # noqa: E402
from gonghui.events import build_envelope  # noqa: E402
from gonghui.migrations import migrate  # noqa: E402
from services.deeds import events as deeds_events  # noqa: E402
from services.organization import events as org_events  # noqa: E402
from tests.support.servers import SmtpServer, free_port  # noqa: E402

PG = os.environ.get("GONGHUI_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DATABASE = f"{PG}/gonghui_bench_notifications"
TICK = Actor("system", "tick")
SECRETS_KEY = "bench-only-secrets-key-0123456789abcdef"  # it stores no secret here


def log(message):
    print(message, file=sys.stderr, flush=True)


def fresh_database():
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "gonghui_bench_notifications" WITH (FORCE)'))
    admin.dispose()
    migrate("notifications", DATABASE)


def fill_directory(engine, members):
    with engine.begin() as conn:
        conn.execute(insert(DirectoryUnit), [
            {"unit_id": 1, "name": "陕煤新型能源公司", "parent_id": None},
            {"unit_id": 2, "name": "神木光伏电站", "parent_id": 1}])
        conn.execute(insert(DirectoryMember), [
            {"member_id": i, "name": f"职工{i:05d}", "unit_id": 2,
             "email": f"w{i:05d}@xny.example.cn"} for i in range(1, members + 1)])


def vhost(prefix="bench", timeout=10):
    """A fresh vhost with the services' event exchanges (``timeout``: the management API's,
    generous when the broker is shared with test suites)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
    requests.put(f"{api}/vhosts/{name}", auth=auth, timeout=timeout).raise_for_status()
    requests.put(f"{api}/permissions/{name}/{auth[0]}", auth=auth, timeout=timeout,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    uri = f"amqp://{auth[0]}:{auth[1]}@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{name}"
    with Connection(uri) as conn:
        for service in ("organization", "deeds", "activities", "notifications"):
            Exchange(f"{service}.events", type="topic", durable=True)(conn.channel()).declare()
    return name, uri


def run_service(workdir, config):
    """``nameko run`` of the notifications service with ``config``, as operators run it."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("nameko")), "run", "--config",
         str(workdir / "config.yaml"), "services.notifications.service"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=open(workdir / "service.log", "wb"))


def tear_down(service, server, vhost_name, engine):
    """The service process, the local server it sent to, the vhost, the engine."""
    service.terminate()
    service.wait(timeout=30)
    server.stop()
    requests.delete(f"{infra.RABBIT_API}/vhosts/{vhost_name}", auth=infra.RABBIT_ADMIN,
                    timeout=60)
    engine.dispose()


def consuming(vhost_name, queue):
    answer = requests.get(f"{infra.RABBIT_API}/queues/{vhost_name}/{queue}",
                          auth=infra.RABBIT_ADMIN, timeout=5)
    return answer.ok and answer.json().get("consumers", 0) > 0


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def publish(uri, envelope):
    publisher = ConfirmingPublisher(uri)
    producer, _, name = envelope["type"].partition(".")
    publisher.publish(f"{producer}.events", name, envelope, {"message_id": envelope["id"]})
    publisher.close()


def count(engine, sql):
    with engine.connect() as conn:
        return conn.scalar(text(sql))


def wait(predicate, timeout, poll=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the fan-out did not finish in time")
        eventlet.sleep(poll)
    return time.monotonic()


def regulation(issued):
    return build_envelope(org_events.REGULATION_ISSUED, {
        "regulation_id": issued, "title": "2021年工会工作要点", "category": "work_points",
        "status": "issued", "issuing_unit_id": 1, "issuing_unit_name": "陕煤新型能源公司",
        "version": 1, "effective_on": date(2021, 3, 1), "change_summary": None}, TICK)


def overdue(recipients):
    return build_envelope(deeds_events.REPORT_OVERDUE, {
        "item_id": 7, "item_title": "倒班宿舍热水系统改造", "level": "grassroots",
        "focus_area": "livelihood", "batch": "warm_heart", "owner_unit_id": 2,
        "owner_unit_name": "神木光伏电站", "responsible_member_id": None,
        "responsible_member_name": None, "idea_id": None, "idea_submitter_member_id": None,
        "period": "2026-03", "due_on": date(2026, 3, 25), "as_of": date(2026, 3, 26),
        "recipient_member_ids": recipients}, TICK)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=int, default=10_000)
    parser.add_argument("--smtp", type=int, default=1_000)
    args = parser.parse_args(argv)
    infra.ensure_infrastructure()
    log("database ...")
    fresh_database()
    engine = create_engine(DATABASE)
    fill_directory(engine, max(args.inbox, args.smtp))
    vhost_name, uri = vhost()
    workdir = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    smtp = SmtpServer(workdir / "maildir").start()
    port = free_port()
    config = {"AMQP_URI": uri, "DATABASE_URL": DATABASE, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
              "SMTP_FROM": "noreply@xny.example.cn", "NOTIFY_BASE_URL": "https://gonghui.example.cn",
              "DISPATCH_POLL_SECONDS": 0.5, "SECRETS_KEY": SECRETS_KEY,
              "LOGGING": {"version": 1, "root": {"level": "WARNING"}}}
    service = run_service(workdir, config)
    report = {}
    try:
        queues = [handler_queue_name("organization", "regulation_issued", "notifications",
                                     "on_organization_regulation_issued"),
                  handler_queue_name("deeds", "report_overdue", "notifications",
                                     "on_deeds_report_overdue")]
        wait(lambda: all(consuming(vhost_name, q) for q in queues), 60, 0.2)
        rss_idle = memory_kib(service.pid, "VmRSS")
        log(f"service up (pid {service.pid}, {rss_idle / 1024:.0f} MiB); inbox fan-out ...")

        # 1. One announcement to every member under the company: inbox only.
        started = time.monotonic()
        publish(uri, regulation(1))
        rows_at = wait(lambda: count(engine, "SELECT count(*) FROM deliveries") >= args.inbox,
                       120)
        done_at = wait(lambda: count(engine, "SELECT count(*) FROM inbox_items") >= args.inbox,
                       120)
        relay_at = wait(lambda: count(engine, "SELECT count(*) FROM outbox "
                                              "WHERE published_at IS NULL") == 0, 300)
        report["inbox"] = {"n": args.inbox, "rows": rows_at - started,
                           "wall": done_at - started, "relay": relay_at - started,
                           "peak_kib": memory_kib(service.pid, "VmHWM")}
        log(f"inbox: {report['inbox']}; SMTP fan-out ...")

        # 2. One overdue report to N members: inbox and e-mail each.
        before = count(engine, "SELECT count(*) FROM inbox_items")
        started = time.monotonic()
        publish(uri, overdue(list(range(1, args.smtp + 1))))
        inbox_at = wait(lambda: count(engine, "SELECT count(*) FROM inbox_items")
                        >= before + args.smtp, 120)
        mail_at = wait(lambda: smtp.count() >= args.smtp, 600, 0.2)
        report["smtp"] = {"n": args.smtp, "inbox": inbox_at - started,
                          "wall": mail_at - started,
                          "peak_kib": memory_kib(service.pid, "VmHWM")}
        log(f"smtp: {report['smtp']}; replays ...")

        # 3. Both again in new envelopes (a replayed tick): nothing new is sent.
        deliveries = count(engine, "SELECT count(*) FROM deliveries")
        handled = count(engine, "SELECT count(*) FROM inbox")
        started = time.monotonic()
        publish(uri, regulation(1))
        publish(uri, overdue(list(range(1, args.smtp + 1))))
        replay_at = wait(lambda: count(engine, "SELECT count(*) FROM inbox") == handled + 2, 120)
        eventlet.sleep(1)
        report["replay"] = {"wall": replay_at - started,
                            "new_deliveries": count(engine, "SELECT count(*) FROM deliveries")
                            - deliveries, "emails": smtp.count()}
    finally:
        tear_down(service, smtp, vhost_name, engine)
    inbox, mail, replay = report["inbox"], report["smtp"], report["replay"]
    mib = 1024
    print(f"notifications fan-out ({os.cpu_count()} cores; service: nameko run, default config)")
    print(f"\n1. one organization.regulation_issued -> {inbox['n']:,} members, in-app inbox")
    print(f"   delivery rows committed (the consuming transaction): {inbox['rows']:.2f} s")
    print(f"   all inbox items written: {inbox['wall']:.2f} s "
          f"({inbox['n'] / inbox['wall']:,.0f} msg/s)")
    print(f"   all notifications.delivered events relayed: {inbox['relay']:.2f} s")
    print(f"   service peak RSS (VmHWM): {inbox['peak_kib'] / mib:.0f} MiB "
          f"(idle: {rss_idle / mib:.0f} MiB)")
    print(f"\n2. one deeds.report_overdue -> {mail['n']:,} members, inbox + e-mail")
    print(f"   all inbox items: {mail['inbox']:.2f} s")
    print(f"   all e-mails accepted by the SMTP server: {mail['wall']:.2f} s "
          f"({mail['n'] / mail['wall']:,.0f} msg/s)")
    print(f"   service peak RSS (VmHWM, whole run): {mail['peak_kib'] / mib:.0f} MiB")
    print(f"\n3. both again in new envelopes (a replayed tick): handled in "
          f"{replay['wall']:.2f} s, {replay['new_deliveries']} new deliveries, "
          f"{replay['emails']:,} e-mails at the server in all")


if __name__ == "__main__":
    main()
