"""The notifications service: reminders fanned out reliably to every channel.

It consumes the events of organization (which also keep its read model of the union tree),
deeds and activities; for each event the rules of its type (data, editable by RPC) name
who is told, on which channels, with which template. Consuming an event writes one
delivery row per (rule, recipient, subject, period, channel) with a unique dedupe key in
the consuming transaction; the dispatcher (``dispatcher.py``) sends them: in-app inbox,
e-mail over SMTP, signed webhooks, WeCom and DingTalk group robots.

Entrypoints are thin: the rules live in ``rules.py``, fan-out in ``fanout.py``, who is told
in ``recipients.py`` (over the kit's read model of the tree, ``gonghui.directory``), sending
in ``dispatcher.py`` and ``channels/``.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update

from gonghui import directory
from gonghui import service as kit
from gonghui.clock import CHINA
from gonghui.entrypoints import event_handler, rpc
from gonghui.errors import Conflict, NotFound, ValidationError
from gonghui.events import emit, record_change, types_of
from gonghui.rpc_client import ServiceRpc
from services.activities import events as activities_events
from services.deeds import events as deeds_events
from services.notifications import events, rules
from services.notifications import schemas as s
from services.notifications.dispatcher import Dispatcher, delivery_data, mask_url
from services.notifications.fanout import fan_out
from services.notifications.models import (
    Delivery,
    DeliveryAttempt,
    InboxItem,
    Preference,
    Rule,
    UnitRobot,
    WebhookSubscription,
)
from services.organization import events as org_events

# What this service consumes. Organization: its tree (the kit's handlers keep the read
# model; rules and webhooks follow), and the reminders of terms, tasks and regulations;
# deeds: everything (reminders, and webhooks may subscribe to any of it); activities: its
# reminders. The producers' event types, named from their contract modules.
_ORGANIZATION, _ACTIVITIES = types_of(org_events), types_of(activities_events)
TREE = tuple(_ORGANIZATION[name] for name in directory.EVENTS)
HANDLED = (  # beside the tree's: one generated handler each (below the class)
    *(_ORGANIZATION[name] for name in ("term_expiring", "term_expired", "follow_up_overdue",
                                       "action_item_created", "regulation_issued")),
    *sorted(types_of(deeds_events).values(), key=lambda declared: declared.name),
    *(_ACTIVITIES[name] for name in ("activity_upcoming", "activity_cancelled",
                                     "signup_promoted", "checkup_missing")),
)
s.CONSUMED.update(declared.type for declared in TREE + HANDLED)
s.CONSUMED.add(events.WEBHOOK_DISABLED.type)  # our own: fanned out in-process


def _hhmm(value):
    return value.strftime("%H:%M") if value else None


def _time(value):
    return time.fromisoformat(value) if value else None


def _pref_out(member_id, pref):
    if pref is None:
        return {"member_id": member_id, "language": "zh", "channels": {}, "quiet_start": None,
                "quiet_end": None, "digest": False, "digest_hour": 18}
    return {"member_id": member_id, "language": pref.language, "channels": pref.channels,
            "quiet_start": _hhmm(pref.quiet_start), "quiet_end": _hhmm(pref.quiet_end),
            "digest": pref.digest, "digest_hour": pref.digest_hour}


def _rule_data(rule):
    return {c: getattr(rule, c) for c in ("key", "event_type", "audience", "channels",
                                          "template", "urgency", "kind", "subject", "period",
                                          "enabled")}


def _robot_out(robot):
    return {"id": robot.id, "unit_id": robot.unit_id, "kind": robot.kind, "name": robot.name,
            "webhook_url": mask_url(robot.webhook_url), "signed": bool(robot.secret),
            "enabled": robot.enabled}


def _sub_out(sub):
    return {**{c: getattr(sub, c) for c in ("id", "name", "event_types", "owner_member_id",
                                            "enabled", "consecutive_failures", "disabled_at",
                                            "disabled_reason")}, "url": mask_url(sub.url)}


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
# The tree's handlers keep today's method names (``on_organization_unit_created``, …), hence
# their queues and inbox keys.
class NotificationsService(directory.tree_handlers(org_events, method_prefix="on_organization_"),
                           kit.ServiceBase):
    name = "notifications"
    dispatcher = Dispatcher()
    organization = ServiceRpc("organization")

    # ------------------------------------------------------------ consuming events

    def _consume(self, event):
        if fan_out(self.db, event, self.dispatcher.settings.base_url):
            self.dispatcher.written()

    def directory_changed(self, event):
        """A tree event, applied to the read model: its rules and webhooks follow."""
        self._consume(event)

    def _emit(self, declared, data, aggregate):
        emit(self.db, declared, data, actor=self.actor(), aggregate=aggregate)

    # ------------------------------------------------------------ inbox

    @rpc(args=s.ListInbox, result=s.InboxItemOut, many=True)
    def list_inbox(self, member_id, unread_only, limit, offset):
        """A member's inbox, newest first."""
        query = select(InboxItem).where(InboxItem.member_id == member_id)
        if unread_only:
            query = query.where(InboxItem.read_at.is_(None))
        return list(self.db.scalars(query.order_by(InboxItem.id.desc()).limit(limit)
                                    .offset(offset)))

    def _unread(self, member_id):
        return self.db.scalar(select(func.count()).select_from(InboxItem).where(
            InboxItem.member_id == member_id, InboxItem.read_at.is_(None)))

    @rpc(args=s.MemberId, result=s.UnreadOut)
    def unread_count(self, member_id):
        return {"member_id": member_id, "unread": self._unread(member_id), "marked": 0}

    @rpc(args=s.MarkRead, result=s.UnreadOut, writes=True, errors=(NotFound,))
    def mark_read(self, member_id, item_ids, all):  # noqa: A002 - the argument's name
        """Mark some (``item_ids``) or all of a member's inbox items read."""
        query = update(InboxItem).where(InboxItem.member_id == member_id,
                                        InboxItem.read_at.is_(None))
        if not all:
            owned = set(self.db.scalars(select(InboxItem.id).where(
                InboxItem.member_id == member_id, InboxItem.id.in_(item_ids))))
            missing = sorted(set(item_ids) - owned)
            if missing:
                raise NotFound("no such inbox items for this member",
                               {"item_ids": [f"item {i} not found" for i in missing]})
            query = query.where(InboxItem.id.in_(item_ids))
        marked = sorted(self.db.scalars(query.values(read_at=datetime.now(UTC))
                                        .returning(InboxItem.id)))
        record_change(self.db, self.actor(), "notifications.inbox_read", ("inbox", member_id),
                      {"item_ids": marked, "all": all})
        return {"member_id": member_id, "unread": self._unread(member_id),
                "marked": len(marked)}

    # ------------------------------------------------------------ preferences

    def _known_member(self, member_id):
        directory.member(self.db, member_id)

    @rpc(args=s.MemberId, result=s.PreferencesOut, errors=(NotFound,))
    def get_preferences(self, member_id):
        self._known_member(member_id)
        return _pref_out(member_id, self.db.get(Preference, member_id))

    @rpc(args=s.SetPreferences, result=s.PreferencesOut, writes=True, errors=(NotFound,))
    def set_preferences(self, member_id, **changes):
        """Language, channels per kind of notice (``{"reminder": ["inbox"]}``), quiet hours
        (``"22:00"``–``"07:30"`` China time: e-mail waits until they end) and the daily
        digest (low and normal notices by e-mail grouped once a day at ``digest_hour``)."""
        self._known_member(member_id)
        pref = self.db.get(Preference, member_id)
        if pref is None:
            pref = Preference(member_id=member_id, language="zh", channels={}, digest=False,
                              digest_hour=18)
            self.db.add(pref)
        for key in ("quiet_start", "quiet_end"):
            if key in changes:
                changes[key] = _time(changes[key])
        if "channels" in changes:
            changes["channels"] = {**(pref.channels or {}), **changes["channels"]}
        for key, value in changes.items():
            setattr(pref, key, value)
        pref.updated_at = datetime.now(UTC)
        self.db.flush()
        out = _pref_out(member_id, pref)
        self._emit(events.PREFERENCES_CHANGED, out, ("member", member_id))
        return out

    # ------------------------------------------------------------ rules

    @rpc(args=s.ListRules, result=s.RuleOut, many=True)
    def list_rules(self, event_type, enabled):
        query = select(Rule).order_by(Rule.event_type, Rule.id)
        if event_type:
            query = query.where(Rule.event_type == event_type)
        if enabled is not None:
            query = query.where(Rule.enabled.is_(enabled))
        return list(self.db.scalars(query))

    @staticmethod
    def _check_rule(values):
        errors = s.check_rule(values)
        if errors:
            raise ValidationError("invalid rule", errors)

    @rpc(args=s.CreateRule, result=s.RuleOut, writes=True, errors=(Conflict,))
    def create_rule(self, key, **values):
        """A new rule for an event type this service consumes."""
        self._check_rule(values)
        if self.db.scalar(select(Rule.id).where(Rule.key == key)):
            raise Conflict(f"rule {key} exists", {"key": ["already used"]})
        rule = Rule(key=key, **values)
        self.db.add(rule)
        self.db.flush()
        self._emit(events.RULE_CHANGED, _rule_data(rule), ("rule", rule.id))
        return rule

    @rpc(args=s.UpdateRule, result=s.RuleOut, writes=True, errors=(NotFound,))
    def update_rule(self, key, **changes):
        """Change a rule's audience, channels, template, urgency, kind, subject, period or
        switch it off; the whole rule is checked again."""
        rule = self.db.scalar(select(Rule).where(Rule.key == key))
        if rule is None:
            raise NotFound(f"rule {key} not found", {"key": ["not found"]})
        self._check_rule({**_rule_data(rule), **changes})
        for name, value in changes.items():
            setattr(rule, name, value)
        rule.updated_at = datetime.now(UTC)
        self._emit(events.RULE_CHANGED, _rule_data(rule), ("rule", rule.id))
        return rule

    # ------------------------------------------------------------ group robots

    def _known_unit(self, unit_id):
        directory.unit(self.db, unit_id)

    @rpc(args=s.SetRobot, result=s.RobotOut, writes=True, errors=(NotFound,))
    def set_unit_robot(self, unit_id, kind, webhook_url, secret, name, enabled):
        """A unit's WeCom or DingTalk group robot (its webhook URL; DingTalk's secret for the
        signed mode). Replaces the unit's robot of that kind."""
        self._known_unit(unit_id)
        robot = self.db.scalar(select(UnitRobot).where(UnitRobot.unit_id == unit_id,
                                                       UnitRobot.kind == kind))
        if robot is None:
            robot = UnitRobot(unit_id=unit_id, kind=kind)
            self.db.add(robot)
        robot.webhook_url, robot.secret, robot.name, robot.enabled = (webhook_url, secret,
                                                                      name, enabled)
        self.db.flush()
        self._emit(events.ROBOT_CHANGED, {"unit_id": unit_id, "kind": kind, "name": name,
                                          "enabled": enabled, "removed": False},
                   ("unit_robot", robot.id))
        return _robot_out(robot)

    @rpc(args=s.ListRobots, result=s.RobotOut, many=True)
    def list_unit_robots(self, unit_id):
        query = select(UnitRobot).order_by(UnitRobot.unit_id, UnitRobot.kind)
        if unit_id:
            query = query.where(UnitRobot.unit_id == unit_id)
        return [_robot_out(r) for r in self.db.scalars(query)]

    @rpc(args=s.RobotKey, result=s.RobotOut, writes=True, errors=(NotFound,))
    def remove_unit_robot(self, unit_id, kind):
        robot = self.db.scalar(select(UnitRobot).where(UnitRobot.unit_id == unit_id,
                                                       UnitRobot.kind == kind))
        if robot is None:
            raise NotFound(f"unit {unit_id} has no {kind} robot", {"kind": ["not found"]})
        out = _robot_out(robot)
        self.db.delete(robot)
        self._emit(events.ROBOT_CHANGED, {"unit_id": unit_id, "kind": kind, "name": robot.name,
                                          "enabled": False, "removed": True},
                   ("unit_robot", robot.id))
        return out

    # ------------------------------------------------------------ webhooks

    @staticmethod
    def _check_patterns(patterns):
        unmatched = [p for p in patterns
                     if not any(rules.event_matches([p], t) for t in s.CONSUMED)]
        if unmatched:
            raise ValidationError("no such event types", {"event_types": [
                f"{p}: notifications does not consume it" for p in unmatched]})

    def _emit_subscription(self, sub, removed=False):
        self._emit(events.SUBSCRIPTION_CHANGED, {
            "subscription_id": sub.id, "name": sub.name, "event_types": sub.event_types,
            "owner_member_id": sub.owner_member_id, "enabled": sub.enabled,
            "removed": removed}, ("webhook_subscription", sub.id))

    @rpc(args=s.Subscribe, result=s.SubscriptionOut, writes=True)
    def subscribe_webhook(self, name, url, secret, event_types, owner_member_id):
        """POST every event of ``event_types`` (``deeds.report_overdue``, ``deeds.*``, ``*``)
        to ``url``, signed with ``secret`` (HMAC-SHA256, see channels/webhook.py); the owner
        is told if it gets disabled after repeated failures."""
        self._check_patterns(event_types)
        sub = WebhookSubscription(name=name, url=url, secret=secret, event_types=event_types,
                                  owner_member_id=owner_member_id, enabled=True,
                                  consecutive_failures=0)
        self.db.add(sub)
        self.db.flush()
        self._emit_subscription(sub)
        return _sub_out(sub)

    @rpc(args=s.ListSubscriptions, result=s.SubscriptionOut, many=True)
    def list_webhooks(self, enabled):
        query = select(WebhookSubscription).order_by(WebhookSubscription.id)
        if enabled is not None:
            query = query.where(WebhookSubscription.enabled.is_(enabled))
        return [_sub_out(x) for x in self.db.scalars(query)]

    def _subscription(self, subscription_id):
        sub = self.db.get(WebhookSubscription, subscription_id)
        if sub is None:
            raise NotFound(f"webhook subscription {subscription_id} not found",
                           {"subscription_id": ["not found"]})
        return sub

    @rpc(args=s.UpdateSubscription, result=s.SubscriptionOut, writes=True,
         errors=(NotFound,))
    def update_webhook(self, subscription_id, **changes):
        """Change a subscription; enabling a disabled one clears its failure count (replay
        its dead deliveries with ``replay_delivery``)."""
        sub = self._subscription(subscription_id)
        if "event_types" in changes:
            self._check_patterns(changes["event_types"])
        if changes.get("enabled") and not sub.enabled:
            sub.consecutive_failures, sub.disabled_at, sub.disabled_reason = 0, None, None
        for key, value in changes.items():
            setattr(sub, key, value)
        self._emit_subscription(sub)
        return _sub_out(sub)

    @rpc(args=s.SubscriptionId, result=s.SubscriptionOut, writes=True, errors=(NotFound,))
    def unsubscribe_webhook(self, subscription_id):
        sub = self._subscription(subscription_id)
        out = _sub_out(sub)
        self._emit_subscription(sub, removed=True)
        self.db.delete(sub)
        return out

    # ------------------------------------------------------------ deliveries (operators)

    def _delivery_out(self, delivery, with_attempts=False):
        out = {c.name: getattr(delivery, c.name) for c in Delivery.__table__.columns}
        out["attempt_log"] = list(self.db.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
            .order_by(DeliveryAttempt.id))) if with_attempts else []
        return out

    @rpc(args=s.ListDeliveries, result=s.DeliveryOut, many=True)
    def list_deliveries(self, status, channel, member_id, event_id, limit, offset):
        """The delivery log: one row per notice, channel and recipient."""
        query = select(Delivery).order_by(Delivery.id).limit(limit).offset(offset)
        for column, value in ((Delivery.status, status), (Delivery.channel, channel),
                              (Delivery.member_id, member_id), (Delivery.event_id, event_id)):
            if value is not None:
                query = query.where(column == value)
        return [self._delivery_out(d) for d in self.db.scalars(query)]

    def _delivery(self, delivery_id):
        delivery = self.db.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} not found", {"delivery_id": ["not found"]})
        return delivery

    @rpc(args=s.DeliveryId, result=s.DeliveryOut, errors=(NotFound,))
    def get_delivery(self, delivery_id):
        """One delivery with every attempt (outcome, error, in doubt)."""
        return self._delivery_out(self._delivery(delivery_id), with_attempts=True)

    @rpc(args=s.Page, result=s.DeliveryOut, many=True)
    def list_dead_deliveries(self, limit, offset):
        """Deliveries that stayed failed (dead-lettered), oldest first, with the reason and
        every attempt."""
        return [self._delivery_out(d, with_attempts=True) for d in self.db.scalars(
            select(Delivery).where(Delivery.status == "dead").order_by(Delivery.id)
            .limit(limit).offset(offset))]

    @rpc(args=s.DeliveryId, result=s.DeliveryOut, writes=True, errors=(NotFound, Conflict))
    def replay_delivery(self, delivery_id):
        """Send a dead delivery again (with a fresh set of attempts)."""
        delivery = self.db.scalar(select(Delivery).where(Delivery.id == delivery_id)
                                  .with_for_update())
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} not found", {"delivery_id": ["not found"]})
        if delivery.status != "dead":
            raise Conflict(f"delivery {delivery_id} is {delivery.status}, not dead",
                           {"delivery_id": [f"is {delivery.status}"]})
        if delivery.channel == "webhook":
            sub = self.db.get(WebhookSubscription, int(delivery.target))
            if sub is not None and not sub.enabled:
                raise Conflict("enable the webhook subscription first",
                               {"delivery_id": ["subscription disabled"]})
        now = datetime.now(UTC)
        delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, now
        self.db.flush()
        self._emit(events.DELIVERY_REPLAYED,
                   delivery_data(delivery, "pending", 0, now, delivery.last_error),
                   ("delivery", delivery.id))
        self.dispatcher.written()
        return self._delivery_out(delivery, with_attempts=True)

    # ------------------------------------------------------------ periodic work

    @rpc(args=s.Tick, result=s.CountsOut, writes=True)
    def tick(self, as_of):
        """Sends everything due by the end of ``as_of`` (never later than now): held e-mail
        whose quiet hours ended, daily digests, retries. The dispatcher does this on its own
        all the time; ``tick`` is the operators' and replays' handle. Idempotent."""
        end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=CHINA)
        until = min(datetime.now(UTC), end_of_day)
        return {"as_of": as_of, "handled": self.dispatcher.run_due(until)}

    @rpc(args=s.DispatchDue, result=s.CountsOut, writes=True)
    def dispatch_due(self, until):
        """Send now everything due by ``until`` (default now), even if that is in the future:
        flushes held e-mail and digests early (operators; tests move the clock with it)."""
        return {"handled": self.dispatcher.run_due(until or datetime.now(UTC))}


def _handler(declared):
    def handle(self, event):
        self._consume(event)

    handle.__name__ = handle.__qualname__ = f"on_{declared.producer}_{declared.name}"
    handle.__doc__ = f"Consumes ``{declared.type}``: rules, webhooks."
    return event_handler(declared)(handle)


# One reliable handler (its own quorum queue, inbox dedupe, retries, DLQ) per event type.
for _declared in HANDLED:
    setattr(NotificationsService, f"on_{_declared.producer}_{_declared.name}",
            _handler(_declared))
