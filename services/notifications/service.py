"""The notifications service: reminders fanned out reliably to every channel.

It consumes the events of organization (whose tree events also keep the kit's read model of
the union tree, ``gonghui.directory``), deeds and activities; for each event the rules of
its type (data, editable by RPC) name who is told, on which channels, with which template.
Consuming an event writes one delivery row per (rule, recipient, subject, period, channel)
with a unique dedupe key in the consuming transaction; the dispatcher sends them: in-app
inbox, e-mail over SMTP, signed webhooks, WeCom and DingTalk group robots.

The class is the table of contents: each entrypoint's arguments are validated by its schema
(``schemas.py``), and it delegates to the module of its sub-domain, which does the work in
the worker's one transaction:

- ``consuming.py``: what is consumed, and consuming it (one handler per event type);
- ``inbox.py``: members' inboxes, unread counts, marking items read;
- ``preferences.py``: language, channels per kind of notice, quiet hours, the digest;
- ``rulebook.py``: the reminder rules as data, listed, added and changed;
- ``robots.py`` and ``webhooks.py``: units' group robots, webhook subscriptions;
- ``deliveries.py``: the delivery log, replays, sending what is due now.

Beside them: the rules in plain Python (``rules.py``: audiences, channels, quiet hours and
the digest, dedupe keys, a delivery's life), fan-out (``fanout.py``) and who is told, as of
the event's day (``recipients.py``), the questions to the database (``queries.py``), the
events' data (``payloads.py``, and the contract ``events.py``), the default rules
(``defaults.py``), the words (``templates.py``), sending (``dispatcher.py``, ``channels/``);
the secrets of robots and webhooks encrypted at rest with ``SECRETS_KEY`` (``sealing.py``).
"""

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import MEMBER_ACTS, OFFICE_KINDS
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, Forbidden, NotFound
from gonghui.rpc_client import ServiceRpc
from services.notifications import (
    consuming,
    deliveries,
    inbox,
    preferences,
    robots,
    rulebook,
    sealing,
    webhooks,
)
from services.notifications import schemas as s
from services.notifications.consuming import HANDLED  # noqa: F401 - what it consumes
from services.notifications.dispatcher import Dispatcher
from services.organization import events as org_events

# Who may read a member's inbox and preferences: the member themselves (checked against the
# actor), the offices and the platform, and auditors.
MEMBER_READS = (*MEMBER_ACTS, "auditor")
# Who may read the delivery log (recipients and addresses): the offices and the platform,
# and auditors (the gateway lets only administrators and auditors).
LOG_READS = (*OFFICE_KINDS, "auditor")


# The kit's base and mixins are reached through their modules: `nameko run` starts every
# service class found at the top level of this module (and refuses one with no name).
class NotificationsService(
        directory.tree_handlers(org_events, method_prefix=consuming.TREE_METHOD_PREFIX),
        consuming.EventHandlers, kit.ServiceBase):
    name = "notifications"
    secrets_key = sealing.SecretsKey()  # SECRETS_KEY, or the service does not start
    dispatcher = Dispatcher()
    organization = ServiceRpc("organization")

    def directory_changed(self, event):
        """A tree event, applied to the read model: its rules and webhooks follow."""
        consuming.consume(self, event)

    # ------------------------------------------------------------ inbox

    @rpc(args=s.ListInbox, result=s.InboxItemOut, many=True, actors=MEMBER_READS,
         errors=(Forbidden,))
    def list_inbox(self, member_id, unread_only, limit, offset):
        """A member's inbox, newest first (a member reads only their own: Forbidden else)."""
        return inbox.list_inbox(self, member_id, unread_only, limit, offset)

    @rpc(args=s.MemberId, result=s.UnreadOut, actors=MEMBER_READS, errors=(Forbidden,))
    def unread_count(self, member_id):
        """How many of a member's inbox items are unread (a member asks only of their own)."""
        return inbox.unread_count(self, member_id)

    @rpc(args=s.MarkRead, result=s.UnreadOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Forbidden))
    def mark_read(self, member_id, item_ids, all):  # noqa: A002 - the argument's name
        """Mark some (``item_ids``) or all of a member's inbox items read (a member marks
        only their own)."""
        return inbox.mark_read(self, member_id, item_ids, all)

    # ------------------------------------------------------------ preferences

    @rpc(args=s.MemberId, result=s.PreferencesOut, actors=MEMBER_READS,
         errors=(NotFound, Forbidden))
    def get_preferences(self, member_id):
        """A member's preferences (a member reads only their own)."""
        return preferences.get_preferences(self, member_id)

    @rpc(args=s.SetPreferences, result=s.PreferencesOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Forbidden))
    def set_preferences(self, member_id, **changes):
        """Language, channels per kind of notice (``{"reminder": ["inbox"]}``), quiet hours
        (``"22:00"``–``"07:30"`` China time: e-mail waits until they end) and the daily
        digest (low and normal notices by e-mail grouped once a day at ``digest_hour``).
        A member sets only their own."""
        return preferences.set_preferences(self, member_id, changes)

    # ------------------------------------------------------------ rules

    @rpc(args=s.ListRules, result=s.RuleOut, many=True)
    def list_rules(self, event_type, enabled):
        return rulebook.list_rules(self, event_type, enabled)

    @rpc(args=s.CreateRule, result=s.RuleOut, writes=True, errors=(Conflict,))
    def create_rule(self, key, **values):
        """A new rule for an event type this service consumes."""
        return rulebook.create_rule(self, key, values)

    @rpc(args=s.UpdateRule, result=s.RuleOut, writes=True, errors=(NotFound,))
    def update_rule(self, key, **changes):
        """Change a rule's audience, channels, template, urgency, kind, subject, period or
        switch it off; the whole rule is checked again."""
        return rulebook.update_rule(self, key, changes)

    # ------------------------------------------------------------ group robots

    @rpc(args=s.SetRobot, result=s.RobotOut, writes=True, errors=(NotFound,))
    def set_unit_robot(self, unit_id, kind, webhook_url, secret, name, enabled, rate_limit):
        """A unit's WeCom or DingTalk group robot (its webhook URL; DingTalk's secret for the
        signed mode; its own ``rate_limit`` if not its kind's). Replaces the unit's robot of
        that kind."""
        return robots.set_unit_robot(self, unit_id, kind, webhook_url, secret, name, enabled,
                                     rate_limit)

    @rpc(args=s.ListRobots, result=s.RobotOut, many=True)
    def list_unit_robots(self, unit_id):
        return robots.list_unit_robots(self, unit_id)

    @rpc(args=s.RobotKey, result=s.RobotOut, writes=True, errors=(NotFound,))
    def remove_unit_robot(self, unit_id, kind):
        return robots.remove_unit_robot(self, unit_id, kind)

    # ------------------------------------------------------------ webhooks

    @rpc(args=s.Subscribe, result=s.SubscriptionOut, writes=True)
    def subscribe_webhook(self, name, url, secret, event_types, owner_member_id, rate_limit):
        """POST every event of ``event_types`` (``deeds.report_overdue``, ``deeds.*``, ``*``)
        to ``url``, signed with ``secret`` (HMAC-SHA256, see channels/webhook.py); the owner
        is told if it gets disabled after repeated failures; at most ``rate_limit`` a window
        (default NOTIFY_WEBHOOK_RATE)."""
        return webhooks.subscribe(self, name, url, secret, event_types, owner_member_id,
                                  rate_limit)

    @rpc(args=s.ListSubscriptions, result=s.SubscriptionOut, many=True)
    def list_webhooks(self, enabled):
        return webhooks.list_webhooks(self, enabled)

    @rpc(args=s.UpdateSubscription, result=s.SubscriptionOut, writes=True,
         errors=(NotFound,))
    def update_webhook(self, subscription_id, **changes):
        """Change a subscription; enabling a disabled one clears its failure count (replay
        its dead deliveries with ``replay_delivery``)."""
        return webhooks.update_webhook(self, subscription_id, changes)

    @rpc(args=s.SubscriptionId, result=s.SubscriptionOut, writes=True, errors=(NotFound,))
    def unsubscribe_webhook(self, subscription_id):
        return webhooks.unsubscribe(self, subscription_id)

    # ------------------------------------------------------------ deliveries (operators)

    @rpc(args=s.ListDeliveries, result=s.DeliveryOut, many=True, actors=LOG_READS)
    def list_deliveries(self, status, channel, member_id, event_id, limit, offset):
        """The delivery log: one row per notice, channel and recipient."""
        return deliveries.list_deliveries(self, status, channel, member_id, event_id, limit,
                                          offset)

    @rpc(args=s.DeliveryId, result=s.DeliveryOut, actors=LOG_READS, errors=(NotFound,))
    def get_delivery(self, delivery_id):
        """One delivery with every attempt (outcome, error, in doubt)."""
        return deliveries.get_delivery(self, delivery_id)

    @rpc(args=s.Page, result=s.DeliveryOut, many=True, actors=LOG_READS)
    def list_dead_deliveries(self, limit, offset):
        """Deliveries that stayed failed (dead-lettered), oldest first, with the reason and
        every attempt."""
        return deliveries.list_dead(self, limit, offset)

    @rpc(args=s.DeliveryId, result=s.DeliveryOut, writes=True, errors=(NotFound, Conflict))
    def replay_delivery(self, delivery_id):
        """Send a dead delivery again (with a fresh set of attempts)."""
        return deliveries.replay(self, delivery_id)

    # ------------------------------------------------------------ periodic work

    @rpc(args=s.Tick, result=s.CountsOut, writes=True)
    def tick(self, as_of):
        """Sends everything due by the end of ``as_of`` (never later than now): held e-mail
        whose quiet hours ended, daily digests, retries. The dispatcher does this on its own
        all the time; ``tick`` is the operators' and replays' handle. Idempotent."""
        return deliveries.send_due_by_end_of(self, as_of)

    @rpc(args=s.DispatchDue, result=s.CountsOut, writes=True)
    def dispatch_due(self, until):
        """Send now everything due by ``until`` (default now), even if that is in the future:
        flushes held e-mail and digests early (operators; tests move the clock with it)."""
        return deliveries.send_due(self, until)
