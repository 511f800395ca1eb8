"""What the gateway keeps (SQLAlchemy 2 models): accounts, their one-time codes, web
sessions, API tokens, login attempts (for the rate limit) and the answers to idempotent
requests. No domain data: who a person is in the union (member, officer of which unions)
comes from the kit's read model of organization's tree (``gonghui.directory``, its tables in
this database too), read at each request.

Every secret (password, session id, token, one-time code) is stored hashed: a copy of the
database lets nobody in.
"""

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


def now():
    """The gateway's clock: every time it stamps and every time it compares with (a login
    attempt's window, a session's week) is read from it, so a host whose clock differs from
    the database's neither locks nobody out nor ends every session at once."""
    return datetime.now(UTC)


def _now():
    return mapped_column(DateTime(timezone=True), default=now, server_default=func.now())


class Account(Model):
    """A person's login: by employee number (工号), the member organization knows by it. The
    platform-wide grants an operator or an administrator gives are flags here; a union
    officer's rights come from organization's roles, not from this row."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_auditor: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class OneTimeCode(Model):
    """A code an officer (or an administrator) issues so that a person sets their first, or
    a forgotten, password; single use, short-lived."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(40), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class WebSession(Model):
    """A browser's session: the cookie holds a random id, the row its SHA-256, the CSRF
    token that state-changing requests must echo, and its expiry (sliding, capped)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Model):
    """A token for another system: read-only or read-write, over the whole tree or one
    unit's subtree; shown once, stored as its SHA-256 (the prefix identifies it in lists)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access: Mapped[str] = mapped_column(String(10))  # read | write
    unit_id: Mapped[int | None] = mapped_column(Integer)  # None: the whole tree
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Model):
    """One login attempt, by the login it named and the address it came from; the rate limit
    counts the recent failures of each."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_login_at", "login", "at"),
                      Index("ix_login_attempts_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    login: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = _now()


class IdempotentRequest(Model):
    """The first answer to a POST that carried an ``Idempotency-Key``: the same key from the
    same caller gets it again, and nothing is created twice."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    caller: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict | list | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()
