"""Persistence of the notifications service (SQLAlchemy 2 models).

* configuration as data: reminder rules, members' preferences, units' group robots
  (WeCom / DingTalk), webhook subscriptions (their secrets and URLs encrypted at rest:
  ``sealing.Sealed``);
* the delivery log: one ``deliveries`` row per (rule, recipient, subject, period, channel),
  unique by its dedupe key, with one ``delivery_attempts`` row per try; and the in-app inbox.

The read model of the union tree that recipients are resolved from is the kit's
(``gonghui.directory``: its tables live in this database too).
"""

import uuid
from datetime import datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.notifications.sealing import Sealed


class Model(DeclarativeBase):
    pass


# ------------------------------------------------------------------ configuration as data


class Rule(Model):
    """For one event type: who is told, on which channels, with which template, how urgent."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    event_type: Mapped[str] = mapped_column(String(120), index=True)
    audience: Mapped[list] = mapped_column(JSONB)
    channels: Mapped[list] = mapped_column(JSONB)
    template: Mapped[str] = mapped_column(String(60))
    urgency: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class Preference(Model):
    __tablename__ = "preferences"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(5), server_default="zh")
    # {kind: [channel, ...]}; a kind not listed uses the rule's channels.
    channels: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    digest: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    digest_hour: Mapped[int] = mapped_column(Integer, server_default=text("18"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class UnitRobot(Model):
    """A unit's group robot: WeCom (企业微信) or DingTalk (钉钉) webhook, one of each."""

    __tablename__ = "unit_robots"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(100))
    webhook_url: Mapped[str] = mapped_column(Sealed)  # its query carries the robot's key
    secret: Mapped[str | None] = mapped_column(Sealed)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Messages per rate window (NOTIFY_RATE_WINDOW_SECONDS); NULL: its kind's default.
    rate_limit: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("unit_id", "kind"),)


class WebhookSubscription(Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Sealed)  # may carry a key in its query
    secret: Mapped[str] = mapped_column(Sealed)
    event_types: Mapped[list] = mapped_column(JSONB)
    owner_member_id: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    rate_limit: Mapped[int | None] = mapped_column(Integer)  # as UnitRobot.rate_limit
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


# ------------------------------------------------------------------ delivery log and inbox


class Delivery(Model):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(Text, unique=True)
    rule_key: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=True), index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10))
    digest: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Why it waited: quiet_hours, digest, or "rate_limit: wecom robot 3, 20/min".
    held_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The message that carried it: one merged robot message carries several deliveries.
    message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    __table_args__ = (
        # What the dispatcher claims: due rows of a channel, oldest first.
        Index("ix_deliveries_due", "channel", "next_attempt_at",
              postgresql_where=text("status = 'pending'")),
        Index("ix_deliveries_dead", "id", postgresql_where=text("status = 'dead'")),
    )


class SendBucket(Model):
    """The token bucket of one robot or webhook subscription (``throttle.py``): one row per
    ``(channel, target)``, locked by the sender that takes a token, so every replica shares
    it."""

    __tablename__ = "send_buckets"

    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    target: Mapped[str] = mapped_column(Text, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryAttempt(Model):
    """One try of one delivery. ``outcome`` is NULL while the try is under way: a row left
    NULL by a process that died mid-send is "in doubt" (the send may have happened)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key: the row is written on a second connection while the delivery row is
    # locked by the sending transaction (a key-share lock would wait on it).
    delivery_id: Mapped[int] = mapped_column(BigInteger, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class InboxItem(Model):
    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    member_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    event_type: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_inbox_member", "member_id", "id"),
                      Index("ix_inbox_unread", "member_id",
                            postgresql_where=text("read_at IS NULL")),)
