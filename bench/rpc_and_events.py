"""Our stack (nameko RPC, the outbox relay) against raw kombu, side by side on one broker.

Run from the repository root::

    .venv/bin/python bench/rpc_and_events.py [--calls N] [--events N] [--warmup N] [--live N]

Everything runs in this one process (services in nameko ServiceContainers, clients and
subscribers in greenthreads), against the local RabbitMQ and PostgreSQL, in a fresh vhost
``bench_<random>`` (deleted at the end) and the database ``gonghui_bench_organization``
(dropped and re-created at the start, left behind). See bench/README.md for what each
figure measures.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket/threading: nameko needs it

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import requests  # noqa: E402
from eventlet.queue import LightQueue  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from deploy import infra  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.amqp import ConfirmingPublisher  # noqa: E402
from gonghui.entrypoints import rpc  # noqa: E402
from gonghui.migrations import migrate  # noqa: E402
from gonghui.rpc_client import cluster_rpc  # noqa: E402
from gonghui.service import ServiceBase  # noqa: E402
from gonghui.tables import outbox  # noqa: E402
from services.organization.service import OrganizationService  # noqa: E402
from tests.support.subscriber import PlainSubscriber, drain_forever  # noqa: E402

BENCH_DB = "gonghui_bench_organization"
ACTOR = Actor("operator", "bench")
ORG_EXCHANGE = "organization.events"
RAW_EXCHANGE = "benchraw.events"
RPC_TIMEOUT = 30
COMMIT_WINDOW = 10  # in-flight add_member calls while filling the outbox (= max_workers)
PUBLISH_BATCH = 200  # ConfirmingPublisher batch, as the outbox relay's


class BenchService(ServiceBase):
    name = "benchsvc"

    @rpc()
    def noop(self):
        return None


# ------------------------------------------------------------------ helpers


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def latency_figures(latencies, elapsed):
    return {"rate": len(latencies) / elapsed, "p50": percentile(latencies, 50) * 1000,
            "p99": percentile(latencies, 99) * 1000}


class Subscriber(PlainSubscriber):
    """A plain AMQP consumer, as a downstream system binds one; every arrival is stamped
    with ``time.perf_counter()`` in the callback."""

    queue_prefix = "bench.sub"

    def __init__(self, amqp_uri, exchange, routing_key="#"):
        self.arrivals = LightQueue()
        super().__init__(amqp_uri, exchange, routing_key)

    def on_message(self, body, message):
        self.arrivals.put((time.perf_counter(), body))

    def wait_unique(self, count, timeout):
        """Stamps of the first arrival of ``count`` distinct envelope ids, in arrival order."""
        seen, stamps = set(), []
        deadline = time.monotonic() + timeout
        while len(seen) < count:
            stamp, body = self.arrivals.get(timeout=max(0.01, deadline - time.monotonic()))
            if body["id"] not in seen:
                seen.add(body["id"])
                stamps.append(stamp)
        return stamps


class Bench:
    def __init__(self, args):
        self.args = args
        self.vhost = f"bench_{uuid.uuid4().hex[:10]}"
        self.amqp_uri = None
        self.db_url = make_url(infra.PG_ADMIN_URL).set(database=BENCH_DB)
        self.db_url = self.db_url.render_as_string(hide_password=False)
        self.containers = []
        self.closers = []
        self.results = {}
        self.notes = {}

    # -------------------------------------------------------------- setup / teardown

    def setup(self):
        infra.ensure_infrastructure()
        api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
        requests.put(f"{api}/vhosts/{self.vhost}", auth=auth, timeout=10).raise_for_status()
        requests.put(f"{api}/permissions/{self.vhost}/{auth[0]}", auth=auth, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        self.amqp_uri = (f"amqp://{auth[0]}:{auth[1]}@{infra.RABBIT_HOST}:"
                         f"{infra.RABBIT_PORT}/{self.vhost}")
        with Connection(self.amqp_uri) as conn:
            channel = conn.channel()
            for name in (ORG_EXCHANGE, RAW_EXCHANGE):
                Exchange(name, type="topic", durable=True)(channel).declare()
        admin = create_engine(infra.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        admin.dispose()
        migrate("organization", self.db_url)
        self.engine = create_engine(self.db_url)

    def teardown(self):
        for container in self.containers:
            try:
                container.kill()
            except Exception:  # noqa: BLE001 - already stopped
                pass
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # noqa: BLE001
                pass
        if self.amqp_uri is not None:
            api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
            requests.delete(f"{api}/vhosts/{self.vhost}", auth=auth, timeout=30)
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()

    def start(self, service_cls, **overrides):
        config = {"AMQP_URI": self.amqp_uri, "DATABASE_URL": self.db_url,
                  "WEB_SERVER_ADDRESS": "127.0.0.1:0", "max_workers": 10,
                  "RPC_TIMEOUT": 10, **overrides}
        container = ServiceContainer(service_cls, config)
        self.containers.append(container)
        container.start()
        return container

    def stop(self, container):
        container.stop()
        self.containers.remove(container)

    def subscribe(self, exchange):
        sub = Subscriber(self.amqp_uri, exchange)
        self.closers.append(sub.close)
        return sub

    def backlog(self):
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(outbox)
                               .where(outbox.c.published_at.is_(None)))

    def wait_backlog_empty(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.backlog():
            if time.monotonic() > deadline:
                raise RuntimeError("the outbox relay did not drain the outbox")
            eventlet.sleep(0.05)

    # -------------------------------------------------------------- 1. nameko no-op RPC

    def nameko_noop(self):
        container = self.start(BenchService, OUTBOX_RELAY=False)
        n, warmup = self.args.calls, self.args.warmup
        latencies = []
        with cluster_rpc(self.amqp_uri, actor=ACTOR, timeout=RPC_TIMEOUT) as proxy:
            for _ in range(warmup):
                proxy.benchsvc.noop()
            started = time.perf_counter()
            for _ in range(n):
                t0 = time.perf_counter()
                proxy.benchsvc.noop()
                latencies.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
        self.stop(container)
        self.results["noop"] = latency_figures(latencies, elapsed)

    # -------------------------------------------------------------- 2. raw request/reply

    def raw_request_reply(self, confirms):
        """A kombu server greenthread answering on the default exchange to ``reply_to``; one
        client waiting on its exclusive reply queue. ``confirms``: as nameko publishes
        (publisher confirms, persistent messages, durable request queue)."""
        n, warmup = self.args.calls, self.args.warmup
        options = {"confirm_publish": True} if confirms else {}
        delivery_mode = 2 if confirms else 1
        request_queue = Queue(f"bench.rr-{uuid.uuid4().hex[:8]}", durable=confirms,
                              auto_delete=False)

        server_conn = Connection(self.amqp_uri)
        server_pub = Connection(self.amqp_uri, transport_options=options)
        client_conn = Connection(self.amqp_uri)
        client_pub = Connection(self.amqp_uri, transport_options=options)
        for conn in (server_conn, server_pub, client_conn, client_pub):
            self.closers.append(conn.release)
        server_producer = server_pub.Producer(serializer="json")
        served = [0]

        def on_request(body, message):
            server_producer.publish({"result": None, "error": None}, exchange="",
                                    routing_key=message.properties["reply_to"],
                                    correlation_id=message.properties["correlation_id"],
                                    delivery_mode=delivery_mode, retry=False)
            message.ack()
            served[0] += 1

        server_conn.Consumer([request_queue], callbacks=[on_request], accept=["json"]).consume()
        server = eventlet.spawn(drain_forever, server_conn)
        self.closers.append(server.kill)

        replies = {}
        reply_queue = Queue(f"bench.reply-{uuid.uuid4().hex[:8]}", exclusive=True,
                            auto_delete=True)

        def on_reply(body, message):
            replies[message.properties["correlation_id"]] = body
            message.ack()

        client_conn.Consumer([reply_queue], callbacks=[on_reply], accept=["json"]).consume()
        producer = client_pub.Producer(serializer="json")

        def call():
            correlation_id = uuid.uuid4().hex
            producer.publish({"args": [], "kwargs": {}}, exchange="",
                             routing_key=request_queue.name, reply_to=reply_queue.name,
                             correlation_id=correlation_id, delivery_mode=delivery_mode,
                             retry=False)
            while correlation_id not in replies:
                client_conn.drain_events(timeout=RPC_TIMEOUT)
            return replies.pop(correlation_id)

        for _ in range(warmup):
            call()
        latencies = []
        started = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        with eventlet.Timeout(5, False):  # the last reply's confirm may still be on its way
            while served[0] < warmup + n:
                eventlet.sleep(0.01)
        server.kill()
        for conn in (server_conn, server_pub, client_conn, client_pub):
            conn.release()
        self.results["raw_rr_confirm" if confirms else "raw_rr"] = latency_figures(
            latencies, elapsed)

    # -------------------------------------------------------------- 3. create_member

    def member(self, employee_no, unit_id, i):
        return {"employee_no": employee_no, "name": f"员工{i}",
                "gender": "female" if i % 2 else "male", "unit_id": unit_id,
                "joined_on": "2026-01-01"}

    def create_member_and_live(self):
        """add_member with the relay running (events routed to a durable sink queue), then
        the live path: reply of add_member to the subscriber's receipt of its event."""
        container = self.start(OrganizationService)
        n, warmup = self.args.calls, self.args.warmup
        with Connection(self.amqp_uri) as conn:
            sink = Queue("bench.sink", Exchange(ORG_EXCHANGE, type="topic", no_declare=True),
                         routing_key="#", durable=True)(conn.channel())
            sink.declare()
        with cluster_rpc(self.amqp_uri, actor=ACTOR, timeout=RPC_TIMEOUT) as proxy:
            org = proxy.organization
            self.unit_id = org.create_unit(code="B", name="bench", kind="company")["id"]
            for i in range(warmup):
                org.add_member(**self.member(f"W{i:06d}", self.unit_id, i))
            latencies = []
            started = time.perf_counter()
            for i in range(n):
                t0 = time.perf_counter()
                org.add_member(**self.member(f"C{i:06d}", self.unit_id, i))
                latencies.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
            self.results["create_member"] = latency_figures(latencies, elapsed)
            self.wait_backlog_empty()
            with Connection(self.amqp_uri) as conn:  # unbound, so 4a routes to one queue
                bound = sink(conn.channel())
                self.notes["sink"] = bound.purge()
                bound.delete()

            sub = self.subscribe(ORG_EXCHANGE)
            after_reply, after_call = [], []
            for i in range(self.args.live):
                employee_no = f"L{i:06d}"
                t0 = time.perf_counter()
                org.add_member(**self.member(employee_no, self.unit_id, i))
                t_reply = time.perf_counter()
                while True:
                    stamp, body = sub.arrivals.get(timeout=RPC_TIMEOUT)
                    if body["data"].get("employee_no") == employee_no:
                        break
                after_reply.append(stamp - t_reply)
                after_call.append(stamp - t0)
            self.results["live"] = {
                "rate": None, "p50": percentile(after_reply, 50) * 1000,
                "p99": percentile(after_reply, 99) * 1000}
            self.notes["live"] = {
                "call_p50": percentile(after_call, 50) * 1000,
                "call_p99": percentile(after_call, 99) * 1000,
                "before_reply": sum(1 for x in after_reply if x < 0)}
            sub.close()
        self.stop(container)

    # -------------------------------------------------------------- 4. outbox -> subscriber

    def outbox_throughput(self):
        n = self.args.events
        container = self.start(OrganizationService, OUTBOX_RELAY=False)
        started = time.perf_counter()
        with cluster_rpc(self.amqp_uri, actor=ACTOR, timeout=RPC_TIMEOUT) as proxy:
            add = proxy.organization.add_member
            for first in range(0, n, COMMIT_WINDOW):
                pending = [add.call_async(**self.member(f"E{i:06d}", self.unit_id, i))
                           for i in range(first, min(n, first + COMMIT_WINDOW))]
                for reply in pending:
                    reply.result()
        commit_elapsed = time.perf_counter() - started
        self.stop(container)
        backlog = self.backlog()
        if backlog != n:
            raise RuntimeError(f"expected {n} unpublished outbox rows, found {backlog}")

        sub = self.subscribe(ORG_EXCHANGE)
        t0 = time.perf_counter()
        container = self.start(OrganizationService)
        t_started = time.perf_counter()
        stamps = sub.wait_unique(n, timeout=120)
        self.results["outbox"] = {"rate": n / (stamps[-1] - t0), "p50": None, "p99": None}
        self.notes["outbox"] = {
            "commit_rate": n / commit_elapsed, "start_ms": (t_started - t0) * 1000,
            "first_ms": (stamps[0] - t0) * 1000,
            "steady": (n - 1) / (stamps[-1] - stamps[0]) if n > 1 else float("nan")}
        self.wait_backlog_empty()
        sub.close()
        self.stop(container)

    # -------------------------------------------------------------- 5. raw publish -> consume

    def sample_envelope(self):
        with self.engine.connect() as conn:
            return conn.scalar(select(outbox.c.envelope).order_by(outbox.c.id.desc()).limit(1))

    def raw_publish_consume(self, batched):
        n = self.args.events
        template = self.sample_envelope()
        bodies = [{**template, "id": str(uuid.uuid4())} for _ in range(n)]
        sub = self.subscribe(RAW_EXCHANGE)
        if batched:
            publisher = ConfirmingPublisher(self.amqp_uri)
            self.closers.append(publisher.close)
            publisher.publish_batch([])  # connect before timing, like the relay's first batch
            messages = [(RAW_EXCHANGE, "member_joined", body,
                         {"message_id": body["id"], "type": body["type"]}) for body in bodies]
            t0 = time.perf_counter()
            for first in range(0, n, PUBLISH_BATCH):
                publisher.publish_batch(messages[first:first + PUBLISH_BATCH])
        else:
            conn = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            self.closers.append(conn.release)
            producer = conn.Producer(serializer="json")
            conn.default_channel  # noqa: B018 - connect before timing
            t0 = time.perf_counter()
            for body in bodies:
                producer.publish(body, exchange=RAW_EXCHANGE, routing_key="member_joined",
                                 delivery_mode=2, message_id=body["id"], type=body["type"],
                                 retry=False)
        t_published = time.perf_counter()
        stamps = sub.wait_unique(n, timeout=120)
        key = "raw_batch" if batched else "raw_confirm"
        self.results[key] = {"rate": n / (stamps[-1] - t0), "p50": None, "p99": None}
        self.notes[key] = {"publish_rate": n / (t_published - t0)}
        sub.close()
        if batched:
            publisher.close()
        else:
            conn.release()

    # -------------------------------------------------------------- report

    def machine(self):
        packages = ("nameko", "kombu", "amqp", "SQLAlchemy", "eventlet", "psycopg2-binary")
        versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
        overview = requests.get(f"{infra.RABBIT_API}/overview", auth=infra.RABBIT_ADMIN,
                                timeout=10).json()
        with self.engine.connect() as conn:
            pg = conn.scalar(text("SHOW server_version"))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        return [
            f"machine: nproc {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable), "
            f"{platform.machine()}, {platform.system()} {platform.release()}",
            f"python {platform.python_version()}; {versions}",
            f"RabbitMQ {overview.get('rabbitmq_version')} (Erlang "
            f"{overview.get('erlang_version')}), PostgreSQL {pg}; load average {load}",
        ]

    def report(self, started):
        a, r, notes = self.args, self.results, self.notes
        lines = ["", "Gonghui bench: nameko RPC and outbox events against raw kombu", ""]
        lines += self.machine()
        lines.append(f"run: --calls {a.calls} --events {a.events} --warmup {a.warmup} "
                     f"--live {a.live}; vhost {self.vhost}; database {BENCH_DB}")
        lines.append("")
        rows = [
            ("1", "nameko RPC benchsvc.noop()", "noop", "calls/s"),
            ("2", "nameko RPC organization.add_member", "create_member", "calls/s"),
            ("3a", "raw kombu request/reply", "raw_rr", "calls/s"),
            ("3b", "raw kombu request/reply, confirms+persistent", "raw_rr_confirm",
             "calls/s"),
            ("4a", "outbox -> subscriber (relay start to last)", "outbox", "events/s"),
            ("4b", "live: add_member reply -> event received", "live", ""),
            ("5a", "raw kombu publish (confirm each) -> consume", "raw_confirm", "events/s"),
            ("5b", "ConfirmingPublisher batches of 200 -> consume", "raw_batch", "events/s"),
        ]
        lines.append(f"{'#':<3} {'figure':<47} {'rate':>9} {'unit':<8} {'p50 ms':>7} "
                     f"{'p99 ms':>7}")
        lines.append("-" * 86)

        def fmt(value, spec):
            return "-" if value is None else format(value, spec)

        for num, label, key, unit in rows:
            fig = r[key]
            lines.append(f"{num:<3} {label:<47} {fmt(fig['rate'], '9.0f'):>9} {unit:<8} "
                         f"{fmt(fig['p50'], '7.2f'):>7} {fmt(fig['p99'], '7.2f'):>7}")

        def ratio(label, num, den, unit, latency=True):
            text_ = f"  {label:<50} {r[num]['rate'] / r[den]['rate']:5.2f}x {unit}"
            if latency:
                text_ += f" (p50 {r[num]['p50'] / r[den]['p50']:.1f}x)"
            lines.append(text_)

        lines += ["", "ratios (same run, same broker):"]
        ratio("1 nameko no-op RPC / 3a raw request-reply", "noop", "raw_rr", "calls/s")
        ratio("1 nameko no-op RPC / 3b raw request-reply, confirms", "noop", "raw_rr_confirm",
              "calls/s")
        ratio("2 create_member / 1 no-op RPC", "create_member", "noop", "calls/s")
        ratio("4a outbox->subscriber / 5a raw confirmed pub->consume", "outbox",
              "raw_confirm", "events/s", latency=False)
        ratio("4a outbox->subscriber / 5b ConfirmingPublisher batch", "outbox", "raw_batch",
              "events/s", latency=False)
        o, live = notes["outbox"], notes["live"]
        method = [
            ("1", "BenchService 'benchsvc' (ServiceBase, @rpc() noop() -> None) in a nameko "
             "ServiceContainer (max_workers 10, relay off); one caller, one cluster_rpc proxy "
             f"reused; {a.warmup} warm-up calls excluded, then {a.calls} sequential calls; "
             "rate = calls / wall time; latency of each call."),
            ("2", "OrganizationService in a container, relay on; add_member(employee_no "
             "unique, name, gender, unit_id of one company unit, joined_on 2026-01-01) by one "
             f"caller (actor operator:bench), {a.warmup} warm-up excluded, {a.calls} timed. "
             "Each call commits a member, an audit and an outbox row; the relay publishes "
             "them meanwhile to organization.events -> durable queue bench.sink "
             f"({notes['sink']} messages, then deleted)."),
            ("3", "a kombu server greenthread consumes a queue and replies on the default "
             "exchange to reply_to with the correlation_id; the client publishes with "
             "reply_to = its exclusive reply queue and drains until the reply; same warm-up "
             f"and {a.calls} calls. 3a: transient messages, no confirms. 3b: as nameko "
             "publishes: confirm_publish, persistent, durable request queue. Each side "
             "consumes and publishes on separate connections (as nameko does)."),
            ("4a", f"{a.events} add_member calls committed with the relay off "
             f"(OUTBOX_RELAY=False; {COMMIT_WINDOW} calls in flight, "
             f"{o['commit_rate']:.0f} calls/s, not part of the figure); container stopped; "
             "a plain kombu subscriber started (durable queue bound to organization.events "
             "'#', acks each message); then a container with the relay on. rate = N / "
             "(container.start() called -> last distinct event received). container.start() "
             f"took {o['start_ms']:.0f} ms, first event at {o['first_ms']:.0f} ms; first to "
             f"last event alone: {o['steady']:.0f} events/s. The relay publishes batches of "
             "200 rows with pipelined confirms, then marks them published, one transaction "
             "per batch."),
            ("4b", f"relay running, subscriber bound; {a.live} sequential add_member calls; "
             "for each, time from the RPC reply to the subscriber's callback for that "
             f"member's event ({live['before_reply']} of {a.live} arrived before the reply). "
             f"From call start instead: p50 {live['call_p50']:.2f} ms, p99 "
             f"{live['call_p99']:.2f} ms."),
            ("5", f"{a.events} persistent JSON messages (a real member_joined envelope from "
             "the outbox, new id each) to the topic exchange benchraw.events, the same "
             "subscriber as 4a; rate = N / (first publish -> last received). 5a: kombu "
             "Producer with confirm_publish, waiting for each confirm (publishing alone "
             f"{notes['raw_confirm']['publish_rate']:.0f}/s). 5b: gonghui "
             f"ConfirmingPublisher.publish_batch, {PUBLISH_BATCH} per batch (publishing "
             f"alone {notes['raw_batch']['publish_rate']:.0f}/s)."),
            ("", "Services, clients and subscribers all run in this one eventlet process, "
             "sharing one core's worth of Python; broker and database are separate processes "
             "on the same machine."),
        ]
        lines += ["", "method:"]
        for num, paragraph in method:
            lines.append(textwrap.fill(paragraph, width=92, initial_indent=f"{num:<4}",
                                       subsequent_indent="    "))
        lines.append(f"total {time.monotonic() - started:.0f} s; load average at end "
                     f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed RPC calls (1-3)")
    parser.add_argument("--events", type=int, default=2000, help="events (4a, 5)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up RPC calls, excluded")
    parser.add_argument("--live", type=int, default=200, help="add_member calls for 4b")
    args = parser.parse_args()
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        steps = [("1 nameko no-op RPC", bench.nameko_noop),
                 ("3a raw request/reply", lambda: bench.raw_request_reply(False)),
                 ("3b raw request/reply with confirms", lambda: bench.raw_request_reply(True)),
                 ("2 create_member + 4b live path", bench.create_member_and_live),
                 ("4a outbox -> subscriber", bench.outbox_throughput),
                 ("5a raw confirmed publish -> consume", lambda: bench.raw_publish_consume(False)),
                 ("5b ConfirmingPublisher batches", lambda: bench.raw_publish_consume(True))]
        for label, step in steps:
            t0 = time.monotonic()
            step()
            print(f"[{label}: {time.monotonic() - t0:.1f} s]", file=sys.stderr, flush=True)
        bench.report(started)
    finally:
        bench.teardown()


if __name__ == "__main__":
    main()
