"""The event envelope, the catalog of event types, and emitting through the outbox.

Every event is published to the topic exchange ``<producer>.events`` with the bare event
name as routing key (what nameko's EventDispatcher uses), and its body is one envelope:
``{id, type, version, occurred_at, producer, actor, data}``.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate
from sqlalchemy import insert

from gonghui.schemas import shared
from gonghui.tables import audit_log, outbox


class ActorSchema(Schema):
    kind = fields.String(required=True)
    id = fields.String(required=True)


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    producer = fields.String(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class EventType:
    producer: str
    name: str
    schema: type
    description: str
    version: int = 1

    @property
    def type(self):
        return f"{self.producer}.{self.name}"

    @property
    def exchange(self):
        return f"{self.producer}.events"


CATALOG = {}


def types_of(contract):
    """``{name: EventType}`` of a producer's contract module."""
    return {d.name: d for d in vars(contract).values() if isinstance(d, EventType)}


def event_type(producer, name, schema, description, version=1):
    """Declare an event type; the catalog feeds the AsyncAPI document and validation."""
    declared = EventType(producer, name, schema, description, version)
    if declared.type in CATALOG and CATALOG[declared.type] != declared:
        raise ValueError(f"event type {declared.type} declared twice")
    CATALOG[declared.type] = declared
    return declared


class InvalidEventData(Exception):
    """A producer tried to emit data that breaks its own published contract (a bug)."""


def build_envelope(declared, data, actor, occurred_at=None, event_id=None):
    schema = shared(declared.schema)
    payload = schema.dump(data)
    errors = schema.validate(payload)
    if errors:
        raise InvalidEventData(f"{declared.type}: {errors}")
    return {
        "id": str(event_id or uuid.uuid4()),
        "type": declared.type,
        "version": declared.version,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "producer": declared.producer,
        "actor": actor.as_dict(),
        "data": payload,
    }


def emit(session, declared, data, *, actor, aggregate, changes=None, action=None):
    """Write the event to the outbox and the change to the audit trail, in the caller's
    transaction: they commit (or vanish) together with the change itself.

    ``aggregate`` is ``(type, id)``; events of one aggregate are published in this order.
    """
    envelope = build_envelope(declared, data, actor)
    # insert(table) with parameters, not .values(): one cached compiled statement
    session.execute(insert(outbox), _outbox_row(declared, envelope, aggregate))
    record_change(session, actor, action or declared.type, aggregate,
                  changes if changes is not None else envelope["data"], envelope["id"])
    session.info["outbox_written"] = True
    return envelope


def emit_many(session, declared, items, *, actor, aggregate_type):
    """:func:`emit` for many events of one type at once: ``items`` are ``(data, aggregate
    id)`` pairs, written to the outbox and the audit trail with two multi-row inserts."""
    if not items:
        return []
    written = [(build_envelope(declared, data, actor), (aggregate_type, ident))
               for data, ident in items]
    session.execute(insert(outbox), [_outbox_row(declared, envelope, aggregate)
                                     for envelope, aggregate in written])
    session.execute(insert(audit_log), [
        _audit_row(actor, declared.type, aggregate, envelope["data"], envelope["id"])
        for envelope, aggregate in written])
    session.info["outbox_written"] = True
    return [envelope for envelope, _ in written]


def record_change(session, actor, action, entity, changes, event_id=None):
    """The audit trail: who did what to which record, in the caller's transaction. Changes
    that publish an event go through :func:`emit`, which calls this."""
    session.execute(insert(audit_log), _audit_row(actor, action, entity, changes, event_id))


def _outbox_row(declared, envelope, aggregate):
    aggregate_type, aggregate_id = aggregate
    return {"event_id": envelope["id"], "event_type": declared.type,
            "aggregate_type": aggregate_type, "aggregate_id": str(aggregate_id),
            "envelope": envelope}


def _audit_row(actor, action, entity, changes, event_id):
    entity_type, entity_id = entity
    return {"actor_kind": actor.kind, "actor_id": actor.id, "action": action,
            "entity_type": entity_type, "entity_id": str(entity_id), "changes": changes,
            "event_id": event_id}
