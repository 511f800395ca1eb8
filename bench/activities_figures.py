"""The activities figures over a large union: 1,000 units, 100,000 members, 1,000,000
attendance rows — time per query under several index choices, and through RPC.

Run from the repository root::

    .venv/bin/python bench/activities_figures.py [--repeat 5] [--attendance 1000000] [--no-rpc]

The database ``gonghui_bench_activities`` is dropped (``WITH (FORCE)``), re-created and
migrated as the activities service's, filled with COPY (deterministic: ``random.seed(7)``),
VACUUM ANALYZEd, and left behind. Each query is what ``activities.figures`` runs
(``services.activities.figures.figures``, all its statements in one transaction), timed in
this process with a SQLAlchemy session; each index variant is built, analyzed, then every
query runs once to warm the cache and ``--repeat`` times timed. Then, with the migration's
indexes, the same queries through a nameko ``ActivitiesService`` container over RPC (a fresh
vhost ``bench_<random>``, deleted at the end). See bench/ACTIVITIES.md.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket/threading: nameko needs it

import argparse  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import psycopg2  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from deploy import infra  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.migrations import migrate  # noqa: E402
from services.activities import figures as figures_module  # noqa: E402

BENCH_DB = "gonghui_bench_activities"
YEARS = (2024, 2025)
KINDS = {"health": ["lecture", "womens_health", "charity_visit", "checkup"],
         "fitness": ["match", "fitness_event"], "reading": ["reading_session"]}

# Index variants of the attendance table (participations keep the migration's indexes).
MIGRATION_INDEXES = {
    "ix_attendance_organiser_period":
        "(organiser_unit_id, held_on) INCLUDE (campaign_id, kind, activity_id, member_id)",
    "ix_attendance_member_unit_period": "(member_unit_id, held_on) INCLUDE (member_id)",
}
VARIANTS = {
    "none (primary key and unique (activity_id, member_id) only)": {},
    "period first, covering": {
        "bench_attendance_period_organiser":
            "(held_on, organiser_unit_id) INCLUDE (campaign_id, kind, activity_id, member_id)",
        "bench_attendance_period_member_unit": "(held_on, member_unit_id) INCLUDE (member_id)",
    },
    "period first, not covering": {
        "bench_attendance_period_organiser_plain": "(held_on, organiser_unit_id)",
        "bench_attendance_period_member_unit_plain": "(held_on, member_unit_id)",
    },
    "unit first, covering (the migration's)": MIGRATION_INDEXES,
}


def log(message):
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the data set


class Tree:
    """1 company, 24 grassroots units, 4 workshops each, 879 teams under the workshops."""

    def __init__(self):
        self.parent = {1: None}
        self.level = {1: "company"}
        next_id = 2
        grassroots = list(range(next_id, next_id + 24))
        for unit in grassroots:
            self.parent[unit], self.level[unit] = 1, "grassroots"
        next_id += 24
        workshops = []
        for unit in grassroots:
            for _ in range(4):
                self.parent[next_id], self.level[next_id] = unit, "workshop"
                workshops.append(next_id)
                next_id += 1
        for index in range(1000 - next_id + 1):
            self.parent[next_id] = workshops[index % len(workshops)]
            self.level[next_id] = "team"
            next_id += 1
        self.units = sorted(self.parent)
        self.grassroots, self.workshops = grassroots, workshops
        self.teams = [u for u in self.units if self.level[u] == "team"]

    def ancestors(self, unit):
        chain = []
        while unit is not None:
            chain.append(unit)
            unit = self.parent[unit]
        return chain


def copy(conn, table, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join("" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    with conn.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)",
                           buffer)


def working_days(year):
    day, days = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def fill(engine, tree, members_total, attendance_total):
    rng = random.Random(7)
    stamp = "2026-01-01T00:00:00+00"
    members = {}
    for member_id in range(1, members_total + 1):
        members[member_id] = tree.units[rng.randrange(len(tree.units))]
    in_subtree = {u: [] for u in tree.units}
    for member_id, unit in members.items():
        for above in tree.ancestors(unit):
            in_subtree[above].append(member_id)
    # COPY refuses to run while eventlet's wait callback is set (it makes psycopg2
    # asynchronous): nothing else runs during the fill, so it is unset meanwhile.
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    url = engine.url
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username,
                            password=url.password, dbname=url.database)
    try:
        copy(conn, "directory_units", ["unit_id", "code", "name", "kind", "parent_id",
                                       "established_on", "info_at", "name_at", "parent_at"],
             ((u, f"U{u:04d}", f"单位{u}", "team" if tree.level[u] == "team" else "plant",
               tree.parent[u], "2010-01-01", stamp, stamp, stamp) for u in tree.units))
        copy(conn, "directory_unions", ["union_id", "unit_id", "level", "name",
                                        "established_on", "stamp"],
             ((u, u, {"company": "company_union", "grassroots": "grassroots_union"}.get(
                 tree.level[u], "union_group"), f"工会{u}", "2010-01-01", stamp)
              for u in tree.units if tree.level[u] != "team"))
        copy(conn, "directory_members", ["member_id", "employee_no", "name", "gender",
                                         "unit_id", "joined_on", "stamp"],
             ((m, f"E{m:06d}", f"职工{m}", "female" if rng.random() < 0.35 else "male", u,
               "2015-01-01", stamp) for m, u in members.items()))
        campaigns = []
        for year in YEARS:
            for theme in KINDS:
                campaigns.append((len(campaigns) + 1, theme, year))
        copy(conn, "campaigns", ["id", "code", "name", "theme", "year", "organiser_unit_id"],
             ((c, theme, theme, theme, year, 1) for c, theme, year in campaigns))
        copy(conn, "facilities", ["id", "unit_id", "kind", "name", "opened_on", "status"],
             ((f, tree.units[rng.randrange(1000)],
               rng.choice(["sports_venue", "staff_library", "reading_corner",
                           "mobile_bookshelf"]), f"设施{f}",
               date(2023, 1, 1) + timedelta(days=rng.randrange(1000)), "open")
              for f in range(1, 3001)))
        # Activities and their attendance: bigger audiences higher up the tree.
        size = {"company": 150, "grassroots": 60, "workshop": 30, "team": 10}
        organisers = ([1] * 20 + tree.grassroots * 10 + tree.workshops * 5
                      + rng.sample(tree.teams, 300))
        activities, attendance, written = [], [], 0
        activity_id = 0
        while written < attendance_total:
            activity_id += 1
            organiser = organisers[rng.randrange(len(organisers))]
            campaign_id, theme, year = campaigns[rng.randrange(len(campaigns))]
            if rng.random() < 0.1:
                campaign_id = None
            kind = rng.choice(KINDS[theme])
            held_on = date(year, 1, 1) + timedelta(days=rng.randrange(365))
            activities.append((activity_id, campaign_id or "", kind,
                               "mental_health" if kind == "lecture" and rng.random() < 0.3
                               else "", f"活动{activity_id}", organiser,
                               f"{held_on}T09:00:00+08", f"{held_on}T11:00:00+08", held_on,
                               "all_staff", "scheduled", 0))
            pool = in_subtree[organiser]
            count = min(len(pool), max(1, int(rng.gauss(size[tree.level[organiser]],
                                                        size[tree.level[organiser]] / 3))),
                        attendance_total - written)
            for member_id in rng.sample(pool, count):
                attendance.append((activity_id, member_id, members[member_id], organiser,
                                   campaign_id or "", kind, held_on))
            written += count
        copy(conn, "activities", ["id", "campaign_id", "kind", "topic", "name",
                                  "organiser_unit_id", "starts_at", "ends_at", "held_on",
                                  "audience", "status", "next_seq"], activities)
        copy(conn, "attendance", ["activity_id", "member_id", "member_unit_id",
                                  "organiser_unit_id", "campaign_id", "kind", "held_on"],
             attendance)
        # Daily workplace exercise in 50 workshops, 8 of their members a working day.
        schedules = rng.sample(tree.workshops, 50)
        copy(conn, "recurring_schedules", ["id", "unit_id", "kind", "name", "frequency",
                                           "starts_on"],
             ((i + 1, unit, "workplace_exercise", "工间操", "daily", "2024-01-01")
              for i, unit in enumerate(schedules)))
        participations = []
        for i, unit in enumerate(schedules):
            crew = in_subtree[unit]
            for year in YEARS:
                for day in working_days(year):
                    for member_id in rng.sample(crew, min(8, len(crew))):
                        participations.append((i + 1, day, member_id, members[member_id], unit,
                                               "workplace_exercise"))
        copy(conn, "participations", ["schedule_id", "held_on", "member_id", "member_unit_id",
                                      "organiser_unit_id", "kind"], participations)
        copy(conn, "checkups", ["member_id", "year", "checked_on", "provider", "unit_id"],
             ((m, year, date(year, 3, 1) + timedelta(days=rng.randrange(200)), "职工医院", u)
              for year in YEARS for m, u in members.items() if rng.random() < 0.9))
        conn.commit()
    finally:
        conn.close()
        psycopg2.extensions.set_wait_callback(callback)
    return {"units": len(tree.units), "members": len(members), "activities": len(activities),
            "attendance": len(attendance), "participations": len(participations)}


# ------------------------------------------------------------------ the queries


def queries(tree):
    grassroots = tree.grassroots[0]
    workshop = tree.workshops[0]
    team = next(t for t in tree.teams if tree.parent[t] == workshop)
    return [
        ("whole company, one year", 2025, None),
        ("whole company, one quarter", "2025Q2", None),
        ("grassroots subtree (~42 units), one year", 2025, grassroots),
        ("workshop subtree (~10 units), one year", 2025, workshop),
        ("one team, one year", 2025, team),
        ("whole company, two years", "both", None),
    ]


def period(spec):
    if spec == "both":
        return date(YEARS[0], 1, 1), date(YEARS[-1], 12, 31)
    if spec == "2025Q2":
        return date(2025, 4, 1), date(2025, 6, 30)
    return date(spec, 1, 1), date(spec, 12, 31)


def time_query(engine, date_from, date_to, unit_id, repeat, budget=20.0):
    """1 warm-up run, then ``repeat`` timed runs — fewer (at least one) once ``budget``
    seconds are spent, so that the variants without a usable index end in minutes."""
    times, spent = [], 0.0
    for run in range(repeat + 1):  # the first run warms the cache and is not counted
        with Session(engine) as session:
            started = time.perf_counter()
            result = figures_module.figures(session, date_from, date_to, unit_id)
            elapsed = time.perf_counter() - started
        spent += elapsed
        if run:
            times.append(elapsed)
            if spent > budget:
                break
    return times, result


def explain_attendance(engine, date_from, date_to, unit_ids):
    """The plan of the main statement (activities per campaign and kind), first lines."""
    scope = "" if unit_ids is None else " AND organiser_unit_id = ANY(:units)"
    sql = ("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT campaign_id, kind, "
           "count(DISTINCT activity_id), count(DISTINCT member_id), count(*) FROM attendance "
           "WHERE held_on BETWEEN :date_from AND :date_to" + scope +
           " GROUP BY GROUPING SETS ((campaign_id, kind), (campaign_id), ())")
    params = {"date_from": date_from, "date_to": date_to}
    if unit_ids is not None:
        params["units"] = sorted(unit_ids)
    with engine.connect() as conn:
        plan = [r[0] for r in conn.execute(text(sql), params)]
    scans = [line.split(" (actual")[0].strip().lstrip("->").strip() for line in plan
             if "Scan" in line]
    return scans[0] if scans else plan[0].strip()


def set_indexes(engine, wanted):
    every = set(MIGRATION_INDEXES)
    for variant in VARIANTS.values():
        every |= set(variant)
    with engine.begin() as conn:
        for name in every - set(wanted):
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        for name, definition in wanted.items():
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON attendance {definition}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE attendance"))


def rpc_timings(db_url, tree, repeat):
    """The same queries through a nameko ActivitiesService container and a standalone proxy."""
    from nameko.containers import ServiceContainer

    from gonghui.rpc_client import cluster_rpc
    from services.activities.service import ActivitiesService

    api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
    vhost = f"bench_{uuid.uuid4().hex[:10]}"
    requests.put(f"{api}/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{api}/permissions/{vhost}/{auth[0]}", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    uri = f"amqp://{auth[0]}:{auth[1]}@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{vhost}"
    container = ServiceContainer(ActivitiesService, {
        "AMQP_URI": uri, "DATABASE_URL": db_url, "WEB_SERVER_ADDRESS": "127.0.0.1:0",
        "max_workers": 10, "OUTBOX_RELAY": False})
    out = []
    try:
        container.start()
        with cluster_rpc(uri, actor=Actor("operator", "bench"), timeout=120) as proxy:
            for label, spec, unit_id in queries(tree):
                date_from, date_to = period(spec)
                times = []
                for _ in range(repeat + 1):
                    started = time.perf_counter()
                    proxy.activities.figures(date_from=date_from.isoformat(),
                                             date_to=date_to.isoformat(), unit_id=unit_id)
                    times.append(time.perf_counter() - started)
                out.append((label, times[1:]))
    finally:
        container.kill()
        requests.delete(f"{api}/vhosts/{vhost}", auth=auth, timeout=30)
    return out


def ms(seconds):
    return f"{seconds * 1000:8.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--attendance", type=int, default=1_000_000)
    parser.add_argument("--no-rpc", action="store_true", help="skip the RPC measurement")
    args = parser.parse_args()
    started = time.monotonic()
    infra.ensure_infrastructure()
    db_url = make_url(infra.PG_ADMIN_URL).set(database=BENCH_DB).render_as_string(
        hide_password=False)
    admin = create_engine(infra.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
    admin.dispose()
    migrate("activities", db_url)
    engine = create_engine(db_url)
    tree = Tree()
    log("filling the database ...")
    t0 = time.monotonic()
    with engine.begin() as conn:  # loading is faster without the figures' indexes
        for name in MIGRATION_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
    counts = fill(engine, tree, args.members, args.attendance)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        settings = {k: conn.scalar(text(f"SHOW {k}")) for k in (
            "shared_buffers", "work_mem", "max_parallel_workers_per_gather")}
        version = conn.scalar(text("SHOW server_version"))
        size = conn.scalar(text("SELECT pg_size_pretty(pg_total_relation_size('attendance'))"))
    fill_seconds = time.monotonic() - t0
    log(f"filled in {fill_seconds:.0f} s: {counts}")

    results = {}
    for variant, wanted in VARIANTS.items():
        log(f"indexes: {variant}")
        set_indexes(engine, wanted)
        rows = []
        for label, spec, unit_id in queries(tree):
            date_from, date_to = period(spec)
            times, result = time_query(engine, date_from, date_to, unit_id, args.repeat)
            with Session(engine) as session:
                unit_ids = (figures_module.directory.subtree_ids(session, unit_id)
                            if unit_id else None)
            rows.append((label, times, result["totals"]["attendances"],
                         explain_attendance(engine, date_from, date_to, unit_ids)))
        results[variant] = rows
    set_indexes(engine, MIGRATION_INDEXES)  # leave the database as the migration makes it
    rpc = [] if args.no_rpc else rpc_timings(db_url, tree, args.repeat)

    lines = ["Gonghui bench: activities figures over 1,000 units, 100,000 members, "
             "1,000,000 attendance rows", "",
             f"machine: nproc {os.cpu_count()}, {platform.machine()}, "
             f"{platform.system()} {platform.release()}; python {platform.python_version()}",
             f"PostgreSQL {version}; {', '.join(f'{k} {v}' for k, v in settings.items())}",
             f"data: {counts['units']} units (1 company, 24 grassroots, 96 workshops, "
             f"{len(tree.teams)} teams), {counts['members']} members, "
             f"{counts['activities']} activities, {counts['attendance']} attendance rows "
             f"(table with indexes: {size}), {counts['participations']} participation rows, "
             f"3000 facilities; years {YEARS[0]}-{YEARS[-1]}; filled with COPY in "
             f"{fill_seconds:.0f} s",
             f"timing: services.activities.figures.figures() in one session, 1 warm-up + "
             f"{args.repeat} timed runs per query (n: fewer once 20 s are spent); median and "
             "max in ms; rows: attendance rows in scope", ""]
    for variant, rows in results.items():
        lines.append(f"attendance indexes: {variant}")
        lines.append(f"  {'query':<42} {'median':>8} {'max':>8} {'n':>2} {'rows':>7}  "
                     "main statement's scan")
        for label, times, attended, scan in rows:
            lines.append(f"  {label:<42} {ms(statistics.median(times))} {ms(max(times))} "
                         f"{len(times):>2} {attended:>7}  {scan}")
        lines.append("")
    if rpc:
        lines.append("through RPC (ActivitiesService container, standalone proxy, the "
                     "migration's indexes):")
        for label, times in rpc:
            lines.append(f"  {label:<42} {ms(statistics.median(times))} {ms(max(times))} "
                         f"{len(times):>2}")
        lines.append("")
    lines.append(f"total {time.monotonic() - started:.0f} s; load average at end "
                 f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
