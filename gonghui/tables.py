"""Tables every service database has: outbox, inbox, audit trail, tick progress.

They live in one MetaData of the kit; each service's first migration creates them with
``gonghui.migrations.create_kit_tables`` and its Alembic env compares against both.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

KIT_METADATA = MetaData()

outbox = Table(
    "outbox",
    KIT_METADATA,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("aggregate_type", String(60), nullable=False),
    Column("aggregate_id", String(60), nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
)
Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))

inbox = Table(
    "inbox",
    KIT_METADATA,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("handler", String(200), primary_key=True),
    Column("event_type", String(120), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

audit_log = Table(
    "audit_log",
    KIT_METADATA,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_kind", String(20), nullable=False),
    Column("actor_id", String(60), nullable=False),
    Column("action", String(120), nullable=False),
    Column("entity_type", String(60), nullable=False),
    Column("entity_id", String(60), nullable=False),
    Column("changes", JSONB, nullable=False),
    Column("event_id", UUID(as_uuid=True)),
)
Index("ix_audit_entity", audit_log.c.entity_type, audit_log.c.entity_id)

# The last day whose periodic work (``tick``) completed, per kind of work: the hourly timer
# catches up from the day after it, so downtime skips no day's reminders.
tick_progress = Table(
    "tick_progress",
    KIT_METADATA,
    Column("name", String(60), primary_key=True),
    Column("completed_on", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
