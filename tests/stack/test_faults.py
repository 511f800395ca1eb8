"""Faults, counted: the organization service run as an operator runs it (`nameko run`),
killed with SIGKILL in the middle of a stream of changes, then the broker connections cut.
Every committed change must reach a downstream subscriber; nothing may be lost."""

import time
from pathlib import Path
from urllib.parse import quote

import eventlet
import requests
from kombu import Connection
from nameko.exceptions import RpcTimeout
from sqlalchemy import create_engine, text

from deploy import infra
from gonghui.errors import Conflict
from gonghui.rpc_client import cluster_rpc
from tests.conftest import OFFICER
from tests.support.processes import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]


def add_member_surely(amqp_uri, index, unit_id):
    """What a careful client does: retry until the change is known to be made."""
    for _ in range(20):
        try:
            with cluster_rpc(amqp_uri, actor=OFFICER, timeout=5) as proxy:
                proxy.organization.add_member(employee_no=f"F{index:03d}", name=f"职工{index}",
                                              gender="female", unit_id=unit_id)
            return
        except Conflict:  # an earlier try committed before the reply was lost
            return
        except (RpcTimeout, OSError, ConnectionError, Exception) as exc:  # noqa: B014
            if isinstance(exc, AssertionError):
                raise
            eventlet.sleep(0.5)
    raise AssertionError(f"member {index} could not be added")


def close_all_connections(vhost):
    api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
    deadline = time.monotonic() + 15  # the management API lists connections with a delay
    connections = []
    while not connections and time.monotonic() < deadline:
        connections = requests.get(f"{api}/vhosts/{quote(vhost, safe='')}/connections",
                                   auth=auth, timeout=10).json()
        eventlet.sleep(0.5)
    for connection in connections:
        requests.delete(f"{api}/connections/{quote(connection['name'], safe='')}", auth=auth,
                        timeout=10)
    return len(connections)


def test_kill_and_connection_cut_lose_nothing(amqp_uri, databases, subscribe):
    url = databases["organization"]
    sub = subscribe("organization.events", "member_joined")
    service = ServiceProcess("services.organization.service", amqp_uri, url)
    service.start()
    try:
        with cluster_rpc(amqp_uri, actor=OFFICER) as proxy:
            unit = proxy.organization.create_unit(code="F", name="故障测试公司", kind="company")
        for index in range(60):
            if index == 20:
                service.kill()  # mid-flow: requests now wait in the durable RPC queue
                eventlet.spawn_after(1.0, service.start)
            if index == 40:
                vhost = amqp_uri.rsplit("/", 1)[1]
                assert close_all_connections(vhost) > 0
            add_member_surely(amqp_uri, index, unit["id"])
        engine = create_engine(url)
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                members = conn.scalar(text("SELECT count(*) FROM members"))
                emitted = conn.scalar(text("SELECT count(*) FROM outbox WHERE event_type = "
                                           "'organization.member_joined'"))
                unpublished = conn.scalar(text(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL"))
            if not unpublished or time.monotonic() > deadline:
                break
            eventlet.sleep(0.2)
        engine.dispose()
        assert members == emitted == 60 and unpublished == 0
        # The cut closed the subscriber's connection too; its durable queue kept the rest.
        received = [m["body"] for m in sub.collect(0, timeout=0.1)]
        with Connection(amqp_uri) as conn:
            rest = conn.SimpleQueue(sub.queue.name)
            while True:
                try:
                    message = rest.get(timeout=2)
                except rest.Empty:
                    break
                received.append(message.payload)
                message.ack()
        ids = {m["id"] for m in received}
        numbers = {m["data"]["employee_no"] for m in received}
        assert len(ids) == 60, f"lost {60 - len(ids)} events"  # repeats allowed, loss not
        assert numbers == {f"F{i:03d}" for i in range(60)}
    finally:
        service.stop()
