"""The broker users really get the permissions deploy/README.md documents, on the real local
RabbitMQ, and the local process runner really starts, restarts and stops a nameko service.

Every test works in a vhost of its own with user names carrying a unique prefix, and removes
both at the end: the operator's own ``gonghui`` vhost and users are never touched.
"""

import json
import os
import secrets
import signal
import socket
import textwrap
import time
import uuid
from urllib.parse import quote

import amqp
import pytest
import requests
from kombu import Connection, Exchange, Producer, Queue

from deploy import broker, infra, postgres, runner
from deploy.services import SERVICES, ServiceSpec
from gonghui.entrypoints import (
    handler_queue_name,
    queue_arguments,
    retry_exchange_name,
    retry_queue_arguments,
)

RPC = Exchange("nameko-rpc", type="topic", durable=True)


def _events(service):
    # what services and subscribers use: the exchange exists, it is never (re)declared
    return Exchange(f"{service}.events", type="topic", durable=True, no_declare=True)


@pytest.fixture(scope="module")
def rabbit():
    infra.ensure_rabbitmq()
    return infra.RABBIT_API, infra.RABBIT_ADMIN


# --------------------------------------------------------------------- permissions

# organization pretends to handle deeds.item_created, and deeds organization.unit_created, so
# handler queues and retry exchanges of two services are covered
HANDLER = broker.Handler("deeds", "item_created", "organization", "on_item_created")
HQ = handler_queue_name("deeds", "item_created", "organization", "on_item_created")
RETRY_X = retry_exchange_name("organization")
DEEDS_HANDLER = broker.Handler("organization", "unit_created", "deeds", "on_unit_created")
DEEDS_HQ = DEEDS_HANDLER.queue
HANDLERS = [HANDLER, DEEDS_HANDLER]


@pytest.fixture(scope="module")
def broker_env(rabbit):
    api, admin = rabbit
    vhost = f"gh-test-{uuid.uuid4().hex[:10]}"
    prefix = f"t{secrets.token_hex(3)}-"
    passwords = {u: secrets.token_hex(16)
                 for u in ("organization", "deeds", "operator", "downstream")}
    specs = [ServiceSpec("organization", 8101), ServiceSpec("deeds", 8102)]
    summary = broker.apply(api, admin, vhost, passwords, specs=specs, handlers=HANDLERS,
                           user_prefix=prefix)
    env = {"api": api, "admin": admin, "vhost": vhost, "prefix": prefix,
           "passwords": passwords, "specs": specs, "summary": summary}
    yield env
    broker.teardown(api, admin, vhost, [prefix + u for u in passwords])


def admin_connect(env):
    uri = (f"amqp://{quote(env['admin'][0])}:{quote(env['admin'][1])}@{infra.RABBIT_HOST}:"
           f"{infra.RABBIT_PORT}/{quote(env['vhost'], safe='')}")
    return Connection(uri, connect_timeout=5)


def depth(env, queue_name):
    with admin_connect(env) as conn:
        return conn.channel().queue_declare(queue_name, passive=True).message_count


def connect(env, user):
    uri = (f"amqp://{quote(env['prefix'] + user)}:{env['passwords'][user]}@"
           f"{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{quote(env['vhost'], safe='')}")
    # confirms: a refused publish raises here, instead of silently closing the channel
    return Connection(uri, transport_options={"confirm_publish": True}, connect_timeout=5)


def publish(conn, exchange, routing_key, body, **kwargs):
    Producer(conn.channel()).publish(body, exchange=exchange, routing_key=routing_key,
                                     serializer="json", **kwargs)


def refused(action):
    with pytest.raises(amqp.exceptions.AccessRefused):
        action()


def get_one(conn, queue_name, timeout=5.0):
    channel = conn.channel()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = channel.basic_get(queue_name, no_ack=True)
        if message is not None:
            return message
        time.sleep(0.05)
    raise AssertionError(f"no message in {queue_name} within {timeout}s")


def test_apply_is_idempotent_and_sets_the_documented_permissions(broker_env):
    env = broker_env
    again = broker.apply(env["api"], env["admin"], env["vhost"], env["passwords"],
                         specs=env["specs"], handlers=HANDLERS, user_prefix=env["prefix"])
    assert again["users"] == env["summary"]["users"]
    v = quote(env["vhost"], safe="")
    listed = requests.get(f"{env['api']}/vhosts/{v}/permissions", auth=env["admin"],
                          timeout=10).json()
    got = {p["user"]: {k: p[k] for k in ("configure", "write", "read")} for p in listed
           if p["user"].startswith(env["prefix"])}  # (the admin who made the vhost has all)
    expected = broker.user_permissions(env["specs"], HANDLERS)
    assert got == {env["prefix"] + user: perms for user, perms in expected.items()}
    user = requests.get(f"{env['api']}/users/{quote(env['prefix'] + 'organization')}",
                        auth=env["admin"], timeout=10).json()
    assert user["tags"] == []  # no management access
    queues = {q["name"]: q for q in requests.get(f"{env['api']}/queues/{v}",
                                                 auth=env["admin"], timeout=10).json()}
    assert queues[HQ]["arguments"]["x-queue-type"] == "quorum"
    assert queues[HQ]["arguments"]["x-dead-letter-exchange"] == RETRY_X
    assert queues[f"{HQ}.retry"]["arguments"]["x-dead-letter-exchange"] == RETRY_X
    assert {f"{HQ}.retry", f"{HQ}.dlq"} <= set(queues)
    exchange = requests.get(f"{env['api']}/exchanges/{v}/{quote(RETRY_X, safe='')}",
                            auth=env["admin"], timeout=10).json()
    assert (exchange["type"], exchange["durable"], exchange["auto_delete"]) == \
        ("direct", True, False)
    bound = requests.get(f"{env['api']}/exchanges/{v}/{quote(RETRY_X, safe='')}/bindings/source",
                         auth=env["admin"], timeout=10).json()
    assert {(b["destination"], b["routing_key"]) for b in bound} == {
        (HQ, HQ), (f"{HQ}.retry", f"{HQ}.retry"), (f"{HQ}.dlq", f"{HQ}.dlq")}


def test_service_user_runs_its_rpc_server_and_client(broker_env):
    with connect(broker_env, "organization") as conn:
        server = Queue("rpc-organization", exchange=RPC, routing_key="organization.*",
                       durable=True)
        server(conn.channel()).declare()
        reply_name = f"rpc.reply-organization-{uuid.uuid4()}"
        reply_key = str(uuid.uuid4())
        reply = Queue(reply_name, exchange=RPC, routing_key=reply_key,
                      queue_arguments={"x-expires": 300000})
        reply(conn.channel()).declare()
        # a call (to itself, any service would do) and its answer
        publish(conn, "nameko-rpc", "organization.ping", {"args": [], "kwargs": {}},
                reply_to=reply_key, mandatory=True)
        request = get_one(conn, "rpc-organization")
        assert request.properties["reply_to"] == reply_key
        publish(conn, "nameko-rpc", reply_key, {"result": "pong", "error": None})
        assert json.loads(get_one(conn, reply_name).body)["result"] == "pong"


def test_service_user_is_confined_to_its_own_names(broker_env):
    with connect(broker_env, "organization") as conn:
        publish(conn, "organization.events", "unit_created", {"id": "x"})  # its own: fine
        refused(lambda: publish(conn, "deeds.events", "item_created", {"id": "x"}))
        refused(lambda: Queue("rpc-deeds", exchange=RPC, routing_key="deeds.*",
                              durable=True)(conn.channel()).declare())
        refused(lambda: Queue(f"rpc.reply-deeds-{uuid.uuid4()}", exchange=RPC,
                              routing_key="k")(conn.channel()).declare())
        refused(lambda: Exchange("organization.events", type="topic", durable=True)(
            conn.channel()).declare())  # exchanges come from the definitions only
        refused(lambda: Queue(f"evt-deeds-item_created--deeds.{uuid.uuid4().hex}",
                              durable=True)(conn.channel()).declare())
        refused(lambda: conn.channel().basic_get(f"{HQ}.dlq"))  # the operator's job


def test_service_user_cannot_publish_into_other_queues_by_name(broker_env):
    """No write on the default exchange (``amq.default``): a service cannot drop a message
    into another service's RPC or handler queue by its name, nor through another service's
    retry exchange, nor even into its own queues but through its own retry exchange."""
    with admin_connect(broker_env) as conn:
        Queue("rpc-deeds", exchange=RPC, routing_key="deeds.*", durable=True)(
            conn.channel()).declare()
    targets = ["rpc-deeds", DEEDS_HQ, f"{DEEDS_HQ}.retry", f"{DEEDS_HQ}.dlq"]
    before = {q: depth(broker_env, q) for q in targets}
    with connect(broker_env, "organization") as conn:
        for queue_name in targets + [HQ, f"{HQ}.dlq"]:
            refused(lambda q=queue_name: publish(conn, "", q, {"id": "forged"}))
        for key in [DEEDS_HQ, f"{DEEDS_HQ}.retry", f"{DEEDS_HQ}.dlq"]:
            refused(lambda k=key: publish(conn, retry_exchange_name("deeds"), k, {"id": "x"}))
        # nor bind another service's queue to its own retry exchange (no write on that queue)
        refused(lambda: conn.channel().queue_bind(DEEDS_HQ, RETRY_X, "steal"))
        refused(lambda: conn.channel().queue_bind(HQ, retry_exchange_name("deeds"), "x"))
    assert {q: depth(broker_env, q) for q in targets} == before


def test_service_user_consumes_its_handler_queues_with_retry_and_dead_letter(broker_env):
    """Exactly what ReliableEventHandler.start declares (a mismatch would be
    PRECONDITION_FAILED), then the round trip through its own retry exchange: a failed event
    parked in .retry comes back to the handler's queue when its TTL ends; one that failed
    for good is parked in .dlq; one redelivered past the delivery limit is dead-lettered by
    the broker into .dlq; the operator reads the dead letters."""
    with connect(broker_env, "organization") as conn:
        channel = conn.channel()
        Exchange(RETRY_X, type="direct", durable=True)(channel).declare()
        Queue(HQ, exchange=_events("deeds"), routing_key="item_created", durable=True,
              queue_arguments=queue_arguments(HQ, broker.DEFAULT_DELIVERY_LIMIT, RETRY_X))(
            channel).declare()
        Queue(f"{HQ}.retry", durable=True,
              queue_arguments=retry_queue_arguments(HQ, RETRY_X))(channel).queue_declare()
        Queue(f"{HQ}.dlq", durable=True)(channel).queue_declare()
        for name in (HQ, f"{HQ}.retry", f"{HQ}.dlq"):
            channel.queue_bind(name, RETRY_X, name)

        publish(conn, RETRY_X, f"{HQ}.retry", {"id": "retry-me"}, expiration=0.1)
        assert json.loads(get_one(conn, HQ).body) == {"id": "retry-me"}
        publish(conn, RETRY_X, f"{HQ}.dlq", {"id": "dead"})

        # a handler that crashes its process every time: the broker dead-letters the message
        # through the retry exchange once it was delivered more than the delivery limit
        publish(conn, RETRY_X, HQ, {"id": "crashes-every-time"})
        channel = conn.channel()
        returned = 0
        while depth(broker_env, f"{HQ}.dlq") < 2:
            assert returned <= broker.DEFAULT_DELIVERY_LIMIT, "not dead-lettered at the limit"
            message = channel.basic_get(HQ, no_ack=False)
            if message is not None:
                channel.basic_reject(message.delivery_tag, requeue=True)
                returned += 1
            time.sleep(0.02)
        assert returned == broker.DEFAULT_DELIVERY_LIMIT + 1
        assert depth(broker_env, HQ) == 0
    with connect(broker_env, "operator") as conn:
        assert json.loads(get_one(conn, f"{HQ}.dlq").body) == {"id": "dead"}
        last = get_one(conn, f"{HQ}.dlq")
        assert json.loads(last.body) == {"id": "crashes-every-time"}
        assert last.headers["x-death"][0]["reason"] == "delivery_limit"


def test_operator_is_a_standalone_rpc_client_only(broker_env):
    with connect(broker_env, "operator") as conn:
        reply_key = str(uuid.uuid4())
        Queue(f"rpc.reply-standalone_rpc_proxy-{uuid.uuid4()}", exchange=RPC,
              routing_key=reply_key, queue_arguments={"x-expires": 300000})(
            conn.channel()).declare()
        publish(conn, "nameko-rpc", "organization.health", {"args": [], "kwargs": {}},
                reply_to=reply_key)
        refused(lambda: publish(conn, "organization.events", "unit_created", {"id": "x"}))
        refused(lambda: Queue("rpc-organization", exchange=RPC, routing_key="organization.*",
                              durable=True)(conn.channel()).declare())
        refused(lambda: conn.channel().basic_get("rpc-organization"))


def test_downstream_subscribes_to_events_but_cannot_publish(broker_env):
    with connect(broker_env, "downstream") as sub:
        Queue("downstream.x", exchange=_events("organization"), routing_key="#",
              durable=True)(sub.channel()).declare()
        with connect(broker_env, "organization") as org:
            publish(org, "organization.events", "unit_created", {"id": "e1"})
        assert json.loads(get_one(sub, "downstream.x").body) == {"id": "e1"}
        refused(lambda: publish(sub, "organization.events", "unit_created", {"id": "x"}))
        refused(lambda: publish(sub, "nameko-rpc", "organization.health", {}))
        refused(lambda: Queue("x", durable=True)(sub.channel()).declare())
        refused(lambda: sub.channel().basic_get(HQ))
        Queue("downstream.x")(sub.channel()).delete()


def _flaky(fail_times):
    return {"id": str(uuid.uuid4()), "type": "testsource.flaky", "version": 1,
            "occurred_at": "2026-11-24T00:00:00+00:00", "producer": "testsource",
            "actor": {"kind": "system", "id": "test"}, "data": {"fail_times": fail_times}}


@pytest.fixture
def probe_env(rabbit):
    """A vhost where the kit's probe service has exactly the permissions ``apply`` gives a
    service that handles organization and testsource events."""
    api, admin = rabbit
    vhost = f"gh-test-{uuid.uuid4().hex[:10]}"
    prefix = f"t{secrets.token_hex(3)}-"
    passwords = {u: secrets.token_hex(16) for u in ("probe", "testsource", "operator")}
    specs = [ServiceSpec("probe", 8199), ServiceSpec("testsource", 8198)]
    handlers = [broker.Handler("organization", "unit_created", "probe", "on_unit_created"),
                broker.Handler("testsource", "flaky", "probe", "on_flaky")]
    broker.apply(api, admin, vhost, passwords, specs=specs, handlers=handlers,
                 user_prefix=prefix)
    env = {"api": api, "admin": admin, "vhost": vhost, "prefix": prefix,
           "passwords": passwords, "handlers": handlers}
    yield env
    broker.teardown(api, admin, vhost, [prefix + u for u in passwords])


def test_the_kit_retries_and_dead_letters_with_a_service_users_permissions(probe_env,
                                                                            databases):
    """ReliableEventHandler run as its own broker user (no default exchange): a failing
    handler is retried through ``probe.retry`` and then succeeds; one that keeps failing,
    and an invalid envelope, are dead-lettered through it; the operator reads them."""
    from nameko.containers import ServiceContainer
    from sqlalchemy import create_engine, func, select

    from gonghui.tables import audit_log
    from tests.support.probe_service import ATTEMPTS, ProbeService

    env = probe_env
    user = env["prefix"] + "probe"
    amqp_uri = (f"amqp://{quote(user)}:{env['passwords']['probe']}@{infra.RABBIT_HOST}:"
                f"{infra.RABBIT_PORT}/{quote(env['vhost'], safe='')}")
    container = ServiceContainer(ProbeService, {
        "AMQP_URI": amqp_uri, "DATABASE_URL": databases["organization"],
        "WEB_SERVER_ADDRESS": "127.0.0.1:0", "max_workers": 10, "OUTBOX_POLL_SECONDS": 0.2,
        "EVENT_RETRY_BASE_SECONDS": 0.05, "EVENT_RETRY_LIMIT": 2, "RPC_TIMEOUT": 10,
        "DECLARE_EVENT_EXCHANGES": False})
    container.start()
    engine = create_engine(databases["organization"])
    try:
        recovers, poison = _flaky(fail_times=1), _flaky(fail_times=99)
        with connect(env, "testsource") as conn:
            for body in (recovers, poison):
                publish(conn, "testsource.events", "flaky", body)
        with admin_connect(env) as conn:  # (the organization service is not in this vhost)
            publish(conn, "organization.events", "unit_created", {"not": "an envelope"})

        def handled():
            with engine.connect() as db:
                return db.scalar(select(func.count()).select_from(audit_log).where(
                    audit_log.c.action == "probe.flaky_handled",
                    audit_log.c.entity_id == recovers["id"]))

        flaky_q = handler_queue_name("testsource", "flaky", "probe", "on_flaky")
        unit_q = handler_queue_name("organization", "unit_created", "probe", "on_unit_created")
        deadline = time.monotonic() + 20
        while not (handled() == 1 and depth(env, f"{flaky_q}.dlq") == 1
                   and depth(env, f"{unit_q}.dlq") == 1):
            assert time.monotonic() < deadline, (
                f"handled={handled()}, dlq={depth(env, f'{flaky_q}.dlq')}, "
                f"{depth(env, f'{unit_q}.dlq')}; a refusal closes the service's channel")
            time.sleep(0.1)
        assert ATTEMPTS[uuid.UUID(recovers["id"])] == 2
        assert ATTEMPTS[uuid.UUID(poison["id"])] == 3  # the first try and two retries
        with connect(env, "operator") as conn:
            dead = get_one(conn, f"{flaky_q}.dlq")
            assert json.loads(dead.body)["id"] == poison["id"]
            assert dead.headers["x-gonghui-attempts"] == 3
            assert "scripted failure 3" in dead.headers["x-gonghui-error"]
            invalid = get_one(conn, f"{unit_q}.dlq")
            assert "invalid envelope" in invalid.headers["x-gonghui-error"]
        assert depth(env, flaky_q) == depth(env, f"{flaky_q}.retry") == 0
    finally:
        container.kill()
        engine.dispose()


@pytest.fixture
def gateway_env(rabbit):
    """A vhost with organization and the gateway as ``apply`` sets them up from their code
    (the gateway's real handlers of organization's tree events), and the operator."""
    api, admin = rabbit
    vhost = f"gh-test-{uuid.uuid4().hex[:10]}"
    prefix = f"t{secrets.token_hex(3)}-"
    specs = [s for s in SERVICES if s.name in ("organization", "gateway")]
    passwords = {u: secrets.token_hex(16) for u in ("organization", "gateway", "operator")}
    summary = broker.apply(api, admin, vhost, passwords, specs=specs, user_prefix=prefix)
    yield {"api": api, "admin": admin, "vhost": vhost, "prefix": prefix,
           "passwords": passwords, "summary": summary}
    broker.teardown(api, admin, vhost, [prefix + u for u in passwords])


def test_the_gateway_calls_and_keeps_the_tree_with_its_users_rights_and_publishes_nothing(
        gateway_env, databases):
    """The gateway as its own broker user: it serves its RPC queue, calls organization and
    consumes organization's tree events into its read model, and may publish no event at
    all; there is no ``gateway.events`` to publish to."""
    from nameko.containers import ServiceContainer

    from gonghui.rpc_client import cluster_rpc
    from services.gateway.service import GatewayService
    from services.organization.service import OrganizationService

    env = gateway_env

    def uri(user):
        return (f"amqp://{quote(env['prefix'] + user)}:{env['passwords'][user]}@"
                f"{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{quote(env['vhost'], safe='')}")

    containers = []
    for cls in (OrganizationService, GatewayService):
        container = ServiceContainer(cls, {
            "AMQP_URI": uri(cls.name), "DATABASE_URL": databases[cls.name],
            "WEB_SERVER_ADDRESS": "127.0.0.1:0", "max_workers": 10,
            "OUTBOX_POLL_SECONDS": 0.2, "RPC_TIMEOUT": 10, "DECLARE_EVENT_EXCHANGES": False})
        container.start()
        containers.append(container)
    try:
        vhost = quote(env["vhost"], safe="")
        exchanges = {x["name"] for x in requests.get(
            f"{env['api']}/exchanges/{vhost}", auth=env["admin"], timeout=10).json()}
        assert "organization.events" in exchanges and "gateway.retry" in exchanges
        assert "gateway.events" not in exchanges
        with cluster_rpc(uri("operator"), actor="operator:test", timeout=20) as proxy:
            proxy.organization.create_unit(code="GW-1", name="网关测试单位", kind="company")
            wait_until(lambda: proxy.gateway.directory_status()["units"] == 1, 20,
                       "the gateway learns of the unit from organization's event")
            assert proxy.gateway.issue_login_code(employee_no="E001")["code"]
            # the gateway calls organization by RPC as its own user
            assert proxy.gateway.resync_directory()["units"] == 1
        with connect(env, "gateway") as conn:
            for exchange in ("organization.events", "deeds.events", "gateway.events", ""):
                refused(lambda x=exchange: publish(conn, x, "unit_created", {"id": "forged"}))
            refused(lambda: Exchange("gateway.events", type="topic", durable=True)(
                conn.channel()).declare())
    finally:
        for container in containers:
            container.kill()


def test_apply_from_env_names_every_missing_variable():
    with pytest.raises(broker.BrokerSetupError) as err:
        broker.apply_from_env({"RABBITMQ_API_URL": "http://127.0.0.1:15672/api"})
    message = str(err.value)
    for name in ["RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD", "OPERATOR_AMQP_PASSWORD"]:
        assert name in message
    for spec in SERVICES:
        assert f"{spec.name.upper()}_AMQP_PASSWORD" in message
    assert "DOWNSTREAM_AMQP_PASSWORD" not in message  # optional


def test_apply_from_env_against_the_broker(rabbit):
    api, admin = rabbit
    vhost, prefix = f"gh-test-{uuid.uuid4().hex[:10]}", f"t{secrets.token_hex(3)}-"
    env = {"RABBITMQ_API_URL": api, "RABBITMQ_ADMIN_USER": admin[0],
           "RABBITMQ_ADMIN_PASSWORD": admin[1], "GONGHUI_VHOST": vhost,
           "GONGHUI_AMQP_USER_PREFIX": prefix, "OPERATOR_AMQP_PASSWORD": "op-secret"}
    env.update({broker.password_variable(s.amqp_user): secrets.token_hex(8) for s in SERVICES})
    users = [prefix + s.amqp_user for s in SERVICES] + [prefix + "operator"]
    try:
        summary = broker.apply_from_env(env)
        assert sorted(summary["users"]) == sorted(users)  # no downstream without its password
        exchanges = requests.get(f"{api}/exchanges/{vhost}", auth=admin, timeout=10).json()
        names = {x["name"] for x in exchanges}
        assert {x["name"] for x in broker.definitions(vhost=vhost)["exchanges"]} <= names
    finally:
        broker.teardown(api, admin, vhost, users)


# --------------------------------------------------------------------- the local runner

SERVICE_SOURCE = '''
import json

from nameko.rpc import rpc
from nameko.web.handlers import http

from gonghui.entrypoints import event_handler
from services.organization import events as org_events


class Throwaway:
    name = "{name}"

    @http("GET", "/health")
    def health(self, request):
        return 200, {{"Content-Type": "application/json"}}, json.dumps({{"status": "ok"}})

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def environ(self, *names):
        import os

        return {{name: os.environ.get(name) for name in names}}

    @event_handler(org_events.UNIT_CREATED)
    def on_unit_created(self, event):
        pass
'''


class TmpSpec(ServiceSpec):
    """A service whose module lives in the test's tmp dir, not in services/."""

    @property
    def module(self):
        return f"{self.name}_service"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout}s")


@pytest.fixture
def throwaway(tmp_path, monkeypatch, rabbit):
    name = f"rt{secrets.token_hex(3)}"
    code = tmp_path / "code"
    code.mkdir()
    (code / f"{name}_service.py").write_text(textwrap.dedent(SERVICE_SOURCE.format(name=name)))
    monkeypatch.syspath_prepend(str(code))  # the runner imports it to find its handlers
    # its own environment, resolved against the shell the runner starts from
    monkeypatch.setenv("GH_TEST_GIVEN", "from-the-shell")
    monkeypatch.delenv("GH_TEST_UNSET", raising=False)
    monkeypatch.delenv("GH_TEST_REQUIRED", raising=False)
    spec = TmpSpec(name, free_port(), environment={
        "GH_GIVEN": "x-${GH_TEST_GIVEN}", "GH_DEFAULTED": "${GH_TEST_UNSET:-7}",
        "GH_NEEDS_REQUIRED": "${GH_TEST_REQUIRED}"})
    home = tmp_path / "home"
    vhost = f"gh-test-{uuid.uuid4().hex[:10]}"
    prefix = f"t{secrets.token_hex(3)}-"
    r = runner.Runner(home=home, vhost=vhost, user_prefix=prefix, pythonpath=[str(code)],
                      migrate=False, stop_timeout=15)
    yield r, spec
    r.stop()
    api, admin = rabbit
    broker.teardown(api, admin, vhost,
                    [prefix + u for u in (spec.amqp_user, "operator", "downstream")])
    postgres.drop_service_database(infra.PG_ADMIN_URL, name)


def test_runner_starts_restarts_and_stops_a_service(throwaway):
    r, spec = throwaway
    summary = r.start([spec], timeout=40)
    assert summary["services"][spec.name]["healthy"], summary

    mode = os.stat(r.home / "var" / "secrets.env").st_mode & 0o777
    assert mode == 0o600
    status = r.status()
    svc = status["services"][spec.name]
    assert svc["state"] == "running" and svc["restarts"] == 0
    assert svc["health"] == {"status": "ok"} and svc["rpc_consumers"] == 1
    first_pid = svc["pid"]
    assert r.start([spec])["already_running"]  # idempotent

    # it runs as its own broker user: RPC through the operator's standalone proxy works,
    # and its reliable event handler declared its queues under the runner's permissions
    from nameko.standalone.rpc import ClusterRpcProxy

    try:
        with ClusterRpcProxy({"AMQP_URI": r.operator_amqp_uri()}, timeout=10) as proxy:
            assert getattr(proxy, spec.name).ping() == "pong"
            assert getattr(proxy, spec.name).environ(
                "GH_GIVEN", "GH_DEFAULTED", "GH_NEEDS_REQUIRED") == {
                "GH_GIVEN": "x-from-the-shell", "GH_DEFAULTED": "7", "GH_NEEDS_REQUIRED": None}
    except Exception as exc:  # the service's log says why (e.g. ACCESS_REFUSED)
        refusals = [line for line in r.logs(spec.name, lines=400).splitlines()
                    if "ACCESS_REFUSED" in line or "PRECONDITION_FAILED" in line]
        raise AssertionError(f"RPC to the service failed ({exc!r}); broker refusals in its "
                             f"log: {sorted(set(refusals))[:3]}") from exc
    queues = requests.get(f"{infra.RABBIT_API}/queues/{quote(r.vhost, safe='')}",
                          auth=infra.RABBIT_ADMIN, timeout=10).json()
    hq = handler_queue_name("organization", "unit_created", spec.name, "on_unit_created")
    assert {hq, f"{hq}.retry", f"{hq}.dlq", f"rpc-{spec.name}"} <= {q["name"] for q in queues}

    os.kill(first_pid, signal.SIGKILL)
    restarted = wait_until(
        lambda: (s := r.status()["services"][spec.name])["restarts"] == 1
        and s["state"] == "running" and s["health"] == {"status": "ok"}
        and s["rpc_consumers"] == 1 and s,
        30, "the killed service was not restarted and healthy")
    assert restarted["pid"] != first_pid
    assert restarted["last_exit_code"] == -signal.SIGKILL
    assert r.logs(spec.name, lines=500).count(f"runner: starting {spec.name}") == 2

    stopped = r.stop()
    assert stopped["services"][spec.name]["state"] == "stopped"
    assert stopped["services"][spec.name]["last_exit_code"] in (0, -signal.SIGTERM)
    assert not runner.pid_alive(restarted["pid"])
    assert not r.status()["supervisor"]["running"]
    assert r.stop()["already_stopped"]  # idempotent
