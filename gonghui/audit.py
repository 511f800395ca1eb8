"""The audit trail, readable: every service answers ``audit_history`` over its own
``audit_log`` (who, when, what changed), newest first and paged.

The rows are written by :func:`gonghui.events.record_change` (and :func:`gonghui.events.emit`,
which calls it for every change that publishes an event); this module only reads them, plus
the one audit row a rebuild of a read model leaves (:func:`record_resync`).
"""

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from gonghui.entrypoints import rpc
from gonghui.events import ActorSchema, record_change
from gonghui.schemas import Arguments
from gonghui.tables import audit_log

# The entity a rebuild of a read model of the union tree is recorded on, in every service
# that keeps one (the actions are ``<service>.directory_resynced``).
RESYNC_ENTITY = ("directory", "organization")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def record_resync(session, actor, service_name, counts):
    """The audit row of ``resync_directory``: who rebuilt the read model and what it holds
    afterwards (``counts``; dates written as ISO strings)."""
    record_change(session, actor, f"{service_name}.directory_resynced", RESYNC_ENTITY,
                  {key: _plain(value) for key, value in counts.items()})


class EntityId(fields.String):
    """An entity's id as the audit trail keeps it (text): a string, or a whole number
    (``3`` and ``"3"`` name the same unit)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class AuditQuery(Arguments):
    """``audit_history(entity_type, entity_id, limit, offset)``, in that order (positional
    arguments follow the fields' order, so the paging fields are not inherited from
    ``Page``, whose fields would come first)."""

    entity_type = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z_]{0,59}$", error="a lower-case entity type such as unit or member"))
    entity_id = EntityId(required=True, validate=validate.Length(min=1, max=60))
    limit = fields.Integer(strict=True, load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0))


class AuditEntry(Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime(format="iso")
    actor = fields.Nested(ActorSchema)
    action = fields.String()
    changes = fields.Raw(metadata={"description": "what changed: the event's data, or "
                                                  "``{field: [old, new]}``"})
    event_id = fields.UUID(allow_none=True)


class AuditHistory(Schema):
    entity_type = fields.String()
    entity_id = fields.String()
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    entries = fields.List(fields.Nested(AuditEntry))


def history(session, entity_type, entity_id, limit, offset):
    """One page of an entity's audit trail, newest first, and how many rows it has."""
    where = (audit_log.c.entity_type == entity_type, audit_log.c.entity_id == entity_id)
    total = session.scalar(select(func.count()).select_from(audit_log).where(*where))
    rows = session.execute(select(audit_log).where(*where)
                           .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return {"entity_type": entity_type, "entity_id": entity_id, "total": total,
            "limit": limit, "offset": offset,
            "entries": [{"id": r.id, "occurred_at": r.occurred_at,
                         "actor": {"kind": r.actor_kind, "id": r.actor_id},
                         "action": r.action, "changes": r.changes, "event_id": r.event_id}
                        for r in rows]}


class AuditEntrypoints:
    """Mixed into every service (through ``ServiceBase``): ``audit_history`` over RPC."""

    @rpc(args=AuditQuery, result=AuditHistory)
    def audit_history(self, entity_type, entity_id, limit, offset):
        """An entity's history from this service's audit trail, newest first: who did it
        (``actor``), when, the action and what changed; ``total`` rows in all, ``limit``
        from ``offset``. Entities are named as in the events' aggregates (``unit``,
        ``member``, ``item``, ``commitment``, ``directory`` …)."""
        return history(self.db, entity_type, entity_id, limit, offset)
