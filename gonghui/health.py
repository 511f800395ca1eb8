"""Health of a service: broker and database reachable, outbox backlog and its age, and
warnings that need an operator but leave the service healthy (next year's public holidays
not loaded yet)."""

import json
import time

from kombu import Connection
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from gonghui import clock
from gonghui.calendar import WorkingCalendar
from gonghui.db import Database
from gonghui.entrypoints import rpc
from gonghui.outbox import outbox_backlog
from gonghui.web import http

# An outbox row older than this means the relay is stuck: the service is unhealthy.
MAX_OUTBOX_AGE_SECONDS = 300.0


def check_health(engine, amqp_uri, service_name, calendar=None, as_of=None):
    """The health report; ``status`` is ``ok`` or ``unhealthy``. ``warnings`` lists what an
    operator should do soon (``calendar.holiday_warnings(as_of)``) without making the
    service unhealthy: each has a ``message`` and the ``command`` to run."""
    report = {"service": service_name, "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime())}
    healthy = True
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            count, age = outbox_backlog(conn)
        report["database"] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
        report["outbox"] = {"backlog": count, "oldest_age_seconds": round(age, 1),
                            "ok": age < MAX_OUTBOX_AGE_SECONDS}
        healthy = healthy and age < MAX_OUTBOX_AGE_SECONDS
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
        healthy = False
    started = time.monotonic()
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        report["broker"] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    except Exception as exc:  # noqa: BLE001
        report["broker"] = {"ok": False, "error": str(exc).splitlines()[0]}
        healthy = False
    report["status"] = "ok" if healthy else "unhealthy"
    report["warnings"] = calendar.holiday_warnings(as_of) if calendar is not None else []
    return report


class HealthCheck(DependencyProvider):
    """``self.check_health()``: the report, with the holiday warnings of ``today()`` (China
    time by default; a test gives a fixed date) over the operator-loaded years of
    HOLIDAYS_DIR."""

    def __init__(self, today=clock.today):
        self.today = today

    def setup(self):
        self.calendar = WorkingCalendar(self.container.config.get("HOLIDAYS_DIR"))

    def get_dependency(self, worker_ctx):
        container = self.container
        database = next(d for d in container.dependencies if isinstance(d, Database))
        return lambda: check_health(database.engine, container.config["AMQP_URI"],
                                    container.service_name, self.calendar, self.today())


class HealthEntrypoints:
    """Mixed into every service: ``health`` over RPC and ``GET /health`` over HTTP."""

    check_health = HealthCheck()

    @rpc()
    def health(self):
        """Broker and database reachable, outbox backlog and the age of its oldest row;
        ``warnings``: what an operator should do soon without the service being unhealthy
        (from 1 December, next year's public holidays not loaded yet, with the command)."""
        return self.check_health()

    @http("GET", "/health")
    def http_health(self, request):
        report = self.check_health()
        status = 200 if report["status"] == "ok" else 503
        return status, {"Content-Type": "application/json"}, json.dumps(report)
