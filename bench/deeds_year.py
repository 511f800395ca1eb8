"""A year of deeds ticks for 1,000 units and 10,000 items, and the ledger export (issue #4).

Run from the repository root::

    .venv/bin/python bench/deeds_year.py [--units 1000] [--items 10000] [--days 365]

Everything runs in this one process: DeedsService in a nameko ServiceContainer, the RPC
caller, the outbox relay (inside the container). RabbitMQ and PostgreSQL are the local ones
(started if needed); a fresh vhost ``bench_<random>`` is created and deleted at the end, the
database ``gonghui_bench_deeds`` is dropped (WITH (FORCE)), re-created, migrated and left
behind for inspection. The read model of the union tree, the deed lists and the items are
filled directly with bulk SQL (no RPC); then every day of 2021 is replayed with
``deeds.tick(as_of)`` by RPC, after that day's scripted reports and completions. See
bench/DEEDS.md for what each figure means.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket/threading: nameko needs it

import argparse  # noqa: E402
import base64  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import requests  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import bindparam, create_engine, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from deploy import infra  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.calendar import WorkingCalendar  # noqa: E402
from gonghui.directory import (  # noqa: E402
    OFFICER_ROLES,
    DirectoryMember,
    DirectoryRole,
    DirectoryUnion,
    DirectoryUnit,
)
from gonghui.migrations import migrate  # noqa: E402
from gonghui.rpc_client import cluster_rpc  # noqa: E402
from gonghui.tables import outbox  # noqa: E402
from services.deeds import rules  # noqa: E402
from services.deeds.models import (  # noqa: E402
    DeedList,
    Item,
    Report,
    SupervisionOrder,
)
from services.deeds.service import DeedsService  # noqa: E402

BENCH_DB = "gonghui_bench_deeds"
ACTOR = Actor("operator", "bench")
EXCHANGE = "deeds.events"
SINK = "bench.deeds.sink"
YEAR = 2021
CREATED_ON = date(YEAR, 1, 15)
RPC_PERIOD = "2021-06"  # the one month whose reports go through submit_report by RPC
RPC_WINDOW = 10  # submit_report calls in flight (= max_workers)
RPC_TIMEOUT = 1800  # a tick may take long; the caller must not give up first
MEMBERS_PER_UNIT = 10
SEED = 2021
SETTINGS = rules.Settings()  # due day 25, reminders 3 working days before, supervision 5
PATTERNS = (("on_time", 0.6), ("late", 0.2), ("never", 0.2))
LATE_DAYS = 3  # late reporters report this many calendar days after the due day
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ helpers


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def rss_mb():
    """Current resident set size of this process (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE / 2**20


def maxrss_mb():
    """Peak RSS of this process so far (getrusage ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def other_python_processes():
    """Command lines of the other python processes running now (pytest, benches)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and b"python" in os.path.basename(argv[0]):
            found.append(" ".join(a.decode(errors="replace") for a in argv[1:4]).strip())
    return found


def months(first_month, last_month):
    return [f"{YEAR:04d}-{m:02d}" for m in range(first_month, last_month + 1)]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the bench


class Bench:
    def __init__(self, args):
        self.args = args
        self.vhost = f"bench_{uuid.uuid4().hex[:10]}"
        self.amqp_uri = None
        self.database = args.database
        self.db_url = make_url(infra.PG_ADMIN_URL).set(database=self.database)
        self.db_url = self.db_url.render_as_string(hide_password=False)
        self.container = None
        self.engine = None
        self.calendar = WorkingCalendar()
        self.figures = {}
        self.profiles = []
        self.report_profile = None
        self.export_profile = None

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
            exchange = Exchange(EXCHANGE, type="topic", durable=True)
            exchange(channel).declare()
            Queue(SINK, exchange, routing_key="#", durable=True)(channel).declare()
        admin = create_engine(infra.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            busy = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                               {"d": self.database})
            if busy and not self.args.force:
                raise SystemExit(f"{busy} session(s) are connected to {self.database} (another "
                                 "run of this bench?); use --database NAME, or --force to drop "
                                 "it anyway")
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        migrate("deeds", self.db_url)
        self.engine = create_engine(self.db_url)

    def teardown(self):
        if self.container is not None:
            try:
                self.container.kill()
            except Exception:  # noqa: BLE001 - already stopped
                pass
        if self.amqp_uri is not None:
            api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
            requests.delete(f"{api}/vhosts/{self.vhost}", auth=auth, timeout=60)
        if self.engine is not None:
            self.engine.dispose()

    def start_service(self):
        config = {"AMQP_URI": self.amqp_uri, "DATABASE_URL": self.db_url,
                  "WEB_SERVER_ADDRESS": "127.0.0.1:0", "max_workers": 10,
                  "OUTBOX_POLL_SECONDS": 0.2, "RPC_TIMEOUT": 10}
        self.container = ServiceContainer(DeedsService, config)
        self.container.start()

    def sink_count(self):
        with Connection(self.amqp_uri) as conn:
            return conn.default_channel.queue_declare(SINK, passive=True).message_count

    def scalar(self, statement):
        with self.engine.connect() as conn:
            return conn.scalar(statement)

    # -------------------------------------------------------------- the programme

    def fill(self):
        """The read model of the tree, the lists and the items, by bulk SQL."""
        n_units, n_items = self.args.units, self.args.items
        rng = random.Random(SEED)
        n_grassroots = max(1, round((n_units - 1) / 10)) if n_units > 1 else 0
        root = 1
        grassroots = list(range(2, 2 + n_grassroots))
        teams = list(range(2 + n_grassroots, n_units + 1))
        parent = {root: None, **{g: root for g in grassroots}}
        for k, team in enumerate(teams):
            parent[team] = grassroots[k % n_grassroots]
        grassroots_of = {root: None, **{g: g for g in grassroots},
                         **{t: parent[t] for t in teams}}
        kind = {root: "company", **{g: "grassroots" for g in grassroots},
                **{t: "team" for t in teams}}
        level = {"company": "company_union", "grassroots": "grassroots_union",
                 "team": "union_group"}
        names = {"company": "新能源公司", "grassroots": "基层单位", "team": "班组"}
        units = [{"unit_id": u, "name": f"{names[kind[u]]}{u:04d}", "parent_id": parent[u],
                  "kind": kind[u]} for u in range(1, n_units + 1)]
        unions = [{"union_id": u, "unit_id": u, "level": level[kind[u]]}
                  for u in range(1, n_units + 1)]

        def member_id(unit, k):
            return (unit - 1) * MEMBERS_PER_UNIT + k + 1

        members = [{"member_id": member_id(u, k), "name": f"职工{member_id(u, k):05d}",
                    "unit_id": u}
                   for u in range(1, n_units + 1) for k in range(MEMBERS_PER_UNIT)]
        roles = [{"member_id": member_id(u, k), "union_id": u, "unit_id": u, "role": role,
                  "starts_on": date(YEAR - 1, 1, 1)}
                 for u in range(1, n_units + 1)
                 for k, role in enumerate(OFFICER_ROLES)]
        lists = [{"id": 1, "level": "party_committee", "year": YEAR, "unit_id": root,
                  "title": f"{YEAR}年党委层面“我为群众办实事”项目清单"}]
        list_of_grassroots = {}
        for n, g in enumerate(grassroots, start=2):
            list_of_grassroots[g] = n
            lists.append({"id": n, "level": "grassroots", "year": YEAR, "unit_id": g,
                          "title": f"{YEAR}年{names['grassroots']}{g:04d}基层项目清单"})
        patterns = []
        for name, share in PATTERNS:
            patterns += [name] * round(share * n_items)
        patterns = (patterns + ["never"] * n_items)[:n_items]
        rng.shuffle(patterns)
        focus_areas, batches = list(rules.FOCUS_AREAS), list(rules.BATCHES)
        items = []
        self.items = {}  # id -> (pattern, planned completion)
        for n in range(n_items):
            owner = n % n_units + 1
            party = owner == root or rng.random() < 0.1
            planned = date(YEAR, 3 + rng.randrange(10), rng.randint(1, 28))
            item_id = n + 1
            items.append({
                "id": item_id, "list_id": 1 if party else list_of_grassroots[
                    grassroots_of[owner]],
                "parent_id": None, "title": f"实事项目{item_id:05d}：职工服务改善",
                "description": "为职工群众办实事的具体举措、目标和完成标准。",
                "level": "party_committee" if party else "grassroots",
                "focus_area": focus_areas[rng.randrange(len(focus_areas))],
                "batch": batches[rng.randrange(len(batches))], "owner_unit_id": owner,
                "responsible_member_id": member_id(owner, 2 + rng.randrange(
                    MEMBERS_PER_UNIT - 2)),
                "planned_completion": planned, "weight": 1.0, "progress": 0,
                "status": "open", "created_on": CREATED_ON, "completed_on": None,
                "noticed_on": None, "feedback": None, "new_deadline": None, "idea_id": None})
            self.items[item_id] = (patterns[n], planned)
        t0 = time.perf_counter()
        with self.engine.begin() as conn:
            for table, rows in ((DirectoryUnit, units), (DirectoryUnion, unions),
                                (DirectoryMember, members), (DirectoryRole, roles),
                                (DeedList, lists), (Item, items)):
                conn.execute(table.__table__.insert(), rows)
            for table in ("deed_lists", "items"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        self.figures["fill"] = {
            "seconds": time.perf_counter() - t0, "units": len(units),
            "grassroots": len(grassroots), "teams": len(teams), "unions": len(unions),
            "members": len(members), "roles": len(roles), "lists": len(lists),
            "items": len(items), "patterns": Counter(patterns),
            "party_items": sum(1 for i in items if i["level"] == "party_committee")}

    def schedule(self, days):
        """{day: {"report": [(item_id, period, progress)], "complete": [item_id]}}."""
        plan = defaultdict(lambda: {"report": [], "complete": []})
        first, last = days[0], days[-1]
        due = {}
        for period in months(2, 12):  # items created on 15 January owe from February
            due_on = rules.due_date(period, SETTINGS.report_due_day, self.calendar)
            due[period] = (self.calendar.add_working_days(
                due_on, -SETTINGS.due_notice_working_days), due_on)
        for item_id, (pattern, planned) in self.items.items():
            completes = None if pattern == "never" else planned
            if completes is not None and first <= completes <= last:
                plan[completes]["complete"].append(item_id)
            if pattern == "never":
                continue
            for period, (remind_from, due_on) in due.items():
                if not rules.owes_period(CREATED_ON, period):
                    continue
                day = (remind_from - timedelta(days=1) if pattern == "on_time"
                       else due_on + timedelta(days=LATE_DAYS))
                if day >= completes or not first <= day <= last:
                    continue
                plan[day]["report"].append((item_id, period, min(95, 8 * int(period[5:]))))
        self.due = due
        return plan

    # -------------------------------------------------------------- scripted actions

    def report_directly(self, day, reports):
        """Reports of a month other than RPC_PERIOD: what submit_report writes (the report
        with due_on and on_time, the item's progress, the period's open supervision order
        closed by the report), without its events."""
        rows = []
        for item_id, period, progress in reports:
            due_on = self.due[period][1]
            rows.append({"item_id": item_id, "period": period, "progress": progress,
                         "text": f"{period} 月度进展：按计划推进", "attachment_ref": None,
                         "submitted_on": day, "due_on": due_on, "on_time": day <= due_on})
        with self.engine.begin() as conn:
            conn.execute(Report.__table__.insert(), rows)
            conn.execute(update(Item.__table__).where(Item.__table__.c.id == bindparam("b_id"))
                         .values(progress=bindparam("b_progress")),
                         [{"b_id": r["item_id"], "b_progress": r["progress"]} for r in rows])
            orders = SupervisionOrder.__table__
            for period in {r["period"] for r in rows}:
                ids = [r["item_id"] for r in rows if r["period"] == period]
                conn.execute(update(orders).where(
                    orders.c.item_id.in_(ids), orders.c.period == period,
                    orders.c.status == "open").values(status="closed", closed_by="report",
                                                      closed_on=day))

    def report_by_rpc(self, proxy, day, reports):
        submit = proxy.deeds.submit_report
        latencies = []
        for first in range(0, len(reports), RPC_WINDOW):
            profiler = None
            if self.args.profile_reports and not self.report_profile:
                profiler = cProfile.Profile()
                profiler.enable()
            pending = []
            for item_id, period, progress in reports[first:first + RPC_WINDOW]:
                pending.append((time.perf_counter(), submit.call_async(
                    item_id=item_id, progress=progress, text=f"{period} 月度进展：按计划推进",
                    period=period, submitted_on=day.isoformat())))
            for t0, reply in pending:
                reply.result()
                latencies.append(time.perf_counter() - t0)
            if profiler:
                profiler.disable()
                profiler.dump_stats("/tmp/deeds_year_submit_report.prof")
                self.report_profile = (len(pending), profiler)
        return latencies

    def complete_directly(self, day, item_ids):
        """What complete_item writes (status completed, completed_on, progress 100, open
        supervision orders closed by the completion), without its events."""
        items, orders = Item.__table__, SupervisionOrder.__table__
        with self.engine.begin() as conn:
            conn.execute(update(items).where(items.c.id.in_(item_ids), items.c.status.in_(
                ("open", "non_conforming"))).values(status="completed", completed_on=day,
                                                    progress=100, feedback=None))
            conn.execute(update(orders).where(orders.c.item_id.in_(item_ids),
                                              orders.c.status == "open")
                         .values(status="closed", closed_by="completion", closed_on=day,
                                 explanation="办结"))

    # -------------------------------------------------------------- the year

    def year(self, proxy):
        args = self.args
        start = date(YEAR, 1, 1)
        days = [start + timedelta(days=k) for k in range(args.days)]
        if days[-1].year != YEAR:
            raise SystemExit(f"--days {args.days} runs past {YEAR}")
        plan = self.schedule(days)
        profile_days = {date.fromisoformat(d) for d in args.profile_days.split(",") if d}
        ticks, rpc_latencies = [], []
        script_seconds = 0.0
        direct_reports = rpc_reports = completions = 0
        outbox_before = self.scalar(select(func.coalesce(func.max(outbox.c.id), 0)))
        maxrss_before = maxrss_mb()
        rss_before = rss_mb()
        if args.tracemalloc:
            tracemalloc.start()
        loop_started = time.perf_counter()
        cpu_started = time.process_time()
        for day in days:
            actions = plan.get(day, {"report": [], "complete": []})
            t0 = time.perf_counter()
            by_rpc = [r for r in actions["report"] if r[1] == RPC_PERIOD
                      and self.items[r[0]][0] == "on_time"]
            direct = [r for r in actions["report"] if r not in by_rpc]
            if direct:
                self.report_directly(day, direct)
                direct_reports += len(direct)
            if by_rpc:
                rpc_latencies += self.report_by_rpc(proxy, day, by_rpc)
                rpc_reports += len(by_rpc)
            if actions["complete"]:
                self.complete_directly(day, actions["complete"])
                completions += len(actions["complete"])
            script_seconds += time.perf_counter() - t0
            profiler = cProfile.Profile() if day in profile_days else None
            cpu0, t0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            counts = proxy.deeds.tick(as_of=day.isoformat())
            if profiler:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            top = self.scalar(select(func.coalesce(func.max(outbox.c.id), 0)))
            open_orders = self.scalar(select(func.count()).select_from(SupervisionOrder).where(
                SupervisionOrder.status == "open"))
            ticks.append({"day": day, "seconds": elapsed, "cpu": cpu, "rss": rss_mb(),
                          "events": top - (ticks[-1]["top"] if ticks else outbox_before),
                          "top": top, "load": os.getloadavg()[0],
                          "open_orders": open_orders,
                          "reports": len(actions["report"]),
                          "completions": len(actions["complete"]),
                          "counts": {k: v for k, v in counts.items() if k != "as_of"}})
            if profiler:
                profiler.dump_stats(f"/tmp/deeds_year_tick_{day}.prof")
                self.profiles.append((day, elapsed, ticks[-1]["counts"], profiler))
            if day.day == 1 or elapsed > 5 or day == days[-1]:
                busy = {k: v for k, v in ticks[-1]["counts"].items() if v}
                log(f"{day} tick {elapsed:6.2f} s, {ticks[-1]['events']} events, rss "
                    f"{ticks[-1]['rss']:.0f} MB, load {loadavg()} {busy or ''}")
        loop_seconds = time.perf_counter() - loop_started
        loop_cpu = time.process_time() - cpu_started
        traced_peak = None
        if args.tracemalloc:
            traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        t_loop_end = time.perf_counter()
        backlog_seconds = self.wait_backlog(t_loop_end)
        total_events = self.scalar(select(func.count()).select_from(outbox))
        received_seconds, received = self.wait_sink(total_events, t_loop_end)
        self.figures["year"] = {
            "days": len(days), "first": days[0], "last": days[-1], "ticks": ticks,
            "loop_seconds": loop_seconds, "loop_cpu": loop_cpu,
            "tick_seconds": sum(t["seconds"] for t in ticks),
            "tick_cpu": sum(t["cpu"] for t in ticks),
            "script_seconds": script_seconds, "direct_reports": direct_reports,
            "rpc_reports": rpc_reports, "rpc_latencies": rpc_latencies,
            "completions": completions, "maxrss_before": maxrss_before,
            "rss_before": rss_before, "maxrss_after": maxrss_mb(), "rss_after": rss_mb(),
            "traced_peak": traced_peak, "total_events": total_events,
            "tick_events": sum(t["events"] for t in ticks),
            "backlog_seconds": backlog_seconds, "received_seconds": received_seconds,
            "received": received,
            "loads": [t["load"] for t in ticks]}

    def wait_backlog(self, since, timeout=1800):
        unpublished = select(func.count()).select_from(outbox).where(
            outbox.c.published_at.is_(None))
        while self.scalar(unpublished):
            if time.perf_counter() - since > timeout:
                return None
            eventlet.sleep(0.05)
        return time.perf_counter() - since

    def wait_sink(self, expected, since, timeout=600):
        count = self.sink_count()
        while count < expected and time.perf_counter() - since < timeout:
            eventlet.sleep(0.1)
            count = self.sink_count()
        return (time.perf_counter() - since if count >= expected else None), count

    # -------------------------------------------------------------- ledger

    def ledger(self, proxy):
        deeds, figures = proxy.deeds, {}
        maxrss0, rss0 = maxrss_mb(), rss_mb()
        t0 = time.perf_counter()
        exported = deeds.export_ledger(year=YEAR, details=False)
        figures["export_seconds"] = time.perf_counter() - t0
        content = base64.b64decode(exported["content_base64"])
        figures.update(rows=exported["rows"], xlsx_bytes=len(content),
                       base64_bytes=len(exported["content_base64"]),
                       maxrss_before=maxrss0, maxrss_after=maxrss_mb(), rss_before=rss0,
                       rss_after=rss_mb())
        del exported, content
        # Again under tracemalloc: the Python-heap peak of the whole call (service worker,
        # openpyxl, the reply, the client's decoding); slower, so its time is not the figure.
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        again = deeds.export_ledger(year=YEAR, details=False)
        figures["traced_seconds"] = time.perf_counter() - t0
        figures["traced_peak"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        figures["traced_rows"] = again["rows"]
        del again
        if self.args.profile_export:
            profiler = cProfile.Profile()
            t0 = time.perf_counter()
            profiler.enable()
            deeds.export_ledger(year=YEAR, details=False)
            profiler.disable()
            profiler.dump_stats("/tmp/deeds_year_export.prof")
            self.export_profile = (time.perf_counter() - t0, profiler)
        t0 = time.perf_counter()
        try:
            rows = deeds.ledger(limit=self.args.items)
            figures["ledger_error"] = None
        except Exception as exc:  # noqa: BLE001 - reported: the page limit is part of the API
            rows = None
            figures["ledger_error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
        figures["ledger_seconds"] = time.perf_counter() - t0
        figures["ledger_rows"] = len(rows) if rows is not None else None
        pages, offset = [], 0
        while True:
            t0 = time.perf_counter()
            page = deeds.ledger(limit=5000, offset=offset)
            pages.append((len(page), time.perf_counter() - t0))
            offset += len(page)
            if len(page) < 5000:
                break
        figures["pages"] = pages
        self.figures["ledger"] = figures

    # -------------------------------------------------------------- database

    def database_figures(self):
        with self.engine.connect() as conn:
            size = conn.scalar(text("SELECT pg_database_size(current_database())"))
            tables = conn.execute(text(
                "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "ORDER BY 2 DESC LIMIT 8")).all()
            counts = {name: conn.scalar(text(f"SELECT count(*) FROM {name}")) for name in (
                "items", "reports", "reminders_sent", "supervision_orders", "notices",
                "evaluations", "outbox", "audit_log")}
            statuses = dict(conn.execute(text(
                "SELECT status, count(*) FROM items GROUP BY status")).all())
            orders = dict(conn.execute(text(
                "SELECT status || coalesce(':' || closed_by, ''), count(*) "
                "FROM supervision_orders GROUP BY 1")).all())
            levels = dict(conn.execute(text(
                "SELECT escalation_level, count(*) FROM supervision_orders GROUP BY 1")).all())
            event_types = dict(conn.execute(text(
                "SELECT event_type, count(*) FROM outbox GROUP BY 1 ORDER BY 2 DESC")).all())
            pg = conn.scalar(text("SHOW server_version"))
        self.figures["db"] = {"size": size, "tables": tables, "counts": counts,
                              "statuses": statuses, "orders": orders, "levels": levels,
                              "event_types": event_types, "pg": pg}

    # -------------------------------------------------------------- report

    def machine(self):
        packages = ("nameko", "kombu", "SQLAlchemy", "psycopg2-binary", "eventlet",
                    "marshmallow", "openpyxl", "chinesecalendar")
        versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
        overview = requests.get(f"{infra.RABBIT_API}/overview", auth=infra.RABBIT_ADMIN,
                                timeout=10).json()
        return [
            f"machine: nproc {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable), "
            f"{platform.machine()}, {platform.system()} {platform.release()}, "
            f"{os.sysconf('SC_PHYS_PAGES') * PAGE_SIZE / 2**30:.0f} GiB RAM",
            f"python {platform.python_version()}; {versions}",
            f"RabbitMQ {overview.get('rabbitmq_version')} (Erlang "
            f"{overview.get('erlang_version')}), PostgreSQL {self.figures['db']['pg']}",
        ]

    def report(self, started):
        a, f = self.args, self.figures
        fill, y, led, db = f["fill"], f["year"], f["ledger"], f["db"]
        ticks = y["ticks"]
        profiled = {day for day, *_ in self.profiles}
        secs = [t["seconds"] for t in ticks if t["day"] not in profiled]
        lines = ["", f"Gonghui bench: a year of deeds ticks ({a.units} units, {a.items} items,"
                 f" {y['days']} days) and the ledger export", ""]
        lines += self.machine()
        lines.append(f"load average at start {self.load_start}; during the ticks (1-min, "
                     f"sampled after each tick) min {min(y['loads']):.2f} mean "
                     f"{sum(y['loads']) / len(y['loads']):.2f} max {max(y['loads']):.2f}; at "
                     f"end {loadavg()}")
        lines.append(f"other python processes at start: {len(self.others_start)}"
                     + (f" ({'; '.join(self.others_start[:6])})" if self.others_start else ""))
        lines.append(f"run: --units {a.units} --items {a.items} --days {a.days}"
                     + (" --tracemalloc" if a.tracemalloc else "")
                     + (f" --profile-days {a.profile_days}" if a.profile_days else "")
                     + f"; vhost {self.vhost}; database {self.database}")
        lines.append("")
        p = fill["patterns"]
        lines.append(f"programme (bulk SQL, {fill['seconds']:.1f} s): {fill['units']} units "
                     f"(1 company, {fill['grassroots']} grassroots, {fill['teams']} teams), "
                     f"{fill['unions']} unions, {fill['members']} members, {fill['roles']} "
                     f"officer roles, {fill['lists']} lists, {fill['items']} items "
                     f"({fill['party_items']} party-committee); patterns: on_time "
                     f"{p['on_time']}, late {p['late']}, never {p['never']}")
        lines.append(f"scripted: {y['direct_reports']} reports by SQL, {y['rpc_reports']} by "
                     f"submit_report RPC ({RPC_PERIOD}), {y['completions']} completions by "
                     f"SQL; script time {y['script_seconds']:.1f} s (not in the tick figures)")
        if y["rpc_latencies"]:
            lat = y["rpc_latencies"]
            lines.append(f"  submit_report RPC ({RPC_WINDOW} in flight): {len(lat)} calls, "
                         f"p50 {percentile(lat, 50) * 1000:.0f} ms, p95 "
                         f"{percentile(lat, 95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")
        lines += ["", "A. the year of ticks (one caller, sequential deeds.tick(as_of) RPCs)"]
        lines.append(f"  wall time of the tick loop        {y['loop_seconds']:9.1f} s "
                     f"(ticks alone {y['tick_seconds']:.1f} s, scripted actions "
                     f"{y['script_seconds']:.1f} s, the rest bookkeeping)")
        lines.append(f"  process CPU during the ticks      {y['tick_cpu']:9.1f} s "
                     f"({100 * y['tick_cpu'] / y['tick_seconds']:.0f} % of the ticks' wall "
                     f"time)")
        lines.append(f"  per tick                          p50 {percentile(secs, 50) * 1000:.0f}"
                     f" ms, p95 {percentile(secs, 95) * 1000:.0f} ms, max "
                     f"{max(secs) * 1000:.0f} ms, mean {sum(secs) / len(secs) * 1000:.0f} ms"
                     + (f" ({len(profiled)} profiled ticks left out)" if profiled else ""))
        quiet = [t["seconds"] for t in ticks if not t["events"]]
        if quiet:
            lines.append(f"  ticks that emitted nothing        {len(quiet)}: p50 "
                         f"{percentile(quiet, 50) * 1000:.0f} ms, max "
                         f"{max(quiet) * 1000:.0f} ms")
        lines.append("  slowest days (what each did: the tick's counts; events = outbox rows "
                     "it wrote):")
        for t in sorted(ticks, key=lambda t: -t["seconds"])[:a.slowest]:
            busy = ", ".join(f"{k} {v}" for k, v in t["counts"].items() if v) or "nothing"
            mark = " [under cProfile]" if t["day"] in profiled else ""
            lines.append(f"    {t['day']} {t['day'].strftime('%a')} {t['seconds']:7.2f} s "
                         f"(cpu {t['cpu']:6.2f} s) {t['events']:6d} events: {busy}{mark}")
        totals = Counter()
        for t in ticks:
            totals.update(t["counts"])
        lines.append("  totals of the year: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
        by_month, orders_at_end = defaultdict(float), {}
        for t in ticks:
            by_month[t["day"].month] += t["seconds"]
            orders_at_end[t["day"].month] = t["open_orders"]
        lines.append("  tick seconds by month (open supervision orders at the month's end): "
                     + ", ".join(f"{m:02d} {s:.0f} ({orders_at_end[m]})"
                                 for m, s in sorted(by_month.items())))
        lines += ["", "B. events"]
        lines.append(f"  outbox rows at the end            {y['total_events']:9d} "
                     f"({y['tick_events']} written by ticks, the rest by submit_report RPCs)")
        lines.append("  by type: " + ", ".join(f"{k.split('.', 1)[1]} {v}"
                                              for k, v in db["event_types"].items()))
        backlog = y["backlog_seconds"]
        lines.append("  relay: backlog 0 after the last tick reply  "
                     + (f"{backlog:.2f} s" if backlog is not None else "NOT within the timeout"))
        rec = y["received_seconds"]
        lines.append(f"  received in the bound queue       {y['received']:9d} messages, all "
                     + (f"{rec:.2f} s after the last tick reply" if rec is not None
                        else "NOT within the timeout"))
        lines += ["", "C. memory"]
        lines.append(f"  peak RSS of the process (ru_maxrss): before the ticks "
                     f"{y['maxrss_before']:.0f} MB, after {y['maxrss_after']:.0f} MB; "
                     f"after the ledger {led['maxrss_after']:.0f} MB")
        peak_tick = max(ticks, key=lambda t: t["rss"])
        lines.append(f"  RSS: {y['rss_before']:.0f} MB before the ticks, largest after a tick "
                     f"{peak_tick['rss']:.0f} MB (first reached {peak_tick['day']}), "
                     f"{y['rss_after']:.0f} MB after the loop")
        if y["traced_peak"] is not None:
            lines.append(f"  tracemalloc peak over the tick loop: {y['traced_peak']:.0f} MB")
        else:
            lines.append("  tracemalloc over the tick loop: not run (--tracemalloc; it slows "
                         "the loop several-fold, see DEEDS.md)")
        lines.append(f"  PostgreSQL database size at the end: {db['size'] / 2**20:.0f} MB; "
                     "largest tables: " + ", ".join(
                         f"{n} {s / 2**20:.0f} MB" for n, s, _ in db["tables"][:6]))
        lines.append("  rows: " + ", ".join(f"{k} {v}" for k, v in db["counts"].items()))
        lines.append(f"  items by status: {dict(sorted(db['statuses'].items()))}; supervision "
                     f"orders: {dict(sorted(db['orders'].items()))}; by escalation level: "
                     f"{dict(sorted(db['levels'].items()))}")
        lines += ["", f"D. the ledger of {led['rows']} items"]
        lines.append(f"  export_ledger(year={YEAR}, details=False) RPC"
                     f"{led['export_seconds']:9.2f} s; "
                     f"xlsx {led['xlsx_bytes'] / 2**20:.2f} MB ({led['base64_bytes'] / 2**20:.2f}"
                     f" MB base64 in the reply)")
        grown = led["maxrss_after"] - led["maxrss_before"]
        lines.append(f"  memory: ru_maxrss {led['maxrss_before']:.0f} -> "
                     f"{led['maxrss_after']:.0f} MB (+{grown:.0f}), RSS {led['rss_before']:.0f} -> "
                     f"{led['rss_after']:.0f} MB; tracemalloc "
                     f"peak of a second export {led['traced_peak']:.0f} MB above the start "
                     f"({led['traced_seconds']:.2f} s traced)")
        if led["ledger_error"]:
            lines.append(f"  ledger(limit={a.items}) RPC          rejected in "
                         f"{led['ledger_seconds'] * 1000:.0f} ms: {led['ledger_error']}")
        else:
            lines.append(f"  ledger(limit={a.items}) RPC          {led['ledger_seconds']:9.2f} s,"
                         f" {led['ledger_rows']} rows")
        lines.append("  ledger(limit=5000, offset=...) pages: " + ", ".join(
            f"{n} rows {s:.2f} s" for n, s in led["pages"]))
        if self.profiles:
            lines += ["", "E. profiles (cProfile around single tick RPCs; in-process, so it "
                      "includes the client, the relay and the service worker)"]
            for day, elapsed, counts, profiler in self.profiles:
                busy = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"
                lines.append(f"  {day}: {elapsed:.2f} s under the profiler; "
                             f"counts: {busy}")
                lines += ["    " + row for row in profile_rows(profiler, a.profile_top)]
        if self.report_profile:
            calls, profiler = self.report_profile
            lines += ["", f"F. profile of the first {calls} submit_report RPCs ({RPC_WINDOW} in "
                      "flight, cProfile in-process)"]
            lines += ["    " + row for row in profile_rows(profiler, a.profile_top)]
        if self.export_profile:
            seconds, profiler = self.export_profile
            lines += ["", f"G. profile of a third export_ledger RPC ({seconds:.2f} s under "
                      "cProfile)"]
            lines += ["    " + row for row in profile_rows(profiler, a.profile_top)]
        lines += ["", "method:"]
        for num, paragraph in self.method():
            lines.append(textwrap.fill(paragraph, width=92, initial_indent=f"{num:<6}",
                                       subsequent_indent="      "))
        lines.append(f"total {time.monotonic() - started:.0f} s")
        print("\n".join(lines), flush=True)

    def method(self):
        a = self.args
        return [
            ("", "One process: eventlet.monkey_patch(), DeedsService in a nameko "
             "ServiceContainer (max_workers 10, OUTBOX_POLL_SECONDS 0.2, relay on), one "
             "cluster_rpc caller (actor operator:bench). RabbitMQ vhost of its own with "
             f"{EXCHANGE} (topic, durable) and the durable queue {SINK} bound with '#'; "
             f"database {self.database} dropped, created, migrated (gonghui.migrations.migrate)."),
            ("fill", "directory_units: a company root, ~10 % grassroots units under it, the "
             "rest teams spread over them; one union per unit (company_union / "
             f"grassroots_union / union_group); {MEMBERS_PER_UNIT} members per unit; chair and "
             "vice_chair per union; one party-committee list (the company) and one grassroots "
             "list per grassroots unit; items: owner units round-robin over all units, ~10 % "
             "(and the company's own) on the party-committee list, the rest on the list of "
             "their grassroots unit; created_on 2021-01-15; planned completion uniform over "
             "1 Mar-28 Dec 2021; focus area and batch uniform over rules.FOCUS_AREAS / "
             f"rules.BATCHES (random.Random({SEED})). All by SQLAlchemy Core executemany in "
             "one transaction, then ANALYZE."),
            ("plan", "Patterns, shuffled: 60 % on_time, 20 % late, 20 % never. For each "
             "period Feb-Dec: due = rules.due_date(period, 25, WorkingCalendar()), reminders "
             "from 3 working days before. on_time items report the day before the reminder "
             f"window, late items {LATE_DAYS} days after the due day (after their overdue "
             "reminder and supervision order, which the report closes), never items never "
             "report and never complete (monthly overdue -> supervision -> escalation up to "
             "the company union). on_time and late items complete on their planned completion "
             "day (~8 % of the items a month, Mar-Dec) and report no more. Each day: the "
             "day's reports, then its completions, then the tick."),
            ("", f"The on_time items' reports of {RPC_PERIOD} (60 % of the items, those still "
             f"open) go through the submit_report RPC ({RPC_WINDOW} in flight), emitting "
             "report_submitted events. Every other report (other months, and the late "
             f"items' {RPC_PERIOD} reports) is inserted by SQL with the due_on/on_time "
             "submit_report would compute, the item's progress updated and the period's "
             "open supervision order closed (closed_by 'report'), as submit_report does, "
             "but without events. Completions are SQL UPDATEs (status completed, "
             "completed_on, progress 100, open orders closed_by 'completion'), as "
             "complete_item does, without events. So the ticks see the same rows as with "
             "RPCs; the event total misses those report/completion events."),
            ("A", "per tick: wall time of the tick RPC as the caller sees it (request publish "
             "to reply, including the worker's commit); cpu = time.process_time() of this "
             "process over the call (service worker + relay + client). The scripted actions "
             "are timed apart. 'events' = growth of max(outbox.id) over the tick."),
            ("B", "outbox rows counted at the end; the relay runs during the whole loop (woken "
             "by each commit), so 'backlog 0' is measured from the last tick's reply until no "
             "row has published_at NULL (polled every 50 ms); 'received' until the sink "
             "queue's message_count (passive queue_declare) reaches the outbox row count."),
            ("C", "ru_maxrss (getrusage, the process's peak RSS since it started, including "
             "fill and setup) read before and after the loop; RSS from /proc/self/statm after "
             "every tick. tracemalloc only with --tracemalloc (the whole loop)."
             " Database size: pg_database_size, pg_total_relation_size per table."),
            ("D", f"export_ledger(year={YEAR}, details=False) by RPC (the items sheet; "
                  "bench/ledger_export.py adds the detail sheets): wall time of the call, "
                  "size of the "
             "decoded xlsx; ru_maxrss and RSS before/after; then a second export under "
             "tracemalloc (peak of traced Python allocations above the start, in every "
             f"greenthread of the process). ledger(limit={a.items}) is tried as asked "
             "(Page allows at most 5000), then the ledger is read in pages of 5000."),
        ]


def profile_rows(profiler, top):
    """The functions with the most own time, and the project's functions by cumulative
    time."""
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    rows = []
    entries = stats.stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(v[2] for v in entries.values()) or 1

    def where(key):
        path, line, name = key
        for marker in ("/work/main/", "site-packages/"):
            if marker in path:
                path = path.split(marker, 1)[1]
        return f"{path}:{line}({name})"

    rows.append(f"own time (tottime), total {total:.2f} s:")
    for key, (_, calls, tt, ct, _) in sorted(entries.items(), key=lambda kv: -kv[1][2])[:top]:
        rows.append(f"  {tt:7.3f} s {ct:7.3f} cum {calls:8d} calls  {where(key)}")
    rows.append("project functions by cumulative time:")
    ours = [(k, v) for k, v in entries.items()
            if "/work/main/" in k[0] and "/.venv/" not in k[0]]
    for key, (_, calls, tt, ct, _) in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        rows.append(f"  {ct:7.3f} s cum {tt:7.3f} own {calls:8d} calls  {where(key)}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000, help="units (and unions)")
    parser.add_argument("--items", type=int, default=10000, help="deed items")
    parser.add_argument("--days", type=int, default=365, help="days of 2021 from 1 January")
    parser.add_argument("--database", default=BENCH_DB,
                        help="database to drop, create and fill (default %(default)s)")
    parser.add_argument("--force", action="store_true",
                        help="drop the database even while other sessions use it")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace Python allocations over the whole tick loop (slow)")
    parser.add_argument("--profile-days", default="",
                        help="comma-separated ISO days whose tick runs under cProfile")
    parser.add_argument("--profile-reports", action="store_true",
                        help="cProfile the first window of submit_report RPCs")
    parser.add_argument("--profile-export", action="store_true",
                        help="cProfile a third export_ledger RPC")
    parser.add_argument("--profile-top", type=int, default=18, help="rows per profile table")
    parser.add_argument("--slowest", type=int, default=12, help="slowest days to list")
    args = parser.parse_args()
    if args.units < 2 or args.items < 1 or not 1 <= args.days <= 365:
        parser.error("need --units >= 2, --items >= 1, 1 <= --days <= 365")
    started = time.monotonic()

    def terminated(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")  # so that teardown runs

    signal.signal(signal.SIGTERM, terminated)
    bench = Bench(args)
    bench.load_start = loadavg()
    bench.others_start = other_python_processes()
    try:
        bench.setup()
        log("setup done; filling")
        bench.fill()
        log(f"filled in {bench.figures['fill']['seconds']:.1f} s; starting DeedsService")
        bench.start_service()
        with cluster_rpc(bench.amqp_uri, actor=ACTOR, timeout=RPC_TIMEOUT) as proxy:
            bench.year(proxy)
            y = bench.figures["year"]
            log(f"year done: ticks {y['tick_seconds']:.1f} s; ledger")
            bench.ledger(proxy)
        bench.database_figures()
        bench.report(started)
    finally:
        bench.teardown()


if __name__ == "__main__":
    main()
