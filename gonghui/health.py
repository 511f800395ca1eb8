"""Health of a service: broker and database reachable, outbox backlog and its age."""

import json
import time

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from sqlalchemy import text

from gonghui.db import Database
from gonghui.entrypoints import rpc
from gonghui.outbox import outbox_backlog

# An outbox row older than this means the relay is stuck: the service is unhealthy.
MAX_OUTBOX_AGE_SECONDS = 300.0


def check_health(engine, amqp_uri, service_name):
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
    return report


class HealthCheck(DependencyProvider):
    def get_dependency(self, worker_ctx):
        container = self.container
        database = next(d for d in container.dependencies if isinstance(d, Database))
        return lambda: check_health(database.engine, container.config["AMQP_URI"],
                                    container.service_name)


class HealthEntrypoints:
    """Mixed into every service: ``health`` over RPC and ``GET /health`` over HTTP."""

    check_health = HealthCheck()

    @rpc()
    def health(self):
        """Broker and database reachable, outbox backlog and the age of its oldest row."""
        return self.check_health()

    @http("GET", "/health")
    def http_health(self, request):
        report = self.check_health()
        status = 200 if report["status"] == "ok" else 503
        return status, {"Content-Type": "application/json"}, json.dumps(report)
