"""Vendor limits: one token bucket per group robot and per webhook subscription, held in
PostgreSQL (``send_buckets``) so that every replica draws on the same one.

A sender takes a token in the transaction that claimed the delivery, under the bucket row's
lock (``SELECT … FOR UPDATE``): two replicas, or two greenthreads, never both take the last
token; the lock is held through the send, so sends to one robot are serialised (``take``
says how the others wait). The time is the database's (``clock_timestamp()``), not each
replica's.

A WeCom or DingTalk robot takes at most 20 messages a minute, and it counts over a sliding
minute. A bucket of capacity ``B`` refilled at ``r`` per second lets ``B + r·W`` messages
through in a window ``W``; to stay within ``N`` the bucket holds one token and refills
``N − 1`` per window: then ``N + 1`` messages always span more than the window (by one
refill interval, the margin for network jitter), and what waits for the robot piles up and
is merged into one message (``merging.py``) instead of spending a burst on single notices.

A delivery that finds no token is not attempted: it, and the other deliveries waiting for
that robot, become due when the next token is there, with the reason in ``held_reason``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.notifications.models import (
    Delivery,
    SendBucket,
    UnitRobot,
    WebhookSubscription,
)

THROTTLED = ("wecom", "dingtalk", "webhook")
ROBOT_CHANNELS = ("wecom", "dingtalk")
CAPACITY = 1.0  # see above: one token of burst keeps a sliding-window counter satisfied
RATE_HELD = "rate_limit:"  # how held_reason starts when a delivery waited for a token
B = SendBucket.__table__
D = Delivery.__table__


@dataclass(frozen=True)
class Limit:
    """``per_window`` messages per ``window`` seconds to one robot or subscription."""

    channel: str
    target: str
    per_window: int
    window: float

    @property
    def refill_per_second(self):
        return max(self.per_window - 1, 0.5) / self.window

    @property
    def interval(self):
        """Seconds between two messages when the bucket is empty."""
        return 1 / self.refill_per_second

    def reason(self):
        what = "webhook subscription" if self.channel == "webhook" else f"{self.channel} robot"
        return f"{RATE_HELD} {what} {self.target}, {self.per_window}/{window_name(self.window)}"


def window_name(seconds):
    if seconds == 60:
        return "min"
    if seconds == 3600:
        return "h"
    return f"{seconds:g}s"


def limit_for(session, settings, channel, target):
    """The limit of a robot or subscription: its own override, else its kind's default."""
    model = WebhookSubscription if channel == "webhook" else UnitRobot
    override = session.scalar(select(model.rate_limit).where(model.id == int(target)))
    return Limit(channel, target, override or settings.rate_of(channel), settings.rate_window)


@dataclass(frozen=True)
class Wait:
    """No token: the next one is there ``until``."""

    until: datetime


class BucketBusy(Exception):
    """Another sender holds the bucket: it is spending the token there is, and merges
    what else is due for the robot. The caller lets go of what it claimed (rolls back),
    untouched, and looks again after a pause: had it waited for the lock, or set its rows
    to wait, the holder could not have merged them."""


def _next_token(limit, tokens, refilled_at, now):
    """``(tokens now, None)`` when one is there, else ``(tokens now, when one will be)``."""
    elapsed = max((now - refilled_at).total_seconds(), 0.0)
    tokens = min(CAPACITY, tokens + elapsed * limit.refill_per_second)
    if tokens >= 1 - 1e-9:
        return tokens, None
    return tokens, now + timedelta(seconds=(1 - tokens) / limit.refill_per_second)


def take(session, limit):
    """Take one token from the limit's bucket. Returns None when one was taken (the
    bucket's row lock is held until the caller's transaction ends), else a :class:`Wait`
    (database time); raises :class:`BucketBusy` when another sender holds it.

    Only a sender that takes a token locks the bucket: one that finds none in the bucket
    as last committed waits without locking (every one that asks finds the same moment,
    so what waits for the robot becomes due together)."""
    key = (B.c.channel == limit.channel, B.c.target == limit.target)
    session.execute(pg_insert(B).values(channel=limit.channel, target=limit.target,
                                        tokens=CAPACITY, refilled_at=func.clock_timestamp())
                    .on_conflict_do_nothing(index_elements=["channel", "target"]))
    state = select(B.c.tokens, B.c.refilled_at, func.clock_timestamp()).where(*key)
    committed_tokens, committed_at, now = session.execute(state).one()
    _, next_at = _next_token(limit, committed_tokens, committed_at, now)
    if next_at is not None:
        return Wait(next_at)
    locked = session.execute(state.with_for_update(skip_locked=True)).one_or_none()
    if locked is None:
        raise BucketBusy(limit.reason())
    tokens, next_at = _next_token(limit, *locked)
    if next_at is not None:
        return Wait(next_at)
    session.execute(update(B).where(*key).values(tokens=tokens - 1, refilled_at=locked[2]))
    return None


def defer(session, limit, wait):
    """What waits for the next token (not an attempt: the count of attempts stays): every
    pending delivery to the limit's target due before it (rows other senders hold are
    theirs: they find the same moment)."""
    values = {"next_attempt_at": wait.until, "held_reason": limit.reason()}
    waiting = select(D.c.id).where(
        D.c.channel == limit.channel, D.c.target == limit.target, D.c.status == "pending",
        D.c.next_attempt_at < wait.until).with_for_update(skip_locked=True)
    session.execute(update(D).where(D.c.id.in_(waiting.scalar_subquery())).values(**values))
