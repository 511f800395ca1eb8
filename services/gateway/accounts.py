"""Logging in: passwords (argon2id), one-time codes for the first password, browser
sessions with their CSRF token, API tokens, and the rate limit on login attempts.

The login module is shaped for single sign-on to join later: :func:`open_session` takes an
account that *some* method authenticated (here :func:`check_password`); an OIDC or
WeCom/DingTalk callback would find the account by its employee number and call it too.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update

from gonghui.errors import Conflict, Forbidden, NotFound, ValidationError
from services.gateway.models import (
    Account,
    ApiToken,
    IdempotentRequest,
    LoginAttempt,
    OneTimeCode,
    WebSession,
    now,
)

SESSION_IDLE = timedelta(hours=8)  # a session unused this long expires
SESSION_MAX = timedelta(days=7)  # and every session after this, used or not
# A session's idle expiry (and a token's last use) is written when it moves by more than
# this, not on every request: the write and its row lock, held until the request's commit,
# were most of what a request cost the gateway beyond its RPC (bench/GATEWAY.md).
TOUCH_EVERY = timedelta(minutes=1)
CODE_LIFETIME = timedelta(hours=48)
MIN_PASSWORD = 10
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN = 5  # then the account is locked for the rest of the window
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "ghk_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the login names nobody, so that an unknown login takes as long as a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class TooManyAttempts(Forbidden):
    """Refused by the rate limit (HTTP 429); ``retry_after`` seconds."""

    http_status, problem_kind = 429, "too-many-attempts"

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.http_headers = {"Retry-After": str(retry_after)}


class NotAuthenticated(Forbidden):
    """Wrong or missing credentials (HTTP 401)."""

    http_status, problem_kind = 401, "not-authenticated"


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def password_problems(password, employee_no):
    """What is wrong with a new password (a list of messages; empty when it will do)."""
    found = []
    if len(password) < MIN_PASSWORD:
        found.append(f"at least {MIN_PASSWORD} characters")
    if employee_no and employee_no.lower() in password.lower():
        found.append("must not contain the employee number")
    if len(set(password)) < 4:
        found.append("too few different characters")
    return found


# ------------------------------------------------------------------ the rate limit


def check_rate(session, login, address, at=None):
    """Refuse (``TooManyAttempts``) a login named, or an address used, by too many recent
    failures."""
    at = at or now()
    since = at - ATTEMPT_WINDOW

    def failures(*where):
        return session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.at > since, *where))

    retry = int(ATTEMPT_WINDOW.total_seconds())
    if failures(LoginAttempt.login == login) >= MAX_FAILURES_PER_LOGIN:
        raise TooManyAttempts("too many failed logins for this account: try again later", retry)
    if failures(LoginAttempt.address == address) >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("too many failed logins from this address: try again later",
                              retry)


def record_attempt(session, login, address, succeeded):
    session.add(LoginAttempt(login=login, address=address, succeeded=succeeded))


# How long what the gateway keeps of past requests is worth keeping.
ATTEMPTS_KEPT = timedelta(days=1)  # far beyond the rate limit's window
ENDED_SESSIONS_KEPT = timedelta(days=1)
IDEMPOTENCY_KEPT = timedelta(hours=24)  # a retry comes within minutes; a day is generous
SPENT_CODES_KEPT = timedelta(days=7)


def prune(session, at=None):
    """Forget what no longer counts: old login attempts, sessions that ended, the answers to
    idempotent requests past their day, codes used or expired. Returns the rows deleted per
    table (the gateway's hourly timer calls it)."""
    at = at or now()
    deleted = {}
    for name, statement in (
            ("login_attempts", delete(LoginAttempt).where(LoginAttempt.at < at - ATTEMPTS_KEPT)),
            ("web_sessions", delete(WebSession).where(
                (WebSession.expires_at < at - ENDED_SESSIONS_KEPT)
                | (WebSession.revoked_at < at - ENDED_SESSIONS_KEPT))),
            ("idempotent_requests", delete(IdempotentRequest).where(
                IdempotentRequest.created_at < at - IDEMPOTENCY_KEPT)),
            ("one_time_codes", delete(OneTimeCode).where(
                (OneTimeCode.expires_at < at - SPENT_CODES_KEPT)
                | (OneTimeCode.used_at < at - SPENT_CODES_KEPT)))):
        deleted[name] = session.execute(statement).rowcount
    return deleted


# ------------------------------------------------------------------ passwords and codes


def account_for(session, employee_no, create=False):
    account = session.scalar(select(Account).where(Account.employee_no == employee_no))
    if account is None and create:
        account = Account(employee_no=employee_no)
        session.add(account)
        session.flush()
    return account


def check_password(session, employee_no, password):
    """The account if ``password`` is its password, else ``NotAuthenticated`` (the same
    message whether the account exists or not)."""
    account = account_for(session, employee_no)
    stored = account.password_hash if account is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise NotAuthenticated("wrong login or password") from None
    if stored is None or account.disabled:
        raise NotAuthenticated("wrong login or password")
    if _hasher.check_needs_rehash(stored):
        account.password_hash = _hasher.hash(password)
    return account


def issue_code(session, employee_no, issued_by):
    """A new one-time code for the person (earlier unused ones stop working); shown once."""
    code = "".join(secrets.choice("0123456789") for _ in range(8))
    session.execute(update(OneTimeCode).where(OneTimeCode.employee_no == employee_no,
                                              OneTimeCode.used_at.is_(None))
                    .values(used_at=now()))
    row = OneTimeCode(employee_no=employee_no, code_hash=digest(f"{employee_no}:{code}"),
                      issued_by=issued_by, expires_at=now() + CODE_LIFETIME)
    session.add(row)
    session.flush()
    return code, row.expires_at


def set_password_with_code(session, employee_no, code, password):
    """Spend the code and set the password; the person's other sessions end."""
    problems = password_problems(password, employee_no)
    if problems:
        raise ValidationError("the password will not do", {"password": problems})
    row = session.scalar(select(OneTimeCode).where(
        OneTimeCode.employee_no == employee_no,
        OneTimeCode.code_hash == digest(f"{employee_no}:{code}"),
        OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now()))
    if row is None:
        raise NotAuthenticated("the code is wrong, used or expired")
    row.used_at = now()
    account = account_for(session, employee_no, create=True)
    account.password_hash = _hasher.hash(password)
    account.password_set_at = now()
    revoke_sessions(session, account.id)
    return account


# ------------------------------------------------------------------ browser sessions


@dataclass(frozen=True)
class OpenedSession:
    cookie: str  # the session id, only ever in the cookie
    csrf_token: str
    expires_at: datetime


def open_session(session, account, address):
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now() + SESSION_IDLE
    session.add(WebSession(id_hash=digest(cookie), account_id=account.id, csrf_token=csrf,
                           address=address, expires_at=expires))
    return OpenedSession(cookie, csrf, expires)


def session_account(session, cookie):
    """``(WebSession, Account)`` of a live session cookie, else None; a use slides the idle
    expiry forward, never past ``SESSION_MAX`` from the login."""
    row = session.scalar(select(WebSession).where(WebSession.id_hash == digest(cookie)))
    at = now()
    if row is None or row.revoked_at is not None or row.expires_at <= at:
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.disabled:
        return None
    slid = min(at + SESSION_IDLE, row.created_at + SESSION_MAX)
    if slid - row.expires_at > TOUCH_EVERY:
        row.last_seen_at, row.expires_at = at, slid
    return row, account


def revoke_session(session, row):
    row.revoked_at = now()


def revoke_sessions(session, account_id):
    session.execute(update(WebSession).where(WebSession.account_id == account_id,
                                             WebSession.revoked_at.is_(None))
                    .values(revoked_at=now()))


# ------------------------------------------------------------------ API tokens


def create_token(session, name, access, unit_id, created_by):
    """A new token; the secret is returned once and kept only as its SHA-256."""
    if access not in ("read", "write"):
        raise ValidationError("invalid token", {"access": ["read or write"]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, prefix=secret[:12], token_hash=digest(secret), access=access,
                   unit_id=unit_id, created_by=created_by)
    session.add(row)
    session.flush()
    session.refresh(row)  # its server-side defaults (created_at)
    return row, secret


def token_for(session, secret):
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    at = now()
    if row.last_used_at is None or at - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = at
    return row


def revoke_token(session, token_id):
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} not found", {"token_id": ["not found"]})
    if row.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked", {"token_id": ["revoked"]})
    row.revoked_at = now()
    return row
