"""The gateway's cost over HTTP: a read and a write through the gateway, beside the same work
as a direct RPC and a bare nameko ``@http`` hello, at 1 and 50 concurrent clients, in one run.

Run from the repository root::

    .venv/bin/python bench/gateway_http.py [--duration 8] [--repeats 2] [--clients 1,50]
        [--warmup 2] [--max-rate 1500]

The stack is started as operators start it (``deploy.runner.Runner``: organization,
activities and the gateway, each its own ``nameko run`` process with its own broker user and
database role), in its own vhost, users, databases and ports (all removed at the end, also on
failure); the demo union (``deploy.demo.organization.load_demo``) is its data. A bare hello
(``HelloService`` below: one nameko ``@http`` GET answering "hello", same ``max_workers``) runs
as a fourth ``nameko run`` process. Sessions are opened directly in the gateway's database
(``services.gateway.accounts``), as a login would leave them.

- read: ``GET /api/v1/coverage`` as the chair of 机关工会 (XN0007) by session cookie: the
  gateway fills ``unit_id`` with their union's unit and calls ``organization.coverage_report``.
  Direct: ``organization.coverage_report(unit_id=...)`` with the actor ``officer:XN0007``.
  The same again with a session per client (the officer logged in 50 times): a read by
  session writes the session's row (its idle expiry slides), so clients sharing one
  session wait on each other's row lock.
- write: ``POST /api/v1/activities/<id>/signups`` (body ``{}``) as a member by session cookie
  and CSRF header: ``activities.sign_up``. Every sign-up is a new one: fresh activities for
  each measurement (all staff, no capacity), member i's j-th sign-up is activity
  ``(i + j) mod A`` (no two members at the same step wait on one activity's row lock).
  Direct: ``activities.sign_up(activity_id, member_id)`` with the actor ``member:<工号>``.
- hello: ``GET /hello`` of the bare service.
- me: ``GET /api/v1/me`` as the same officer: the gateway's own route (the session, the
  person's offices from the read model, the commit, JSON), no RPC: the gateway's floor.

HTTP load: wrk (``-t 1`` for 1 client, ``-t 2`` otherwise, ``--timeout 10s``, the gateway's
RPC timeout) with ``bench/gateway_http.lua`` (sign-ups from a file, status counts, percentiles
as JSON). RPC load: greenthreads in this process, each caller with its own
``gonghui.rpc_client.cluster_rpc`` proxies (one per actor), calling back to back for the same
duration. See bench/GATEWAY.md.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket/threading: nameko needs it

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script

import requests  # noqa: E402
from eventlet.queue import LightQueue  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from deploy import infra, postgres, runner  # noqa: E402
from deploy.demo.organization import load_demo  # noqa: E402
from deploy.services import SERVICES  # noqa: E402
from gonghui.clock import today  # noqa: E402
from gonghui.rpc_client import cluster_rpc  # noqa: E402
from services.gateway import accounts  # noqa: E402
from tests.stack.test_stack_up import free_port_offset  # noqa: E402
from tests.support.gateway import wait_for_read_models  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

STACK = ("organization", "activities", "gateway")
OFFICER = "XN0007"  # chair of 机关工会 (XNY-JG), as in deploy/demo/accounts.py
OFFICER_UNIT = "XNY-JG"
ORGANISER_UNIT = "XNY"  # the company: its all-staff activities are open to every member
LUA = ROOT / "bench" / "gateway_http.lua"
WRK_TIMEOUT = "10s"  # = the gateway's RPC_TIMEOUT (deploy/nameko.yaml)
RPC_TIMEOUT = 10


class HelloService:
    """The bare baseline: nameko's own ``@http``, nothing of the kit."""

    name = "benchhello"

    @http("GET", "/hello")
    def hello(self, request):
        return "hello"


def log(message):
    print(message, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Where a sample of the gateway's CPU is spent: the first of these its innermost frames
# belongs to (py-spy's raw stacks), in this order.
PROFILE_CATEGORIES = [
    ("database: SQLAlchemy", ("sqlalchemy/",)),
    ("database: psycopg2", ("psycopg2", "eventlet/support/psycopg2_patcher")),
    ("RPC client: nameko rpc, kombu, amqp", ("nameko/rpc.py", "kombu/", "amqp/")),
    ("HTTP: eventlet.wsgi, werkzeug, nameko.web", ("eventlet/wsgi.py", "werkzeug/",
                                                  "nameko/web/")),
    ("JSON, marshmallow", ("json/", "marshmallow/")),
    ("eventlet hub and green I/O", ("eventlet/",)),
    ("nameko containers and workers", ("nameko/",)),
    ("the gateway's own code", ("services/gateway/",)),
    ("the kit (gonghui/)", ("gonghui/",)),
]


def profile_summary(raw_path, seconds, rate, top=12):
    """The gateway's CPU samples by library (innermost known frame) and the heaviest of our
    own functions (every sample under them), from py-spy's ``--format raw`` output."""
    stacks = []
    for line in Path(raw_path).read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    total = sum(count for _, count in stacks) or 1
    by_category, under = {}, {}
    for frames, count in stacks:
        category = "other (the standard library, C)"
        for frame in reversed(frames):
            found = next((name for name, marks in PROFILE_CATEGORIES
                          if any(mark in frame for mark in marks)), None)
            if found:
                category = found
                break
        by_category[category] = by_category.get(category, 0) + count
        for frame in {f.split(" (")[0] + " " + f.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
                      for f in frames if "services/gateway/" in f or "gonghui/" in f}:
            under[frame] = under.get(frame, 0) + count
    lines = [f"  {total} samples in {seconds} s at {rate}/s: the gateway busy "
             f"{total / (seconds * rate) * 100:.0f} % of the time (on CPU, py-spy without "
             f"--idle)"]
    for name, count in sorted(by_category.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {count / total * 100:5.1f} %  {name}")
    lines.append("  heaviest functions of the gateway and the kit (samples under them):")
    for name, count in sorted(under.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {count / total * 100:5.1f} %  {name}")
    return lines


def percentile(values, pct):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.tag = secrets.token_hex(3)
        self.home = Path(tempfile.mkdtemp(prefix="gonghui-bench-gw-"))
        self.runner = runner.Runner(
            home=self.home, vhost=f"bench-gw-{self.tag}", user_prefix=f"benchgw{self.tag}-",
            db_prefix=f"benchgw{self.tag}_", http_port_offset=free_port_offset(),
            stop_timeout=20)
        self.hello_proc = None
        self.proxies = {}  # (caller, actor) -> an open cluster_rpc proxy
        self.closers = []
        self.results = []  # dicts: endpoint, path (gateway/direct/bare), clients, repeat, ...
        self.activity_count = 0

    # -------------------------------------------------------------- setup / teardown

    def setup(self):
        log(f"starting {', '.join(STACK)} (runner, home {self.home}) ...")
        # Creating a vhost can take longer than the runner's broker setup waits (30 s) while
        # other suites create and delete theirs: made here first, with patience.
        self.broker_call("PUT", f"vhosts/{quote(self.runner.vhost, safe='')}")
        started = self.runner.start(list(STACK), timeout=180)
        self.gateway_url = started["services"]["gateway"]["url"]
        self.pids = {name: info["pid"] for name, info in started["services"].items()}
        self.pids["bench"] = os.getpid()  # the direct RPC callers
        self.amqp_uri = self.runner.operator_amqp_uri()
        self.start_hello()
        gateway_db = make_url(infra.PG_ADMIN_URL).set(
            database=f"gonghui_{self.runner.database_service('gateway')}")
        self.gateway_engine = create_engine(gateway_db)
        log("loading the demo union ...")
        with cluster_rpc(self.amqp_uri, actor="operator:bench", timeout=60) as proxy:
            load_demo(proxy)
            wait_for_read_models(proxy, ["gateway", "activities"], timeout=120)
            units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
            members = proxy.organization.list_members(limit=5000)
        self.units = units
        self.members = [m for m in members if not m.get("left_on")]
        self.officer_cookie, _ = self.open_session(OFFICER)
        # The same officer logged in once per client (as many officers would be): no two
        # requests in flight share a session row.
        self.officer_sessions = [self.open_session(OFFICER)
                                 for _ in range(max(self.args.clients))]
        self.member_sessions = {m["id"]: self.open_session(m["employee_no"])
                                for m in self.members}
        log(f"{len(self.members)} members with sessions; officer {OFFICER} of "
            f"{OFFICER_UNIT} (unit {units[OFFICER_UNIT]})")

    def start_hello(self):
        port = free_port()
        config = self.home / "hello.yaml"
        config.write_text(f"AMQP_URI: '{self.amqp_uri}'\nWEB_SERVER_ADDRESS: "
                          f"'127.0.0.1:{port}'\nmax_workers: 10\n")
        self.hello_url = f"http://127.0.0.1:{port}/hello"
        self.hello_log = open(self.home / "hello.log", "ab")  # noqa: SIM115 - closed in teardown
        self.hello_proc = subprocess.Popen(
            runner.nameko_command() + ["run", "--config", str(config), "gateway_http:HelloService"],
            cwd=ROOT, stdout=self.hello_log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}"})
        self.pids["hello"] = self.hello_proc.pid
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.hello_url, timeout=1).text == "hello":
                    return
            except requests.RequestException:
                pass
            if self.hello_proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hello service did not start: see {self.home}/hello.log")
            time.sleep(0.2)

    @staticmethod
    def broker_call(method, path, attempts=4):
        """A management API call that may wait minutes on a busy broker (a vhost's creation
        or deletion; the management API gives up after 60 s, the broker carries on): retried
        until it is done (both are idempotent)."""
        url = f"{infra.RABBIT_API}/{path}"
        for attempt in range(attempts):
            try:
                response = requests.request(method, url, auth=infra.RABBIT_ADMIN, timeout=120)
            except (requests.Timeout, requests.ConnectionError) as exc:
                log(f"{method} {path}: {type(exc).__name__} (attempt {attempt + 1})")
                time.sleep(10)
                exists = requests.get(url, auth=infra.RABBIT_ADMIN, timeout=60).ok
                if exists == (method == "PUT"):
                    return
                continue
            if response.status_code in (200, 201, 204, 404):
                return
            response.raise_for_status()
        raise RuntimeError(f"{method} {path}: the broker did not answer")

    def open_session(self, employee_no):
        """(cookie, csrf token) of a new session of the person, as a login leaves it."""
        with Session(self.gateway_engine) as db:
            account = accounts.account_for(db, employee_no, create=True)
            opened = accounts.open_session(db, account, "127.0.0.1")
            db.commit()
        return opened.cookie, opened.csrf_token

    def teardown(self):
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # noqa: BLE001 - the broker may have gone first
                pass
        if self.hello_proc is not None:
            self.hello_proc.terminate()
            try:
                self.hello_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.hello_proc.kill()
            self.hello_log.close()
        if getattr(self, "gateway_engine", None) is not None:
            self.gateway_engine.dispose()
        users = [self.runner.user_prefix + u for u in
                 [s.amqp_user for s in SERVICES] + ["operator", "downstream"]]
        steps = [self.runner.stop]
        steps += [lambda path=path: self.broker_call("DELETE", path) for path in
                  [f"vhosts/{quote(self.runner.vhost, safe='')}"]
                  + [f"users/{quote(user, safe='')}" for user in users]]
        steps += [lambda name=name: postgres.drop_service_database(
            infra.PG_ADMIN_URL, self.runner.database_service(name)) for name in STACK]
        failed = []
        for step in steps:  # each one even when another failed (the broker may be gone)
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - reported below
                failed.append(f"{type(exc).__name__}: {exc}")
        shutil.rmtree(self.home, ignore_errors=True)
        if failed:
            log(f"cleaning up left something behind (vhost {self.runner.vhost}, prefix "
                f"{self.runner.user_prefix}):\n  " + "\n  ".join(failed))

    # -------------------------------------------------------------- data for the writes

    def proxy(self, caller, actor):
        """An open proxy of one caller acting as ``actor`` (never shared between callers)."""
        key = (caller, actor)
        if key not in self.proxies:
            context = cluster_rpc(self.amqp_uri, actor=actor, timeout=RPC_TIMEOUT)
            self.proxies[key] = context.__enter__()
            self.closers.append(lambda: context.__exit__(None, None, None))
        return self.proxies[key]

    def fresh_activities(self, signups_wanted):
        """Enough new all-staff activities without capacity for ``signups_wanted`` new
        sign-ups spread over every member."""
        count = max(2, math.ceil(signups_wanted / len(self.members)) + 1)
        day = today() + timedelta(days=30)
        pool = eventlet.GreenPool(10)
        idle = LightQueue()  # ten scheduling proxies, each used by one greenthread at a time
        for number in range(10):
            idle.put(self.proxy(f"scheduler-{number}", "operator:bench"))

        def schedule(index):
            proxy = idle.get()
            try:
                return proxy.activities.schedule_activity(
                    kind="lecture", name=f"压测讲座 {self.activity_count + index}",
                    organiser_unit_id=self.units[ORGANISER_UNIT],
                    starts_at=f"{day}T14:00:00+08:00", ends_at=f"{day}T16:00:00+08:00",
                    audience="all_staff")["id"]
            finally:
                idle.put(proxy)

        ids = list(pool.imap(schedule, range(count)))
        self.activity_count += count
        return ids

    def signup_order(self, activities):
        """Every (activity, member index) pair once: member i's j-th sign-up is activity
        (i + j) mod A, members taking turns."""
        for step in range(len(activities)):
            for index in range(len(self.members)):
                yield activities[(index + step) % len(activities)], index

    # -------------------------------------------------------------- HTTP load (wrk)

    def wrk(self, url, clients, duration, headers=(), requests_file=None, mode="once"):
        threads = 1 if clients == 1 else 2
        command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{duration}s",
                   "--timeout", WRK_TIMEOUT, "-s", str(LUA)]
        for header in headers:
            command += ["-H", header]
        command.append(url)
        if requests_file is not None:
            command += ["--", str(requests_file), str(threads), mode]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120,
                              cwd=ROOT)
        found = [line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")]
        if done.returncode != 0 or not found:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        figures = json.loads(found[0].removeprefix("WRK_JSON "))
        why = [line for line in done.stdout.splitlines() if line.startswith("WRK_ERROR_BODY ")]
        seconds = figures["duration_us"] / 1e6
        errors = (figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
                  + figures["non_2xx_3xx"] + figures["exhausted"])
        return {"rate": figures["requests"] / seconds, "p50": figures["p50_us"] / 1000,
                "p99": figures["p99_us"] / 1000, "requests": figures["requests"],
                "errors": errors, "statuses": figures["statuses"],
                "why": why[0].removeprefix("WRK_ERROR_BODY ") if why else ""}

    def http_load(self, endpoint, clients, duration, activities):
        if endpoint == "hello":
            return self.wrk(self.hello_url, clients, duration)
        cookie_of = f"Cookie: gonghui_session={self.officer_cookie}"
        if endpoint in ("read", "me"):
            path = "/api/v1/coverage" if endpoint == "read" else "/api/v1/me"
            return self.wrk(f"{self.gateway_url}{path}", clients, duration,
                            headers=[cookie_of])
        path = self.home / "requests.txt"
        if endpoint == "read-sessions":
            with open(path, "w") as out:
                for cookie, csrf in self.officer_sessions:
                    out.write(f"GET /api/v1/coverage {cookie} {csrf}\n")
            return self.wrk(self.gateway_url, clients, duration, requests_file=path,
                            mode="cycle")
        with open(path, "w") as out:
            for activity, index in self.signup_order(activities):
                cookie, csrf = self.member_sessions[self.members[index]["id"]]
                out.write(f"POST /api/v1/activities/{activity}/signups {cookie} {csrf}\n")
        return self.wrk(self.gateway_url, clients, duration, requests_file=path)

    # -------------------------------------------------------------- direct RPC load

    def rpc_load(self, endpoint, clients, duration, activities):
        latencies, failures = [], []
        steps = {}  # member index -> sign-ups made this measurement

        def caller(number):
            mine = list(range(number, len(self.members), clients))
            turn = 0
            while time.perf_counter() < deadline:
                if endpoint == "read":
                    method = self.proxy(f"reader-{number}",
                                        f"officer:{OFFICER}").organization.coverage_report
                    arguments = {"unit_id": self.units[OFFICER_UNIT]}
                else:
                    index = mine[turn % len(mine)]
                    turn += 1
                    step = steps.get(index, 0)
                    if step >= len(activities):
                        failures.append("ran out of fresh sign-ups")
                        return
                    steps[index] = step + 1
                    member = self.members[index]
                    method = self.proxy(f"member-{index}",
                                        f"member:{member['employee_no']}").activities.sign_up
                    arguments = {"activity_id": activities[(index + step) % len(activities)],
                                 "member_id": member["id"]}
                t0 = time.perf_counter()
                try:
                    method(**arguments)
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - t0)

        # Open the proxies first (not part of the figure).
        for number in range(clients):
            if endpoint == "read":
                self.proxy(f"reader-{number}", f"officer:{OFFICER}")
        if endpoint == "write":
            for index, member in enumerate(self.members):
                self.proxy(f"member-{index}", f"member:{member['employee_no']}")
        started = time.perf_counter()
        deadline = started + duration
        pool = eventlet.GreenPool(clients)
        for number in range(min(clients, len(self.members)) if endpoint == "write"
                            else clients):
            pool.spawn(caller, number)
        pool.waitall()
        elapsed = time.perf_counter() - started
        if not latencies:
            raise RuntimeError(f"no call succeeded: {failures[:3]}")
        return {"rate": len(latencies) / elapsed, "p50": percentile(latencies, 50) * 1000,
                "p99": percentile(latencies, 99) * 1000, "requests": len(latencies),
                "errors": len(failures), "statuses": {},
                "why": failures[0] if failures else ""}

    # -------------------------------------------------------------- the run

    def measure(self, endpoint, path, clients, duration):
        """The figures of one measurement, with the CPU time each of our processes (and
        wrk) spent meanwhile, per request."""
        activities = None
        if endpoint == "write":
            activities = self.fresh_activities(self.args.max_rate * duration)
        before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        children = os.times()
        if path == "direct":
            figures = self.rpc_load(endpoint, clients, duration, activities)
        else:
            figures = self.http_load(endpoint, clients, duration, activities)
        after = os.times()
        spent = {name: cpu_seconds(pid) - before[name] for name, pid in self.pids.items()}
        spent["wrk"] = (after.children_user + after.children_system
                        - children.children_user - children.children_system)
        figures["cpu_ms"] = {name: seconds * 1000 / max(1, figures["requests"])
                             for name, seconds in spent.items()}
        figures["load"] = os.getloadavg()[0]  # the machine is shared: how busy it was
        return figures

    def plan(self):
        rows = [("hello", "bare"), ("me", "gateway")]
        for endpoint in ("read", "write"):
            rows += [(endpoint, "direct"), (endpoint, "gateway")]
        rows.insert(4, ("read-sessions", "gateway"))
        return rows

    def run(self):
        a = self.args
        log(f"warm-up: {a.warmup} s each at {max(a.clients)} clients ...")
        for endpoint, path in self.plan():
            if a.warmup:
                self.measure(endpoint, path, max(a.clients), a.warmup)
        for repeat in range(1, a.repeats + 1):
            for clients in a.clients:
                for endpoint, path in self.plan():
                    figures = self.measure(endpoint, path, clients, a.duration)
                    figures.update(endpoint=endpoint, path=path, clients=clients,
                                   repeat=repeat)
                    self.results.append(figures)
                    log(f"run {repeat}: {endpoint:<5} {path:<7} {clients:>3} clients: "
                        f"{figures['rate']:7.1f}/s p50 {figures['p50']:6.2f} ms p99 "
                        f"{figures['p99']:7.2f} ms errors {figures['errors']}"
                        + (f" ({figures['why'][:200]})" if figures["why"] else ""))

    def table_counters(self):
        """Scans and updated rows per table of the gateway's database, and its commits."""
        with self.gateway_engine.connect() as conn:
            tables = {row.relname: (row.scans, row.updated) for row in conn.execute(text(
                "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans, "
                "n_tup_upd AS updated FROM pg_stat_user_tables"))}
            commits = conn.scalar(text("SELECT xact_commit FROM pg_stat_database "
                                       "WHERE datname = current_database()"))
        return tables, commits

    def database_work(self, seconds=5):
        """What the gateway asks of its own database per request, at 1 client: table scans
        (each a statement reading that table, or one side of a join) and updated rows, from
        PostgreSQL's statistics before and after a wrk run. A backend sends its counters at
        most once a second and all of them together, so a window's edges shift but its
        ratios hold: the figures are per account lookup, which every request makes exactly
        once (``accounts.session_account``)."""
        lines = ["the gateway's own database per request, at 1 client (pg_stat_user_tables "
                 "and pg_stat_database of its database, per account lookup = per request; "
                 "scans = seq + index scans)"]
        for endpoint in ("me", "read", "write"):
            activities = (self.fresh_activities(self.args.max_rate * seconds)
                          if endpoint == "write" else None)
            time.sleep(1.5)
            tables, commits = self.table_counters()
            figures = self.http_load(endpoint, 1, seconds, activities)
            time.sleep(1.5)
            after, commits_after = self.table_counters()
            lookups = after["accounts"][0] - tables["accounts"][0]
            if lookups <= 0:
                lines.append(f"  {endpoint:<5}: no statistics arrived")
                continue
            used = {name: ((after[name][0] - scans) / lookups, (after[name][1] - upd) / lookups)
                    for name, (scans, upd) in tables.items() if after[name] != (scans, upd)}
            lines.append(f"  {endpoint:<5} ({figures['requests']} requests, {lookups} counted): "
                         f"{(commits_after - commits) / lookups:.2f} commits; " + ", ".join(
                             f"{name} {scans:.2f} scans" + (f" {upd:.2f} updated" if upd else "")
                             for name, (scans, upd) in sorted(used.items())))
        return lines

    def profile(self, seconds, rate=250):
        """py-spy on the gateway while wrk loads it, per endpoint and number of clients."""
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        lines = ["where the gateway's CPU goes (py-spy record --format raw on its process "
                 "while wrk runs)"]
        for endpoint in ("read", "write"):
            for clients in self.args.clients:
                activities = (self.fresh_activities(self.args.max_rate * seconds)
                              if endpoint == "write" else None)
                raw = self.home / f"profile-{endpoint}-{clients}.txt"
                recorder = subprocess.Popen(
                    [spy, "record", "--pid", str(self.pids["gateway"]), "--duration",
                     str(seconds), "--rate", str(rate), "--format", "raw", "--output",
                     str(raw), "--nonblocking"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE)
                time.sleep(0.5)  # py-spy attaches
                figures = self.http_load(endpoint, clients, seconds, activities)
                _, problems = recorder.communicate(timeout=seconds + 60)
                if recorder.returncode != 0 or not raw.exists():
                    raise RuntimeError(f"py-spy failed: {problems.decode()[-1000:]}")
                lines.append(f"{endpoint} at {clients} client(s): {figures['rate']:.1f}/s, "
                             f"p50 {figures['p50']:.2f} ms, {figures['errors']} errors")
                lines += profile_summary(raw, seconds, rate)
        return lines

    # -------------------------------------------------------------- the report

    def machine(self):
        """What the figures were measured on, as lines of the report."""
        with self.gateway_engine.connect() as conn:
            postgres_version = conn.scalar(text("SHOW server_version"))
        broker_version = requests.get(f"{infra.RABBIT_API}/overview", auth=infra.RABBIT_ADMIN,
                                      timeout=10).json().get("rabbitmq_version")
        wrk_version = subprocess.run(["wrk", "--version"], capture_output=True,
                                     text=True).stdout.split(" [")[0]
        libraries = [f"{name} {metadata.version(name)}" for name in (
            "nameko", "eventlet", "kombu", "SQLAlchemy", "psycopg2-binary", "werkzeug")]
        cores = f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)"
        return [f"machine: {cores}, {platform.machine()}, {platform.system()} "
                f"{platform.release()}; python {platform.python_version()}",
                "libraries: " + ", ".join(libraries),
                f"RabbitMQ {broker_version}, PostgreSQL {postgres_version}, {wrk_version}; "
                f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]

    def report(self, started):
        a = self.args
        lines = ["", "Gonghui bench: the gateway over HTTP against direct RPC and a bare @http",
                 ""]
        lines += self.machine()
        lines.append(f"run: --duration {a.duration} --repeats {a.repeats} --clients "
                     f"{','.join(map(str, a.clients))} --warmup {a.warmup} --max-rate "
                     f"{a.max_rate}; {len(self.members)} members, {self.activity_count} "
                     f"activities scheduled")
        lines.append("")
        labels = {("hello", "bare"): "bare @http GET /hello",
                  ("me", "gateway"): "gateway alone: GET /api/v1/me (no RPC)",
                  ("read", "direct"): "read: RPC organization.coverage_report",
                  ("read", "gateway"): "read: GET /api/v1/coverage",
                  ("read-sessions", "gateway"): "  the same, a session per client",
                  ("write", "direct"): "write: RPC activities.sign_up",
                  ("write", "gateway"): "write: POST /api/v1/activities/<id>/signups"}
        lines.append(f"{'what':<44} {'clients':>7} {'run':>3} {'req/s':>8} {'p50 ms':>8} "
                     f"{'p99 ms':>8} {'errors':>6} {'load':>5}")
        lines.append("-" * 96)
        for clients in a.clients:
            for key in self.plan():
                for r in self.rows(key, clients):
                    lines.append(f"{labels[key]:<44} {clients:>7} {r['repeat']:>3} "
                                 f"{r['rate']:>8.1f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
                                 f"{r['errors']:>6} {r['load']:>5.1f}")
            lines.append("")
        lines += self.cpu_table(labels)
        lines += self.goal()
        lines.append("")
        lines.append(f"total {time.monotonic() - started:.0f} s; load average at end "
                     + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        return "\n".join(lines)

    def cpu_table(self, labels):
        """CPU time per request of each process, the mean of the runs."""
        names = ("gateway", "organization", "activities", "hello", "bench", "wrk")
        lines = ["CPU ms per request, by process (mean of the runs; bench = this process, "
                 "the direct RPC callers)",
                 f"{'what':<44} {'clients':>7} " + " ".join(f"{n[:8]:>8}" for n in names),
                 "-" * 105]
        for clients in self.args.clients:
            for key in self.plan():
                runs = self.rows(key, clients)
                lines.append(f"{labels[key]:<44} {clients:>7} " + " ".join(
                    f"{sum(r['cpu_ms'][n] for r in runs) / len(runs):>8.2f}" for n in names))
        return lines + [""]

    def rows(self, key, clients):
        return [r for r in self.results if (r["endpoint"], r["path"]) == key
                and r["clients"] == clients]

    def goal(self):
        lines = ["goal: the gateway adds at most 50 % over the direct RPC's latency at 1 "
                 "client; 50 clients see no errors"]
        few, many = min(self.args.clients), max(self.args.clients)
        met = True
        for endpoint in ("read", "write"):
            for stat in ("p50", "p99"):
                pairs = zip(self.rows((endpoint, "direct"), few),
                            self.rows((endpoint, "gateway"), few), strict=True)
                added = [(g[stat] - d[stat]) / d[stat] * 100 for d, g in pairs]
                extra = [g[stat] - d[stat] for d, g in zip(
                    self.rows((endpoint, "direct"), few), self.rows((endpoint, "gateway"), few),
                    strict=True)]
                lines.append(f"  {endpoint:<5} at {few} client, {stat}: gateway adds "
                             + ", ".join(f"{p:+.0f} % ({e:+.2f} ms)" for p, e in
                                         zip(added, extra, strict=True))
                             + (" (goal: <= +50 %)" if stat == "p50" else ""))
                if stat == "p50":
                    met = met and max(added) <= 50
            errors = sum(r["errors"] for r in self.rows((endpoint, "gateway"), many))
            lines.append(f"  {endpoint:<5} at {many} clients through the gateway: {errors} "
                         f"errors")
            met = met and errors == 0
        lines.append(f"  goal {'met' if met else 'MISSED'} in this run")
        return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="runs of every measurement")
    parser.add_argument("--clients", default="1,50", help="concurrent clients, comma separated")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of each endpoint before measuring (0: none)")
    parser.add_argument("--max-rate", type=int, default=1500,
                        help="sign-ups per second prepared for (fresh activities per "
                             "measurement)")
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS",
                        help="then sample the gateway with py-spy (not a dependency: "
                             "pip install py-spy) under each load for SECONDS")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        bench.run()
        print(bench.report(started), flush=True)
        print("\n" + "\n".join(bench.database_work()), flush=True)
        if args.profile:
            print("\n" + "\n".join(bench.profile(args.profile)), flush=True)
    finally:
        bench.teardown()


if __name__ == "__main__":
    main()
