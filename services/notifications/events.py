"""The notifications service's events: a public contract (see docs/asyncapi.yaml).

A *delivery* is one notice on one channel to one recipient. ``delivered`` lists the
deliveries of one source event on one channel sent together (one inbox batch, one e-mail
or digest, one robot or webhook call): a 10,000-member announcement is ten events, not
10,000. ``failed`` is one per dead delivery. Both carry ids, never addresses.
"""

from marshmallow import Schema, fields

from gonghui.events import event_type

PRODUCER = "notifications"


class DeliveryData(Schema):
    delivery_id = fields.Integer(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    rule_key = fields.String(required=True)
    channel = fields.String(required=True)
    member_id = fields.Integer(allow_none=True)
    target = fields.String(allow_none=True)
    kind = fields.String(required=True)
    urgency = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True, format="iso")
    error = fields.String(allow_none=True)


class DeliveredItem(Schema):
    delivery_id = fields.Integer(required=True)
    rule_key = fields.String(required=True)
    member_id = fields.Integer(allow_none=True)
    target = fields.String(allow_none=True)
    kind = fields.String(required=True)
    urgency = fields.String(required=True)
    attempts = fields.Integer(required=True)


class DeliveredData(Schema):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    channel = fields.String(required=True)
    at = fields.AwareDateTime(required=True, format="iso")
    count = fields.Integer(required=True)
    deliveries = fields.List(fields.Nested(DeliveredItem), required=True)


class WebhookDisabledData(Schema):
    subscription_id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True)
    owner_member_id = fields.Integer(allow_none=True)
    failures = fields.Integer(required=True)
    reason = fields.String(required=True)
    disabled_at = fields.AwareDateTime(required=True, format="iso")


class RuleData(Schema):
    key = fields.String(required=True)
    event_type = fields.String(required=True)
    audience = fields.List(fields.String(), required=True)
    channels = fields.List(fields.String(), required=True)
    template = fields.String(required=True)
    urgency = fields.String(required=True)
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    period = fields.String(required=True)
    enabled = fields.Boolean(required=True)


class PreferencesData(Schema):
    member_id = fields.Integer(required=True)
    language = fields.String(required=True)
    channels = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                           required=True)
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    digest = fields.Boolean(required=True)
    digest_hour = fields.Integer(required=True)


class RobotData(Schema):
    unit_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    name = fields.String(allow_none=True)
    enabled = fields.Boolean(required=True)
    removed = fields.Boolean(required=True)


class SubscriptionData(Schema):
    subscription_id = fields.Integer(required=True)
    name = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    owner_member_id = fields.Integer(allow_none=True)
    enabled = fields.Boolean(required=True)
    removed = fields.Boolean(required=True)


def _declare(name, schema, description):
    return event_type(PRODUCER, name, schema, description)


DELIVERED = _declare("delivered", DeliveredData,
                     "Notices of one event reached their recipients on one channel (inbox "
                     "items written, e-mail accepted by the SMTP server, webhook or robot "
                     "answered OK); one event per batch sent together.")
FAILED = _declare("failed", DeliveryData,
                  "A notice could not be delivered after its last attempt (or its target went "
                  "away): dead-lettered with the reason, listed for operators to replay.")
DELIVERY_REPLAYED = _declare("delivery_replayed", DeliveryData,
                             "An operator sent a dead delivery back to be tried again.")
WEBHOOK_DISABLED = _declare("webhook_disabled", WebhookDisabledData,
                            "A webhook subscription failed too many times in a row and was "
                            "disabled; its owner is told.")
RULE_CHANGED = _declare("rule_changed", RuleData, "A reminder rule was created or changed.")
PREFERENCES_CHANGED = _declare("preferences_changed", PreferencesData,
                               "A member changed their notification preferences.")
ROBOT_CHANGED = _declare("robot_changed", RobotData,
                         "A unit's group robot (WeCom or DingTalk) was set or removed.")
SUBSCRIPTION_CHANGED = _declare("subscription_changed", SubscriptionData,
                                "A webhook subscription was created, changed or removed.")
