"""Routes to notifications: a member's own inbox and preferences (``/me/…``: the member is
always the caller, there is no route naming another member's inbox), the reminder rules,
units' group robots, webhook subscriptions, the delivery log with its dead letters and
replays, and notifications' audit trail.

Rules, robots, webhooks and the delivery log are platform administration (``ADMIN``): a
robot or a webhook makes the server POST to a URL, and the log names every recipient. A
union's officers may see which robots their unit has (masked, as everyone sees them)."""

from gonghui.audit import AuditHistory, AuditQuery
from services.gateway.policy import ADMIN, AUDIT, OFFICE, SELF
from services.gateway.routing import path, read, write
from services.notifications import schemas as s

INBOX, RULES, ROBOTS, WEBHOOKS, DELIVERIES = ("inbox", "rules", "robots", "webhooks",
                                              "deliveries")
ROBOT = "/units/<int:unit_id>/robots/<kind>"

ROUTES = [
    # ------------------------------------------------------------ my inbox and preferences
    read("/me/inbox", "notifications.list_inbox", SELF, self_member="member_id",
         args=s.ListInbox, result=s.InboxItemOut, paged=True, tag=INBOX,
         summary="My inbox, newest first"),
    read("/me/inbox/unread", "notifications.unread_count", SELF, self_member="member_id",
         args=s.MemberId, result=s.UnreadOut, tag=INBOX,
         summary="How many of my inbox items are unread"),
    write("POST", "/me/inbox/read", "notifications.mark_read", SELF, self_member="member_id",
          args=s.MarkRead, result=s.UnreadOut, tag=INBOX,
          summary="Mark some (item_ids) or all of my inbox items read"),
    read("/me/preferences", "notifications.get_preferences", SELF, self_member="member_id",
         args=s.MemberId, result=s.PreferencesOut, tag=INBOX,
         summary="My notification preferences"),
    write("PATCH", "/me/preferences", "notifications.set_preferences", SELF,
          self_member="member_id", args=s.SetPreferences, result=s.PreferencesOut,
          tag=INBOX, summary="Change my language, channels per kind of notice, quiet hours "
          "or daily digest"),
    # ------------------------------------------------------------ reminder rules
    read("/rules", "notifications.list_rules", ADMIN, args=s.ListRules, result=s.RuleOut,
         many=True, tag=RULES, summary="The reminder rules: who is told of what, how"),
    write("POST", "/rules", "notifications.create_rule", ADMIN, args=s.CreateRule,
          result=s.RuleOut, status=201, tag=RULES,
          summary="A new rule for an event type notifications consumes"),
    write("PATCH", "/rules/<key>", "notifications.update_rule", ADMIN, args=s.UpdateRule,
          result=s.RuleOut, tag=RULES, summary="Change a rule or switch it off"),
    # ------------------------------------------------------------ units' group robots
    read("/units/<int:unit_id>/robots", "notifications.list_unit_robots", OFFICE,
         unit=path("unit_id"), args=s.ListRobots, result=s.RobotOut, many=True, tag=ROBOTS,
         summary="A unit's WeCom and DingTalk group robots (their URLs masked)"),
    write("PUT", ROBOT, "notifications.set_unit_robot", ADMIN, args=s.SetRobot,
          result=s.RobotOut, tag=ROBOTS,
          summary="Set a unit's WeCom or DingTalk group robot (stored encrypted)"),
    write("DELETE", ROBOT, "notifications.remove_unit_robot", ADMIN, args=s.RobotKey,
          result=s.RobotOut, tag=ROBOTS, summary="Remove a unit's robot"),
    # ------------------------------------------------------------ webhooks
    read("/webhooks", "notifications.list_webhooks", ADMIN, args=s.ListSubscriptions,
         result=s.SubscriptionOut, many=True, tag=WEBHOOKS,
         summary="Webhook subscriptions (URLs masked, secrets never shown)"),
    write("POST", "/webhooks", "notifications.subscribe_webhook", ADMIN, args=s.Subscribe,
          result=s.SubscriptionOut, status=201, tag=WEBHOOKS,
          summary="POST events of some types to a URL, signed with a secret (HMAC-SHA256)"),
    write("PATCH", "/webhooks/<int:subscription_id>", "notifications.update_webhook", ADMIN,
          args=s.UpdateSubscription, result=s.SubscriptionOut, tag=WEBHOOKS,
          summary="Change a subscription (enabling it clears its failures)"),
    write("DELETE", "/webhooks/<int:subscription_id>", "notifications.unsubscribe_webhook",
          ADMIN, args=s.SubscriptionId, result=s.SubscriptionOut, tag=WEBHOOKS,
          summary="End a subscription"),
    # ------------------------------------------------------------ deliveries, dead letters
    read("/deliveries", "notifications.list_deliveries", ADMIN, args=s.ListDeliveries,
         result=s.DeliveryOut, paged=True, tag=DELIVERIES,
         summary="The delivery log: one row per notice, channel and recipient"),
    read("/deliveries/<int:delivery_id>", "notifications.get_delivery", ADMIN,
         args=s.DeliveryId, result=s.DeliveryOut, tag=DELIVERIES,
         summary="One delivery with every attempt"),
    read("/dead-letters", "notifications.list_dead_deliveries", ADMIN, args=s.Page,
         result=s.DeliveryOut, paged=True, tag=DELIVERIES,
         summary="Deliveries that stayed failed, with the reason and every attempt"),
    write("POST", "/dead-letters/<int:delivery_id>/replay", "notifications.replay_delivery",
          ADMIN, args=s.DeliveryId, result=s.DeliveryOut, tag=DELIVERIES,
          summary="Send a dead delivery again"),
    # ------------------------------------------------------------ audit trail
    read("/audit/notifications/<entity_type>/<entity_id>", "notifications.audit_history",
         AUDIT, args=AuditQuery, result=AuditHistory, tag="audit",
         summary="Who changed a record of notifications, and what"),
]
