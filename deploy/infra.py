"""Check, and start when needed, the local RabbitMQ and PostgreSQL (no Docker here).

Used by the local runner and by the test suite, so a fresh machine needs nothing by hand.
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

RABBIT_HOST = os.environ.get("GONGHUI_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("GONGHUI_RABBIT_PORT", "5672"))
RABBIT_API = os.environ.get("GONGHUI_RABBIT_API", "http://127.0.0.1:15672/api")
RABBIT_ADMIN = (os.environ.get("GONGHUI_RABBIT_ADMIN_USER", "guest"),
                os.environ.get("GONGHUI_RABBIT_ADMIN_PASSWORD", "guest"))
PG_HOST = os.environ.get("GONGHUI_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("GONGHUI_PG_PORT", "5432"))
PG_ADMIN_URL = os.environ.get("GONGHUI_PG_ADMIN_URL",
                              f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres")


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(check, what, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


def ensure_postgres():
    if port_open(PG_HOST, PG_PORT):
        return "running"
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                   check=True)
    wait_for(lambda: port_open(PG_HOST, PG_PORT), "PostgreSQL")
    return "started"


def _management_up():
    try:
        return requests.get(f"{RABBIT_API}/overview", auth=RABBIT_ADMIN, timeout=2).ok
    except requests.RequestException:
        return False


def ensure_rabbitmq():
    """Broker listening and its management API answering (tests and runner use the API)."""
    state = "running"
    if not port_open(RABBIT_HOST, RABBIT_PORT):
        subprocess.run(["rabbitmq-server", "-detached"], check=True)
        wait_for(lambda: port_open(RABBIT_HOST, RABBIT_PORT), "RabbitMQ", timeout=120)
        state = "started"
    if not _management_up():
        subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"], check=True,
                       stdout=subprocess.DEVNULL)
        wait_for(_management_up, "RabbitMQ management API", timeout=120)
    return state


def ensure_infrastructure():
    return {"postgresql": ensure_postgres(), "rabbitmq": ensure_rabbitmq()}
