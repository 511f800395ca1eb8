"""Test fixtures over the real RabbitMQ and PostgreSQL of this machine.

The broker and database are started when they are not running; each test gets a fresh
RabbitMQ vhost (with the event exchanges the deploy definitions declare) and clean tables
in per-service test databases migrated once per session.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket/threading: nameko needs it

import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
from kombu import Connection, Exchange  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from deploy import infra  # noqa: E402
from deploy.services import PLANNED_SERVICES, SERVICES  # noqa: E402
from gonghui.actor import Actor  # noqa: E402
from gonghui.migrations import migrate  # noqa: E402
from gonghui.rpc_client import cluster_rpc  # noqa: E402
from tests.support.subscriber import PlainSubscriber  # noqa: E402

# The notifications fixtures (smtp, robots, notifications_config) for every test that names them.
pytest_plugins = ["tests.support.notifications"]

PG = os.environ.get("GONGHUI_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
OFFICER = Actor("officer", "T0001")


def test_database_url(service_name):
    return f"{PG}/gonghui_test_{service_name}_{os.getpid()}"


test_database_url.__test__ = False


@pytest.fixture(scope="session", autouse=True)
def infrastructure():
    return infra.ensure_infrastructure()


def services_with_migrations():
    """Every service folder that has Alembic migrations (listed or not in deploy.services)."""
    root = Path(__file__).resolve().parent.parent / "services"
    return sorted(p.parent.parent.name for p in root.glob("*/migrations/env.py"))


def drop_stale_test_databases(conn):
    """Test databases carry the pid of their pytest session, so several sessions (a
    developer's and CI's) can run at once; those of sessions that are gone are dropped."""
    names = conn.scalars(text(
        "SELECT datname FROM pg_database WHERE datname LIKE 'gonghui\\_test\\_%'")).all()
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_databases(infrastructure):
    """Create each service's test database for this session and run its migrations."""
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    urls = {name: test_database_url(name) for name in services_with_migrations()}
    with admin.connect() as conn:
        drop_stale_test_databases(conn)
        for url in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    for service_name, url in urls.items():
        migrate(service_name, url)
    yield urls
    with admin.connect() as conn:
        for url in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def databases(migrated_databases):
    for url in migrated_databases.values():
        truncate_all(url)
    return migrated_databases


def declare_event_exchanges(amqp_uri):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for name in [s.name for s in SERVICES] + PLANNED_SERVICES + ["testsource"]:
            Exchange(f"{name}.events", type="topic", durable=True)(channel).declare()


@pytest.fixture
def amqp_uri(infrastructure):
    vhost = f"test_{uuid.uuid4().hex[:12]}"
    api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
    requests.put(f"{api}/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{api}/permissions/{vhost}/{auth[0]}", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    uri = f"amqp://{auth[0]}:{auth[1]}@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{vhost}"
    declare_event_exchanges(uri)
    yield uri
    requests.delete(f"{api}/vhosts/{vhost}", auth=auth, timeout=30)


@pytest.fixture
def service_config(amqp_uri, databases):
    def config(service_name, **overrides):
        return {"AMQP_URI": amqp_uri, "DATABASE_URL": databases[service_name],
                "WEB_SERVER_ADDRESS": "127.0.0.1:0", "max_workers": 10,
                "OUTBOX_POLL_SECONDS": 0.2, "EVENT_RETRY_BASE_SECONDS": 0.05,
                "RPC_TIMEOUT": 10, **overrides}
    return config


@pytest.fixture
def start_service(service_config):
    """Start a nameko container of ``service_cls``; all are killed after the test."""
    containers = []

    def start(service_cls, config_service=None, **overrides):
        config = service_config(config_service or service_cls.name, **overrides)
        container = ServiceContainer(service_cls, config)
        containers.append(container)
        container.start()
        return container

    yield start
    for container in containers:
        container.kill()


@pytest.fixture
def rpc(amqp_uri):
    """``with rpc() as proxy``: a standalone client acting as an officer by default."""
    def client(actor=OFFICER, timeout=20):
        return cluster_rpc(amqp_uri, actor=actor, timeout=timeout)
    return client


class Subscriber(PlainSubscriber):
    """Collects what a downstream system bound to ``<service>.events`` would receive."""

    def __init__(self, amqp_uri, exchange, routing_key="#"):
        self.received = queue.Queue()
        super().__init__(amqp_uri, exchange, routing_key)

    def on_message(self, body, message):
        self.received.put({"body": body, "routing_key": message.delivery_info["routing_key"],
                           "properties": message.properties})

    def collect(self, count, timeout=15.0):
        """Wait for ``count`` messages; then a short quiet period to catch extras."""
        got = []
        with eventlet.Timeout(timeout, False):
            while len(got) < count:
                got.append(self.received.get())
        eventlet.sleep(0.5)
        while not self.received.empty():
            got.append(self.received.get())
        return got


@pytest.fixture
def subscribe(amqp_uri):
    subscribers = []

    def make(exchange, routing_key="#"):
        sub = Subscriber(amqp_uri, exchange, routing_key)
        subscribers.append(sub)
        return sub

    yield make
    for sub in subscribers:
        sub.close()


def dumps(value):
    return json.dumps(value, ensure_ascii=False, default=str)
