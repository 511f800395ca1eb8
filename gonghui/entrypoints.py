"""Entrypoints of every service: validated transactional RPC, and reliable event handlers.

``@rpc(args=Schema, result=Schema)``: arguments are loaded by marshmallow (bad input raises a
typed ``ValidationError`` with field messages before anything is written; the schema must
derive from :class:`gonghui.schemas.Arguments`, which refuses a NUL byte or a lone surrogate
in any string), the worker's transaction is committed *before* the reply is sent, and the
result is dumped to JSON primitives.

``@event_handler(source, event)``: the envelope is validated (an invalid one goes straight to
the dead-letter queue), the event id is recorded in the inbox table in the same transaction
as the handler's effects so a repeat is ignored, and a failing handler is retried with
exponential backoff through a per-queue retry queue, then dead-lettered with its error; both
are reached through the consuming service's own ``<service>.retry`` exchange.
"""

import functools
import logging
import traceback
from collections import namedtuple
from datetime import UTC, datetime

import marshmallow
from eventlet.semaphore import Semaphore
from kombu import Connection, Exchange, Queue
from nameko.events import EventHandler
from nameko.messaging import Consumer
from nameko.rpc import Rpc
from nameko.standalone.events import get_event_exchange
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gonghui.actor import OFFICE_KINDS, require_kind
from gonghui.amqp import ConfirmingPublisher, PublishFailed
from gonghui.db import finish_transactions
from gonghui.errors import EXPECTED_ERRORS, ValidationError
from gonghui.events import CATALOG, EnvelopeSchema
from gonghui.paging import with_total
from gonghui.schemas import Arguments, Page, shared
from gonghui.tables import inbox

log = logging.getLogger(__name__)

RpcSpec = namedtuple("RpcSpec", "name args result many writes errors doc actors")


def load_arguments(schema_cls, args, kwargs):
    """Map positional arguments onto the schema's fields in order, then load."""
    if schema_cls is None:
        if args or kwargs:
            raise ValidationError("this method takes no arguments",
                                  {"_schema": ["unexpected arguments"]})
        return {}
    schema = shared(schema_cls)
    names = [n for n, f in schema.fields.items() if not f.dump_only]
    if len(args) > len(names):
        raise ValidationError("too many positional arguments",
                              {"_schema": [f"expected at most {len(names)}"]})
    data = dict(zip(names, args, strict=False))
    clash = set(data) & set(kwargs)
    if clash:
        raise ValidationError("argument given twice", {n: ["given twice"] for n in clash})
    data.update(kwargs)
    try:
        return schema.load(data)
    except marshmallow.ValidationError as exc:
        raise ValidationError("invalid arguments", exc.normalized_messages()) from None


class TransactionalRpc(Rpc):
    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        exc_info = finish_transactions(worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        return super().handle_result(message, worker_ctx, result, exc_info)


def rpc(args=None, result=None, many=False, writes=False, errors=(), actors=None):
    """Declare a validated, transactional RPC method.

    ``writes=True`` methods require an actor in the call's context and record what they do;
    the actor's kind must be one of ``actors`` (by default the offices' and the platform's,
    :data:`gonghui.actor.OFFICE_KINDS`: a member's or an auditor's actor is refused). A
    method a member calls for themselves says ``actors=MEMBER_ACTS`` and checks that the
    member it is given is the actor (:func:`gonghui.actor.require_self`). A read that names
    ``actors`` requires an actor of those kinds too (personal data).

    A list (``args`` derive from :class:`gonghui.schemas.Page`) returns a
    :class:`gonghui.paging.ListPage`; the method does not see ``with_total``: the kit answers
    ``{"items", "total"}`` when it is set, the list as ever when not.
    """

    if args is not None and not issubclass(args, Arguments):
        raise TypeError(f"{args.__name__}: an RPC argument schema derives from "
                        "gonghui.schemas.Arguments (it refuses unstorable text)")

    paged = args is not None and issubclass(args, Page)
    if paged and (result is None or not many):
        raise TypeError(f"{args.__name__}: a paged RPC answers a list (result=..., many=True)")

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(self, *call_args, **call_kwargs):
            data = load_arguments(args, call_args, call_kwargs)
            total_asked = data.pop("with_total") if paged else False
            if writes or actors is not None:
                # Before anything is read or written: who calls, and whether their kind may.
                require_kind(self.actor(), actors or OFFICE_KINDS)
            value = fn(self, **data)
            if total_asked:
                return with_total(value, lambda items: shared(result).dump(items, many=True))
            if result is None:
                return value
            return shared(result).dump(value, many=many)

        wrapper.rpc_spec = RpcSpec(fn.__name__, args, result, many, writes,
                                   (ValidationError,) + tuple(errors), fn.__doc__ or "",
                                   tuple(actors or (OFFICE_KINDS if writes else ())))
        return TransactionalRpc.decorator(expected_exceptions=EXPECTED_ERRORS)(wrapper)

    return decorate


# ---------------------------------------------------------------- consuming events

Event = namedtuple("Event", "id type version occurred_at producer actor data")


class PoisonEvent(Exception):
    """A message that can never be handled (not an envelope, or data breaking its schema):
    it goes to the dead-letter queue without retries."""


def parse_envelope(body, declared=None):
    """The event in ``body``, its data validated against ``declared`` (the producer's
    contract the handler names), else against the catalog's entry for its type."""
    try:
        envelope = shared(EnvelopeSchema).load(body if isinstance(body, dict) else {})
    except marshmallow.ValidationError as exc:
        raise PoisonEvent(f"invalid envelope: {exc.normalized_messages()}") from None
    if declared is not None and envelope["type"] != declared.type:
        raise PoisonEvent(f"a {envelope['type']} event reached the {declared.type} handler")
    declared = declared or CATALOG.get(envelope["type"])
    data = envelope["data"]
    if declared is not None:
        try:
            data = shared(declared.schema, unknown=marshmallow.EXCLUDE).load(data)
        except marshmallow.ValidationError as exc:
            raise PoisonEvent(f"invalid {envelope['type']} data: "
                              f"{exc.normalized_messages()}") from None
    return Event(envelope["id"], envelope["type"], envelope["version"],
                 envelope["occurred_at"], envelope["producer"], envelope["actor"], data)


def retry_exchange_name(service_name):
    """The consuming service's own direct exchange for its handlers' retries and dead
    letters: failed events are parked, and come back, through it - never through the
    default exchange, which would let the service publish into any queue by name."""
    return f"{service_name}.retry"


def queue_arguments(queue_name, delivery_limit, retry_exchange):
    # Quorum queue: a message whose handler crashes the process again and again is
    # dead-lettered by the broker after ``delivery_limit`` deliveries, to ``<queue>.dlq``.
    return {"x-queue-type": "quorum", "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": retry_exchange,
            "x-dead-letter-routing-key": f"{queue_name}.dlq"}


def retry_queue_arguments(queue_name, retry_exchange):
    # Messages wait here for their per-message TTL, then go back to the handler's queue.
    return {"x-dead-letter-exchange": retry_exchange, "x-dead-letter-routing-key": queue_name}


def handler_queue_name(source_service, event_name, service_name, method_name):
    return f"evt-{source_service}-{event_name}--{service_name}.{method_name}"


class ReliableEventHandler(EventHandler):
    ATTEMPTS_HEADER = "x-gonghui-attempts"

    def setup(self):
        config = self.container.config
        self.retry_limit = int(config.get("EVENT_RETRY_LIMIT", 5))
        self.retry_base = float(config.get("EVENT_RETRY_BASE_SECONDS", 1.0))
        self.delivery_limit = int(config.get("EVENT_DELIVERY_LIMIT", 20))
        name = handler_queue_name(self.source_service, self.event_type,
                                  self.container.service_name, self.method_name)
        self.retry_exchange = retry_exchange_name(self.container.service_name)
        self.queue = Queue(name, exchange=get_event_exchange(self.source_service, config),
                           routing_key=self.event_type, durable=True,
                           queue_arguments=queue_arguments(name, self.delivery_limit,
                                                           self.retry_exchange))
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        # one connection for every worker of this handler: two failing at once must not read
        # its socket together (eventlet refuses: "Second simultaneous read")
        self.publisher_lock = Semaphore()
        Consumer.setup(self)

    def start(self):
        """Declare (idempotently; the deploy definitions declare the same) the service's
        retry exchange, the handler's queue, its ``.retry`` and ``.dlq``, and their bindings
        on the retry exchange, each queue under its own name as routing key."""
        with Connection(self.container.config["AMQP_URI"]) as conn:
            channel = conn.channel()
            name = self.queue.name
            Exchange(self.retry_exchange, type="direct", durable=True)(channel).declare()
            Queue(name, durable=True, queue_arguments=self.queue.queue_arguments)(
                channel).queue_declare()
            Queue(f"{name}.retry", durable=True,
                  queue_arguments=retry_queue_arguments(name, self.retry_exchange))(
                channel).queue_declare()
            Queue(f"{name}.dlq", durable=True)(channel).queue_declare()
            for queue_name in (name, f"{name}.retry", f"{name}.dlq"):
                channel.queue_bind(queue_name, self.retry_exchange, queue_name)

    def stop(self):
        super().stop()
        self.publisher.close()

    def backoff_seconds(self, attempt):
        return min(300.0, self.retry_base * 4 ** (attempt - 1))

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        exc_info = finish_transactions(worker_ctx, exc_info)
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        exc = exc_info[1]
        headers = dict(message.headers or {})
        attempt = int(headers.get(self.ATTEMPTS_HEADER, 0)) + 1
        headers[self.ATTEMPTS_HEADER] = attempt
        headers["x-gonghui-error"] = "".join(
            traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        properties = {"headers": headers, "content_type": message.content_type,
                      "message_id": message.properties.get("message_id"), "mandatory": True}
        name = self.queue.name
        if isinstance(exc, PoisonEvent) or attempt > self.retry_limit:
            headers["x-gonghui-dead-lettered-at"] = datetime.now(UTC).isoformat()
            target = f"{name}.dlq"
            log.error("event dead-lettered to %s after %s attempt(s): %s", target, attempt,
                      headers["x-gonghui-error"])
        else:
            target = f"{name}.retry"
            properties["expiration"] = str(int(self.backoff_seconds(attempt) * 1000))
            log.warning("event handler failed (attempt %s), retrying in %ss", attempt,
                        self.backoff_seconds(attempt))
        try:
            with self.publisher_lock:
                returned = len(self.publisher.returned)
                self.publisher.publish(self.retry_exchange, target, message.body, properties)
                if len(self.publisher.returned) > returned:  # mandatory: nothing routed it
                    raise PublishFailed(f"{self.retry_exchange} has no binding for {target}")
        except PublishFailed:
            log.exception("could not park the failed event; requeueing it")
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, exc_info


def event_handler(declared):
    """Declare a reliable, idempotent handler of the event type ``declared``, named from the
    producer's contract module (``services/<producer>/events.py``): its data is validated
    against that contract, and a malformed event is dead-lettered.

    The method receives an :class:`Event`; the service must have a ``db`` Database.
    """
    source_service, event_name = declared.producer, declared.name

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(self, body):
            event = parse_envelope(body, declared)
            claimed = self.db.execute(
                pg_insert(inbox)
                .values(event_id=event.id, handler=f"{self.name}.{fn.__name__}",
                        event_type=event.type)
                .on_conflict_do_nothing()
                .returning(inbox.c.event_id)
            ).first()
            if claimed is None:
                log.info("event %s already handled by %s.%s: ignored", event.id, self.name,
                         fn.__name__)
                return None
            return fn(self, event)

        wrapper.handles_event = (source_service, event_name)
        return ReliableEventHandler.decorator(source_service, event_name)(wrapper)

    return decorate
