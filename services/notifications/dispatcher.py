"""The dispatcher: a background extension in every replica that sends what is due.

* The inbox goes in batches: due rows are claimed ``FOR UPDATE SKIP LOCKED``, their inbox
  items written and the rows marked sent in the same transaction: exactly once.
* Every other channel goes one row per transaction, several greenthreads at a time: claim
  one due row (``SKIP LOCKED``: replicas and greenthreads never take the same row), send,
  record the attempt and mark the row sent (or schedule the retry with exponential
  backoff, or dead-letter it after ``DELIVERY_MAX_ATTEMPTS``) in the transaction that
  claimed it. A process killed mid-send leaves the row pending: it is sent again after
  the restart. Before each send an attempt row is committed on a second connection; one
  still open after a crash marks that send "in doubt" - the single at-least-once window (the
  SMTP server or robot accepted, the commit was lost). Resends keep the Message-ID and the
  ``X-Gonghui-Delivery`` id, so mail clients and webhook receivers can fold them.
* Robots and webhooks keep their vendors' limits (``throttle.py``): the sender takes a token
  of the target's bucket in the claiming transaction, before the send; without one the row
  is not attempted but waits for the next token, and what waits for one robot goes out
  merged into one message (``merging.py``), every row it carried marked sent with its
  ``message_id`` in the same transaction - the same at-most-once window as a single send.
"""

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gonghui.actor import Actor
from gonghui.background import BackgroundLoop
from gonghui.db import Database, make_engine
from gonghui.directory import DirectoryMember
from gonghui.entrypoints import Event
from gonghui.events import emit, emit_many
from services.notifications import events, merging, rules, templates, throttle
from services.notifications.channels import ChannelError, dingtalk, inbox, smtp, webhook, wecom
from services.notifications.defaults import DEFAULT_RULES
from services.notifications.fanout import fan_out
from services.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Rule,
    UnitRobot,
    WebhookSubscription,
)

log = logging.getLogger(__name__)
DISPATCHER = Actor("service", "notifications")
D = Delivery.__table__
A = DeliveryAttempt.__table__


@dataclass
class Settings:
    max_attempts: int = 6
    retry_base: float = 30.0
    poll: float = 1.0
    concurrency: int = 8
    inbox_batch: int = 1000
    disable_after: int = 10
    base_url: str = "http://localhost:8100"
    http_timeout: float = 10.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "noreply@gonghui.local"
    smtp_from_name: str = "工会服务平台"
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    # Vendor limits: messages per rate window to one robot or webhook subscription, by kind
    # (a robot's or subscription's own rate_limit overrides it).
    rate_window: float = 60.0
    rates: dict = field(default_factory=lambda: {"wecom": 20, "dingtalk": 20, "webhook": 60})

    @classmethod
    def from_config(cls, config):
        flag = str(config.get("SMTP_STARTTLS", "false")).lower() in ("1", "true", "yes")
        return cls(
            max_attempts=int(config.get("DELIVERY_MAX_ATTEMPTS", 6)),
            retry_base=float(config.get("DELIVERY_RETRY_BASE_SECONDS", 30)),
            poll=float(config.get("DISPATCH_POLL_SECONDS", 1.0)),
            concurrency=int(config.get("DISPATCH_CONCURRENCY", 8)),
            inbox_batch=int(config.get("INBOX_BATCH", 1000)),
            disable_after=int(config.get("WEBHOOK_DISABLE_AFTER", 10)),
            base_url=config.get("NOTIFY_BASE_URL", "http://localhost:8100"),
            http_timeout=float(config.get("HTTP_TIMEOUT_SECONDS", 10)),
            smtp_host=config.get("SMTP_HOST", "127.0.0.1"),
            smtp_port=int(config.get("SMTP_PORT", 25)),
            smtp_from=config.get("SMTP_FROM", "noreply@gonghui.local"),
            smtp_from_name=config.get("SMTP_FROM_NAME", "工会服务平台"),
            smtp_starttls=flag, smtp_user=config.get("SMTP_USER") or None,
            smtp_password=config.get("SMTP_PASSWORD") or None,
            rate_window=float(config.get("NOTIFY_RATE_WINDOW_SECONDS", 60)),
            rates={"wecom": int(config.get("NOTIFY_WECOM_RATE", 20)),
                   "dingtalk": int(config.get("NOTIFY_DINGTALK_RATE", 20)),
                   "webhook": int(config.get("NOTIFY_WEBHOOK_RATE", 60))})

    def rate_of(self, channel):
        return self.rates[channel]

    def smtp_sender(self):
        return smtp.SmtpSender(self.smtp_host, self.smtp_port, self.smtp_from,
                               self.smtp_from_name, starttls=self.smtp_starttls,
                               username=self.smtp_user, password=self.smtp_password)


# ------------------------------------------------------------------ events out


def delivery_data(row, status, attempts, at, error=None):
    return {"delivery_id": row.id, "event_id": row.event_id, "event_type": row.event_type,
            "rule_key": row.rule_key, "channel": row.channel, "member_id": row.member_id,
            "target": row.target, "kind": row.kind, "urgency": row.urgency, "status": status,
            "attempts": attempts, "at": at, "error": error}


def delivered_events(rows, at):
    """``(data, aggregate id)`` of the ``delivered`` events of rows sent together: one per
    source event and channel."""
    groups = {}
    for r in rows:
        groups.setdefault((r.event_id, r.channel), []).append(r)
    return [({"event_id": event_id, "event_type": group[0].event_type, "channel": channel,
              "at": at, "count": len(group), "deliveries": [
                  {"delivery_id": r.id, "rule_key": r.rule_key, "member_id": r.member_id,
                   "target": r.target, "kind": r.kind, "urgency": r.urgency,
                   "attempts": r.attempts + 1} for r in group]}, group[0].id)
            for (event_id, channel), group in groups.items()]


def emit_deliveries(session, declared, items):
    """One event per ``(data, delivery id)``, by the dispatcher, in the caller's transaction."""
    emit_many(session, declared, items, actor=DISPATCHER, aggregate_type="delivery")


# ------------------------------------------------------------------ the inbox, in batches


def dispatch_inbox(engine, settings, now=None):
    """Deliver one batch of due inbox rows; returns how many."""
    now = now or datetime.now(UTC)
    with Session(engine) as session, session.begin():
        rows = session.execute(
            select(D).where(D.c.channel == "inbox", D.c.status == "pending",
                            D.c.next_attempt_at <= now)
            .order_by(D.c.id).limit(settings.inbox_batch).with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        inbox.deliver(session, rows)
        sent_at = datetime.now(UTC)
        session.execute(insert(A), [
            {"delivery_id": r.id, "attempt": r.attempts + 1, "started_at": sent_at,
             "finished_at": sent_at, "outcome": "sent", "detail": "inbox item written"}
            for r in rows])
        session.execute(update(D).where(D.c.id.in_([r.id for r in rows])).values(
            status="sent", attempts=D.c.attempts + 1, sent_at=sent_at, last_error=None))
        emit_deliveries(session, events.DELIVERED, delivered_events(rows, sent_at))
        return len(rows)


# ------------------------------------------------------------------ other channels, one by one


class Senders:
    """What one sending greenthread keeps open between messages (its SMTP session)."""

    def __init__(self, settings):
        self.settings = settings
        self._smtp = None

    @property
    def smtp(self):
        if self._smtp is None:
            self._smtp = self.settings.smtp_sender()
        return self._smtp

    def close(self):
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _mail_domain(address):
    return address.partition("@")[2] or "gonghui.local"


def send_email(session, senders, settings, group):
    row = group[0]
    member = session.get(DirectoryMember, row.member_id) if row.member_id else None
    if member is None or not member.email:
        raise ChannelError(f"no e-mail address for member {row.member_id}", permanent=True)
    language = row.language
    link = row.link
    if len(group) == 1 and not row.digest:
        subject = templates.urgency_prefix(row.urgency, language) + row.title
        text = templates.text_body(row.body, link, language)
        html = templates.html_body(row.title, row.body, link, language)
    else:
        day = templates.format_value(rules.china(row.next_attempt_at).date(), language)
        values = templates.context({}, language, member.name,
                                   {"day": day, "count": str(len(group))})
        title_t, intro_t = templates.DIGEST[language]
        subject, intro = title_t.format_map(values), intro_t.format_map(values)
        link = settings.base_url.rstrip("/") + templates.INBOX_LINK
        items = [(templates.urgency_prefix(r.urgency, language) + r.title, r.body, r.link)
                 for r in group]
        text = templates.text_body(intro, link, language, items)
        html = templates.html_body(subject, intro, link, language, items)
    message_id = f"<delivery-{row.id}@{_mail_domain(settings.smtp_from)}>"
    message = smtp.build_message(settings.smtp_from, settings.smtp_from_name, member.email,
                                 member.name, subject, text, html, message_id,
                                 {"X-Gonghui-Delivery": ",".join(str(r.id) for r in group),
                                  "X-Gonghui-Event": row.event_type})
    return senders.smtp.send(message, member.email)


def send_robot(session, settings, message):
    """One message (``merging.Message``: one notice, or the list of several) to the robot
    of its rows."""
    target = message.rows[0].target
    robot = session.get(UnitRobot, int(target))
    if robot is None or not robot.enabled:
        raise ChannelError(f"robot {target} was removed or disabled", permanent=True)
    if robot.kind == "wecom":
        return wecom.send(robot.webhook_url, message.markdown, timeout=settings.http_timeout)
    return dingtalk.send(robot.webhook_url, robot.secret, message.title, message.markdown,
                         timeout=settings.http_timeout)


def send_webhook(session, settings, row):
    sub = session.get(WebhookSubscription, int(row.target))
    if sub is None or not sub.enabled:
        raise ChannelError(f"webhook subscription {row.target} was removed or disabled",
                           permanent=True)
    return webhook.send(sub.url, sub.secret, row.payload, row.id,
                        timeout=settings.http_timeout)


def _claim(session, now, member_digest_of=None, flush=False):
    """One due row (or the rest of a member's digest). ``flush`` (a clock moved ahead of
    now): rows waiting for a robot's token are not due before it is there, whatever the
    clock says."""
    query = select(D).where(D.c.status == "pending", D.c.next_attempt_at <= now)
    if member_digest_of is None:
        query = query.where(D.c.channel != "inbox").order_by(D.c.next_attempt_at,
                                                            D.c.id).limit(1)
    else:
        query = query.where(D.c.channel == "email", D.c.digest.is_(True),
                            D.c.member_id == member_digest_of).order_by(D.c.id)
    if flush:
        query = query.where(or_(D.c.held_reason.is_(None),
                                D.c.held_reason.not_like(f"{throttle.RATE_HELD}%"),
                                D.c.next_attempt_at <= func.clock_timestamp()))
    return session.execute(query.with_for_update(skip_locked=True)).all()


def _claim_same_robot(session, now, row):
    """The other due rows waiting for ``row``'s robot, oldest first, to merge with it."""
    return session.execute(select(D).where(
        D.c.status == "pending", D.c.next_attempt_at <= now, D.c.channel == row.channel,
        D.c.target == row.target, D.c.id != row.id)
        .order_by(D.c.next_attempt_at, D.c.id).limit(merging.MERGE_AT_MOST - 1)
        .with_for_update(skip_locked=True)).all()


SENT_DETAIL = {"email": "accepted by the SMTP server", "wecom": "robot answered errcode 0",
               "dingtalk": "robot answered errcode 0", "webhook": "endpoint answered 2xx"}


def send_one(engine, senders, settings, now=None, on_disabled=None, flush=False):
    """Claim one due row (with the rest of its member's digest, or what else waits for its
    robot), send it, record it; or, when its robot or webhook has no token, let it wait.
    Returns False when nothing was due (or what was is another sender's to merge)."""
    try:
        return _send_one(engine, senders, settings, now, on_disabled, flush)
    except throttle.BucketBusy:
        return False  # rolled back, the rows untouched: see throttle.BucketBusy


def _send_one(engine, senders, settings, now, on_disabled, flush):
    now = now or datetime.now(UTC)
    with Session(engine) as session, session.begin():
        claimed = _claim(session, now, flush=flush)
        if not claimed:
            return False
        row = claimed[0]
        group, message = [row], None
        if row.channel == "email" and row.digest:
            group += [r for r in _claim(session, now, row.member_id) if r.id != row.id]
        elif row.channel in throttle.THROTTLED:
            limit = throttle.limit_for(session, settings, row.channel, row.target)
            wait = throttle.take(session, limit)
            if wait is not None:
                throttle.defer(session, limit, wait)
                return True
            if row.channel in throttle.ROBOT_CHANNELS:
                message = merging.pack(row.channel,
                                       [row, *_claim_same_robot(session, now, row)])
                group = message.rows
        ids = [r.id for r in group]
        started = datetime.now(UTC)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as marker:
            marker.execute(update(A).where(A.c.delivery_id.in_(ids), A.c.outcome.is_(None))
                           .values(outcome="in_doubt", finished_at=started,
                                   detail="the sender stopped mid-send: sent again"))
            attempt_ids = marker.execute(insert(A).returning(A.c.id), [
                {"delivery_id": r.id, "attempt": r.attempts + 1, "started_at": started}
                for r in group]).scalars().all()
        # The success is written before the send and committed the moment the endpoint
        # accepts: the window in which a crash loses the commit of a send that happened is
        # the COMMIT itself. A failure rolls back to here and records the failure instead.
        session.execute(text("SAVEPOINT before_send"))
        _sent(session, group, attempt_ids, row, uuid.uuid4())
        try:
            if row.channel == "email":
                send_email(session, senders, settings, group)
            elif message is not None:
                send_robot(session, settings, message)
            else:
                send_webhook(session, settings, row)
        except Exception as exc:  # noqa: BLE001 - a bug in one send must not stop the rest
            session.execute(text("ROLLBACK TO SAVEPOINT before_send"))
            session.expire_all()  # objects loaded after the savepoint hold undone values
            if not isinstance(exc, ChannelError):
                log.exception("sending delivery %s failed", row.id)
                exc = ChannelError(repr(exc))
            _failed(session, settings, group, attempt_ids, exc, now, on_disabled)
    return True


def _sent(session, group, attempt_ids, row, message_id):
    finished = datetime.now(UTC)
    detail = SENT_DETAIL[row.channel]
    if len(group) > 1:
        detail += f"; message {message_id} carried {len(group)} notices"
    session.execute(update(A).where(A.c.id.in_(attempt_ids)).values(
        outcome="sent", finished_at=finished, detail=detail))
    session.execute(update(D).where(D.c.id.in_([r.id for r in group])).values(
        status="sent", attempts=D.c.attempts + 1, sent_at=finished, last_error=None,
        message_id=message_id))
    if row.channel == "webhook":
        session.execute(update(WebhookSubscription).where(
            WebhookSubscription.id == int(row.target)).values(consecutive_failures=0))
    emit_deliveries(session, events.DELIVERED, delivered_events(group, finished))


def _failed(session, settings, group, attempt_ids, exc, now, on_disabled):
    error = str(exc)[:2000]
    finished = datetime.now(UTC)
    session.execute(update(A).where(A.c.id.in_(attempt_ids)).values(
        outcome="failed", finished_at=finished, error=error))
    dead = []
    for r in group:
        attempt = r.attempts + 1
        if exc.permanent or attempt >= settings.max_attempts:
            dead.append(r)
            session.execute(update(D).where(D.c.id == r.id).values(
                status="dead", attempts=attempt, last_error=error))
        else:
            session.execute(update(D).where(D.c.id == r.id).values(
                attempts=attempt, last_error=error, next_attempt_at=now + timedelta(
                    seconds=rules.retry_delay(attempt, settings.retry_base))))
    emit_deliveries(session, events.FAILED, [
        (delivery_data(r, "dead", r.attempts + 1, finished, error), r.id) for r in dead])
    row = group[0]
    if row.channel == "webhook" and not (exc.permanent and "removed or disabled" in error):
        _count_webhook_failure(session, settings, int(row.target), error, on_disabled)
    log.warning("delivery %s (%s) failed: %s%s", row.id, row.channel, error,
                " - dead-lettered" if dead else "")


def _count_webhook_failure(session, settings, subscription_id, error, on_disabled):
    sub = session.execute(select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id).with_for_update()).scalar_one_or_none()
    if sub is None or not sub.enabled:
        return
    sub.consecutive_failures += 1
    if sub.consecutive_failures < settings.disable_after:
        return
    disable_subscription(session, settings, sub, error)
    if on_disabled is not None:
        on_disabled()


def disable_subscription(session, settings, sub, error):
    """Disable after N consecutive failures: its pending deliveries are dead-lettered (an
    operator replays them once it is enabled again) and its owner is told."""
    now = datetime.now(UTC)
    sub.enabled, sub.disabled_at = False, now
    sub.disabled_reason = f"{sub.consecutive_failures} consecutive failures; last: {error}"
    reason = f"subscription disabled: {sub.disabled_reason}"
    # Rows another sender holds (waiting for this subscription's bucket, whose lock this
    # transaction holds) are skipped, not waited for: they find it disabled and die then.
    pending = session.execute(select(D).where(
        D.c.channel == "webhook", D.c.target == str(sub.id),
        D.c.status == "pending").with_for_update(skip_locked=True)).all()
    if pending:
        session.execute(update(D).where(D.c.id.in_([r.id for r in pending])).values(
            status="dead", last_error=reason[:2000]))
        emit_deliveries(session, events.FAILED, [
            (delivery_data(r, "dead", r.attempts, now, reason), r.id) for r in pending])
    data = {"subscription_id": sub.id, "name": sub.name, "url": mask_url(sub.url),
            "owner_member_id": sub.owner_member_id, "failures": sub.consecutive_failures,
            "reason": error[:500], "disabled_at": now}
    envelope = emit(session, events.WEBHOOK_DISABLED, data, actor=DISPATCHER,
                    aggregate=("webhook_subscription", sub.id))
    # Our own event goes through our own rules (data, editable): the owner is told.
    fan_out(session, Event(uuid.UUID(envelope["id"]), envelope["type"], envelope["version"],
                           now, envelope["producer"], envelope["actor"], data),
            settings.base_url, now)


def mask_url(url):
    """Webhook and robot URLs carry their key in the query: never show or log it."""
    base, _, query = url.partition("?")
    return base + ("?…" if query else "")


# ------------------------------------------------------------------ the extension


def ensure_default_rules(engine):
    """Add the default rules that are missing (by key) when a replica starts: defaults added
    in a later release appear without a data migration, and rules an operator changed are
    left as they are."""
    table = Rule.__table__
    with engine.begin() as conn:
        conn.execute(pg_insert(table).on_conflict_do_nothing(index_elements=["key"]),
                     DEFAULT_RULES)


def run_due(engine, settings, until, on_disabled=None):
    """Send everything due by ``until`` now, in this greenthread (operators' flush and
    tests' clock). Returns how many rows were handled."""
    handled = 0
    while True:
        done = dispatch_inbox(engine, settings, until)
        handled += done
        if done < settings.inbox_batch:
            break
    senders = Senders(settings)
    try:
        while send_one(engine, senders, settings, until, on_disabled, flush=True):
            handled += 1
    finally:
        senders.close()
    return handled


class Dispatcher(DependencyProvider):
    """Runs the dispatch loops in every replica (the kit's background loops: poll, back off
    after errors); woken at once after a worker wrote deliveries. Injected as an object with
    ``written()`` and ``run_due(until)``."""

    def setup(self):
        config = self.container.config
        self.settings = Settings.from_config(config)
        self.enabled = str(config.get("DISPATCHER", True)).lower() not in ("false", "0")
        self.engine = make_engine(config["DATABASE_URL"],
                                  pool_size=2 * self.settings.concurrency + 2)
        self._loops = []
        self._threads = []
        self._pending_wake = set()

    def _loop(self, name, step):
        loop = BackgroundLoop(name, step, idle=self.settings.poll)
        self._loops.append(loop)
        return loop

    def start(self):
        ensure_default_rules(self.engine)
        if not self.enabled:
            return
        inbox_loop = self._loop("inbox dispatch", self._inbox_step)
        self._threads = [self.container.spawn_managed_thread(inbox_loop.run,
                                                             identifier="dispatch_inbox")]
        for index in range(self.settings.concurrency):
            senders = Senders(self.settings)
            loop = self._loop("dispatch", functools.partial(self._send_step, senders))
            self._threads.append(self.container.spawn_managed_thread(
                functools.partial(self._run_sender, loop, senders),
                identifier=f"dispatch_send_{index}"))

    def _relay(self):
        for provider in self.container.dependencies:
            if isinstance(provider, Database):
                return provider.relay
        return None

    def wake_relay(self):
        relay = self._relay()
        if relay is not None:
            relay.wake()

    def wake(self):
        for loop in self._loops:
            loop.wake()

    def _inbox_step(self):
        done = dispatch_inbox(self.engine, self.settings)
        if done:
            self.wake_relay()
        return done

    def _send_step(self, senders):
        try:
            worked = send_one(self.engine, senders, self.settings, on_disabled=self.wake)
        except Exception:
            senders.close()  # a broken SMTP session is opened afresh
            raise
        if worked:
            self.wake_relay()
        else:
            senders.close()  # idle: do not hold an SMTP session open
        return worked

    @staticmethod
    def _run_sender(loop, senders):
        try:
            loop.run()
        finally:
            senders.close()

    def stop(self):
        # A graceful stop lets each sender finish the row it holds.
        for loop in self._loops:
            loop.stop()
        for thread in self._threads:
            with eventlet.Timeout(15, False):
                try:
                    thread.wait()
                except Exception:  # noqa: BLE001 - it logged its own error
                    pass
        self.engine.dispose()

    def kill(self):
        for loop in self._loops:
            loop.stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return _Handle(self, worker_ctx)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        # After the worker's commit (handle_result committed it): wake the senders.
        if worker_ctx in self._pending_wake:
            self._pending_wake.discard(worker_ctx)
            if exc_info is None:
                self.wake()

    def worker_teardown(self, worker_ctx):
        self._pending_wake.discard(worker_ctx)


class _Handle:
    def __init__(self, provider, worker_ctx):
        self._provider, self._ctx = provider, worker_ctx

    @property
    def settings(self):
        return self._provider.settings

    def written(self):
        self._provider._pending_wake.add(self._ctx)

    def run_due(self, until):
        handled = run_due(self._provider.engine, self._provider.settings, until,
                          self._provider.wake)
        self._provider.wake_relay()
        return handled
