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
from gonghui.entrypoints import handler_queue_name, queue_arguments, retry_queue_arguments

RPC = Exchange("nameko-rpc", type="topic", durable=True)


def _events(service):
    # what services and subscribers use: the exchange exists, it is never (re)declared
    return Exchange(f"{service}.events", type="topic", durable=True, no_declare=True)


@pytest.fixture(scope="module")
def rabbit():
    infra.ensure_rabbitmq()
    return infra.RABBIT_API, infra.RABBIT_ADMIN


# --------------------------------------------------------------------- permissions

# organization pretends to handle deeds.item_created, so handler queues are covered too
HANDLER = broker.Handler("deeds", "item_created", "organization", "on_item_created")
HQ = handler_queue_name("deeds", "item_created", "organization", "on_item_created")


@pytest.fixture(scope="module")
def broker_env(rabbit):
    api, admin = rabbit
    vhost = f"gh-test-{uuid.uuid4().hex[:10]}"
    prefix = f"t{secrets.token_hex(3)}-"
    passwords = {u: secrets.token_hex(16) for u in ("organization", "operator", "downstream")}
    specs = [ServiceSpec("organization", 8101)]
    summary = broker.apply(api, admin, vhost, passwords, specs=specs, handlers=[HANDLER],
                           user_prefix=prefix)
    env = {"api": api, "admin": admin, "vhost": vhost, "prefix": prefix,
           "passwords": passwords, "specs": specs, "summary": summary}
    yield env
    broker.teardown(api, admin, vhost, [prefix + u for u in passwords])


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
                         specs=env["specs"], handlers=[HANDLER], user_prefix=env["prefix"])
    assert again["users"] == env["summary"]["users"]
    v = quote(env["vhost"], safe="")
    listed = requests.get(f"{env['api']}/vhosts/{v}/permissions", auth=env["admin"],
                          timeout=10).json()
    got = {p["user"]: {k: p[k] for k in ("configure", "write", "read")} for p in listed
           if p["user"].startswith(env["prefix"])}  # (the admin who made the vhost has all)
    expected = broker.user_permissions(env["specs"], [HANDLER])
    assert got == {env["prefix"] + user: perms for user, perms in expected.items()}
    user = requests.get(f"{env['api']}/users/{quote(env['prefix'] + 'organization')}",
                        auth=env["admin"], timeout=10).json()
    assert user["tags"] == []  # no management access
    queues = {q["name"]: q for q in requests.get(f"{env['api']}/queues/{v}",
                                                 auth=env["admin"], timeout=10).json()}
    assert queues[HQ]["arguments"]["x-queue-type"] == "quorum"
    assert {f"{HQ}.retry", f"{HQ}.dlq"} <= set(queues)


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


def test_service_user_consumes_its_handler_queues_with_retry_and_dead_letter(broker_env):
    # exactly what ReliableEventHandler declares: a mismatch would be PRECONDITION_FAILED
    with connect(broker_env, "organization") as conn:
        Queue(HQ, exchange=_events("deeds"), routing_key="item_created", durable=True,
              queue_arguments=queue_arguments(HQ, broker.DEFAULT_DELIVERY_LIMIT))(
            conn.channel()).declare()
        Queue(f"{HQ}.retry", durable=True,
              queue_arguments=retry_queue_arguments(HQ))(conn.channel()).declare()
        Queue(f"{HQ}.dlq", durable=True)(conn.channel()).declare()
        # a failed event parked in .retry with a TTL comes back to the handler's queue
        publish(conn, "", f"{HQ}.retry", {"id": "retry-me"}, expiration=0.1)
        assert json.loads(get_one(conn, HQ).body) == {"id": "retry-me"}
        publish(conn, "", f"{HQ}.dlq", {"id": "dead"})
    with connect(broker_env, "operator") as conn:
        assert json.loads(get_one(conn, f"{HQ}.dlq").body) == {"id": "dead"}


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


class Throwaway:
    name = "{name}"

    @http("GET", "/health")
    def health(self, request):
        return 200, {{"Content-Type": "application/json"}}, json.dumps({{"status": "ok"}})

    @rpc
    def ping(self):
        return "pong"

    @event_handler("organization", "unit_created")
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
    spec = TmpSpec(name, free_port())
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
