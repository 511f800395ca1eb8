"""The kit over the real broker and database: outbox relay, inbox dedupe, retries and
dead letters, pre-declared queues, concurrency of database work under eventlet."""

import time
import uuid

import eventlet
from kombu import Connection
from sqlalchemy import create_engine, func, select

from gonghui.actor import Actor
from gonghui.amqp import ConfirmingPublisher
from gonghui.entrypoints import handler_queue_name, queue_arguments, retry_exchange_name
from gonghui.events import build_envelope
from gonghui.tables import audit_log, inbox, outbox
from services.organization import events as org_events
from services.organization.service import OrganizationService
from tests.support.probe_service import ProbeService


def count(url, table, *where):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(select(func.count()).select_from(table).where(*where))
    engine.dispose()
    return value


def create_units(rpc, n, prefix="U"):
    with rpc() as proxy:
        top = proxy.organization.create_unit(code=f"{prefix}0", name="公司", kind="company")
        for i in range(1, n):
            proxy.organization.create_unit(code=f"{prefix}{i}", name=f"单位{i}",
                                           kind="plant", parent_id=top["id"])


def test_outbox_crash_after_commit_loses_nothing(start_service, rpc, subscribe, databases):
    """Changes committed while the relay cannot publish (the process dies before it does)
    are published once the service is back, in commit order, each exactly once."""
    sub = subscribe("organization.events")
    crashed = start_service(OrganizationService, OUTBOX_RELAY=False)
    create_units(rpc, 5)
    crashed.kill()  # dies with 5 committed, unpublished events
    url = databases["organization"]
    assert count(url, outbox, outbox.c.published_at.is_(None)) == 5
    assert sub.collect(0, timeout=0.5) == []
    start_service(OrganizationService)
    got = sub.collect(5)
    assert [m["body"]["data"]["unit_id"] for m in got] == [1, 2, 3, 4, 5]
    assert count(url, outbox, outbox.c.published_at.is_(None)) == 0


def test_two_relays_never_publish_a_row_twice(start_service, rpc, subscribe, databases):
    sub = subscribe("organization.events")
    first = start_service(OrganizationService, OUTBOX_RELAY=False)
    create_units(rpc, 40)
    first.kill()
    start_service(OrganizationService, OUTBOX_POLL_SECONDS=0.01)
    start_service(OrganizationService, OUTBOX_POLL_SECONDS=0.01)
    got = sub.collect(40)
    ids = [m["body"]["id"] for m in got]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert [m["body"]["data"]["unit_id"] for m in got] == list(range(1, 41))


def test_every_envelope_reaches_a_consumer_service_once(start_service, rpc, databases):
    """Two services on the broker: organization emits, the probe consumes through the kit
    and records each event id in its inbox with its effect."""
    start_service(OrganizationService)
    start_service(ProbeService, config_service="organization")
    create_units(rpc, 3, prefix="P")
    url = databases["organization"]
    deadline = time.monotonic() + 10
    while count(url, audit_log, audit_log.c.action == "probe.seen") < 3:
        assert time.monotonic() < deadline, "probe did not handle the events"
        eventlet.sleep(0.1)
    assert count(url, inbox) == 3


def envelope(event_type_declared, data):
    return build_envelope(event_type_declared, data, Actor("system", "test"))


def publish(amqp_uri, exchange, routing_key, body):
    publisher = ConfirmingPublisher(amqp_uri)
    publisher.publish(exchange, routing_key, body, {"message_id": body.get("id")
                                                   if isinstance(body, dict) else None})
    publisher.close()


def unit_created(unit_id=7):
    return envelope(org_events.UNIT_CREATED, {
        "unit_id": unit_id, "unit_name": "一厂", "code": "X", "kind": "plant", "domain": None,
        "parent_id": None, "parent_name": None, "established_on": None})


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        eventlet.sleep(0.1)


def queue_depth(amqp_uri, name):
    with Connection(amqp_uri) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def test_duplicate_delivery_is_handled_once(start_service, amqp_uri, databases):
    start_service(ProbeService, config_service="organization")
    body = unit_created()
    for _ in range(3):
        publish(amqp_uri, "organization.events", "unit_created", body)
    url = databases["organization"]
    wait_for(lambda: count(url, inbox) == 1)
    eventlet.sleep(0.5)
    assert count(url, audit_log, audit_log.c.action == "probe.seen") == 1


def flaky_event(fail_times):
    return {"id": str(uuid.uuid4()), "type": "testsource.flaky", "version": 1,
            "occurred_at": "2026-11-24T00:00:00+00:00", "producer": "testsource",
            "actor": {"kind": "system", "id": "test"}, "data": {"fail_times": fail_times}}


FLAKY_QUEUE = handler_queue_name("testsource", "flaky", "probe", "on_flaky")


def test_failing_handler_is_retried_with_backoff_then_succeeds(start_service, amqp_uri,
                                                               databases):
    start_service(ProbeService, config_service="organization", EVENT_RETRY_LIMIT=3)
    body = flaky_event(fail_times=2)
    publish(amqp_uri, "testsource.events", "flaky", body)
    url = databases["organization"]
    wait_for(lambda: count(url, audit_log, audit_log.c.action == "probe.flaky_handled") == 1)
    assert queue_depth(amqp_uri, f"{FLAKY_QUEUE}.dlq") == 0


def test_handlers_failing_at_once_are_all_retried(start_service, amqp_uri, databases):
    """Workers failing together share the handler's publisher: each event is parked in the
    retry queue and handled on its next attempt."""
    start_service(ProbeService, config_service="organization", EVENT_RETRY_LIMIT=3)
    bodies = [flaky_event(fail_times=1) for _ in range(8)]
    publisher = ConfirmingPublisher(amqp_uri)
    publisher.publish_batch([("testsource.events", "flaky", body, {}) for body in bodies])
    publisher.close()
    url = databases["organization"]
    wait_for(lambda: count(url, audit_log, audit_log.c.action == "probe.flaky_handled") == 8)
    assert queue_depth(amqp_uri, f"{FLAKY_QUEUE}.dlq") == 0


def test_poison_event_is_dead_lettered_with_its_error(start_service, amqp_uri, databases):
    start_service(ProbeService, config_service="organization", EVENT_RETRY_LIMIT=3)
    body = flaky_event(fail_times=99)
    publish(amqp_uri, "testsource.events", "flaky", body)
    wait_for(lambda: queue_depth(amqp_uri, f"{FLAKY_QUEUE}.dlq") == 1)
    with Connection(amqp_uri) as conn:
        message = conn.SimpleQueue(f"{FLAKY_QUEUE}.dlq").get(timeout=5)
        headers = message.headers
        assert message.payload["id"] == body["id"]
        message.ack()
    from tests.support.probe_service import ATTEMPTS
    assert ATTEMPTS[uuid.UUID(body["id"])] == 4  # the first try and three retries
    assert headers["x-gonghui-attempts"] == 4
    assert "scripted failure 4" in headers["x-gonghui-error"]
    assert count(databases["organization"], inbox) == 0  # nothing half-done


def test_invalid_envelope_goes_straight_to_the_dead_letter_queue(start_service, amqp_uri):
    start_service(ProbeService, config_service="organization")
    publish(amqp_uri, "organization.events", "unit_created", {"not": "an envelope"})
    queue = handler_queue_name("organization", "unit_created", "probe", "on_unit_created")
    wait_for(lambda: queue_depth(amqp_uri, f"{queue}.dlq") == 1)
    with Connection(amqp_uri) as conn:
        message = conn.SimpleQueue(f"{queue}.dlq").get(timeout=5)
        assert message.headers["x-gonghui-attempts"] == 1
        assert "invalid envelope" in message.headers["x-gonghui-error"]


def test_events_published_before_the_consumer_starts_are_kept(start_service, amqp_uri,
                                                              databases):
    """Queues are declared at deploy time (as the definitions do), so events sent while the
    consuming service is not running wait for it."""
    name = handler_queue_name("organization", "unit_created", "probe", "on_unit_created")
    with Connection(amqp_uri) as conn:
        from kombu import Exchange, Queue
        Queue(name, Exchange("organization.events", type="topic", durable=True),
              routing_key="unit_created", durable=True,
              queue_arguments=queue_arguments(name, 20, retry_exchange_name("probe")))(
            conn.default_channel).declare()
    for unit_id in (1, 2, 3):
        publish(amqp_uri, "organization.events", "unit_created", unit_created(unit_id))
    eventlet.sleep(0.3)
    start_service(ProbeService, config_service="organization")
    url = databases["organization"]
    wait_for(lambda: count(url, audit_log, audit_log.c.action == "probe.seen") == 3)


def test_concurrent_database_work_does_not_serialise(start_service, rpc):
    """20 RPC calls each holding a 0.2 s pg_sleep: with a cooperative driver they overlap
    (a blocking one would need 4 s)."""
    start_service(ProbeService, config_service="organization", max_workers=20)
    with rpc() as proxy:
        proxy.probe.sleep()  # warm up the pool and the reply queue
        started = time.monotonic()
        replies = [proxy.probe.sleep.call_async() for _ in range(20)]
        assert [r.result() for r in replies] == ["slept"] * 20
        elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"20 concurrent 0.2 s queries took {elapsed:.2f}s"


def test_service_to_service_calls_have_a_timeout(start_service, rpc):
    from gonghui.errors import ServiceTimeout

    start_service(OrganizationService)
    start_service(ProbeService, config_service="organization", RPC_TIMEOUT=0.1)
    with rpc() as proxy:
        assert proxy.probe.organization_health() == "ok"
        started = time.monotonic()
        try:
            proxy.probe.ask_slow_self()
        except ServiceTimeout as exc:
            assert "probe.sleep did not answer within 0.1s" in str(exc)
        else:
            raise AssertionError("expected a ServiceTimeout")
        assert time.monotonic() - started < 3
