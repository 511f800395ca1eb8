"""Schemas of the notifications service's RPC arguments and results."""

import re
from urllib.parse import urlparse

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from gonghui.events import CATALOG
from gonghui.schemas import Arguments, AsOf, Id, OneOf, Page, Text
from services.notifications import rules, templates

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="expected HH:MM (24-hour)")
EVENT_TYPE = validate.Regexp(r"^[a-z_]+\.[a-z_]+$", error="expected <service>.<event>")

# Event types this service consumes (set by the service module, which declares handlers).
CONSUMED = set()


def check_url(value):
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SchemaError("expected an http(s) URL")


class MemberId(Arguments):
    member_id = Id(required=True)


# ----------------------------------------------------------------- inbox


class ListInbox(Page):
    member_id = Id(required=True)
    unread_only = fields.Boolean(load_default=False)


class MarkRead(MemberId):
    item_ids = fields.List(Id(big=True), load_default=None,
                           validate=validate.Length(min=1, max=1000))
    all = fields.Boolean(load_default=False)

    @validates_schema
    def one_of(self, data, **kwargs):
        if not data.get("all") and not data.get("item_ids"):
            raise SchemaError("name the items, or all=true", "item_ids")


class InboxItemOut(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    kind = fields.String()
    urgency = fields.String()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    read_at = fields.AwareDateTime(format="iso", allow_none=True)


class UnreadOut(Schema):
    member_id = fields.Integer()
    unread = fields.Integer()
    marked = fields.Integer()


# ----------------------------------------------------------------- preferences


class SetPreferences(MemberId):
    language = OneOf(rules.LANGUAGES)
    channels = fields.Dict(keys=fields.String(validate=validate.OneOf(rules.KINDS)),
                           values=fields.List(fields.String(
                               validate=validate.OneOf(rules.PERSONAL_CHANNELS))))
    quiet_start = fields.String(validate=HHMM, allow_none=True)
    quiet_end = fields.String(validate=HHMM, allow_none=True)
    digest = fields.Boolean()
    digest_hour = fields.Integer(strict=True, validate=validate.Range(min=0, max=23))

    @validates_schema
    def quiet_window(self, data, **kwargs):
        if ("quiet_start" in data) != ("quiet_end" in data) or (
                (data.get("quiet_start") is None) != (data.get("quiet_end") is None)):
            raise SchemaError("give both ends of the quiet hours (or neither)", "quiet_end")


class PreferencesOut(Schema):
    member_id = fields.Integer()
    language = fields.String()
    channels = fields.Dict()
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    digest = fields.Boolean()
    digest_hour = fields.Integer()


# ----------------------------------------------------------------- rules


def _pattern(value):
    try:
        rules.placeholders(value)
    except ValueError as exc:
        raise SchemaError(str(exc)) from None


def _rule_fields(required):
    """The editable fields of a rule: all required to create one, any subset to update."""
    return {
        "audience": fields.List(OneOf(rules.SELECTORS), required=required,
                                validate=validate.Length(min=1, max=10)),
        "channels": fields.List(OneOf(rules.PERSONAL_CHANNELS + rules.ROBOT_CHANNELS),
                                required=required, validate=validate.Length(min=1, max=4)),
        "template": OneOf(sorted(templates.TEMPLATES), required=required),
        "urgency": OneOf(rules.URGENCIES, required=required),
        "kind": OneOf(rules.KINDS, required=required),
        "subject": fields.String(required=required,
                                 validate=[validate.Length(min=1, max=200), _pattern]),
        "period": fields.String(required=required,
                                validate=[validate.Length(min=1, max=200), _pattern]),
        "enabled": fields.Boolean(**({"load_default": True} if required else {})),
        "description": fields.String(allow_none=True, validate=validate.Length(max=1000)),
    }


def check_rule(rule):
    """Cross-field checks of a whole rule (after an update is applied too): the event type
    is one we consume, placeholders are fields of its data, channels fit the audience."""
    errors = {}
    if rule["event_type"] not in CONSUMED:
        errors["event_type"] = ["notifications does not consume this event type"]
    declared = CATALOG.get(rule["event_type"])
    if declared is not None:
        known = set(declared.schema().fields) | {"event_id"}
        for name in ("subject", "period"):
            unknown = sorted(set(rules.placeholders(rule[name])) - known)
            if unknown:
                errors[name] = [f"{rule['event_type']} carries no field {u}" for u in unknown]
    people = [s for s in rule["audience"] if s not in rules.ROBOT_SELECTORS]
    robots = [s for s in rule["audience"] if s in rules.ROBOT_SELECTORS]
    if people and not set(rule["channels"]) & set(rules.PERSONAL_CHANNELS):
        errors.setdefault("channels", []).append("people need inbox or email")
    if robots and not set(rule["channels"]) & set(rules.ROBOT_CHANNELS):
        errors.setdefault("channels", []).append("robots need wecom or dingtalk")
    return errors


RULE_KEY = validate.Regexp(r"^[a-z][a-z0-9_.]{2,79}$",
                           error="3-80 of lower-case letters, digits, '_' and '.'")
CreateRule = type("CreateRule", (Arguments,), {
    "key": fields.String(required=True, validate=RULE_KEY),
    "event_type": fields.String(required=True, validate=EVENT_TYPE),
    **_rule_fields(True)})
UpdateRule = type("UpdateRule", (Arguments,), {
    "key": fields.String(required=True, validate=validate.Length(min=1, max=80)),
    **_rule_fields(False)})


class ListRules(Arguments):
    event_type = fields.String(load_default=None, validate=EVENT_TYPE)
    enabled = fields.Boolean(load_default=None, allow_none=True)


class RuleOut(Schema):
    id = fields.Integer()
    key = fields.String()
    event_type = fields.String()
    audience = fields.List(fields.String())
    channels = fields.List(fields.String())
    template = fields.String()
    urgency = fields.String()
    kind = fields.String()
    subject = fields.String()
    period = fields.String()
    enabled = fields.Boolean()
    description = fields.String(allow_none=True)


# ----------------------------------------------------------------- robots and webhooks


def RateLimit(**kwargs):  # noqa: N802 - a field, named like one
    """Messages per rate window to this robot or endpoint (NOTIFY_RATE_WINDOW_SECONDS, a
    minute by default); none: the default of its kind (NOTIFY_WECOM_RATE, …)."""
    return fields.Integer(strict=True, allow_none=True,
                          validate=validate.Range(min=1, max=10000), **kwargs)


class SetRobot(Arguments):
    unit_id = Id(required=True)
    kind = OneOf(rules.ROBOT_CHANNELS, required=True)
    webhook_url = fields.String(required=True, validate=[validate.Length(max=1000), check_url])
    secret = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=8, max=200))
    name = Text(100, load_default=None, allow_none=True)
    enabled = fields.Boolean(load_default=True)
    rate_limit = RateLimit(load_default=None)

    @validates_schema
    def secret_for_dingtalk(self, data, **kwargs):
        if data.get("secret") and data.get("kind") == "wecom":
            raise SchemaError("WeCom robots are not signed: no secret", "secret")


class RobotKey(Arguments):
    unit_id = Id(required=True)
    kind = OneOf(rules.ROBOT_CHANNELS, required=True)


class ListRobots(Arguments):
    unit_id = Id(load_default=None)


class RobotOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    kind = fields.String()
    name = fields.String(allow_none=True)
    webhook_url = fields.String()  # masked: the key in its query is a secret
    signed = fields.Boolean()
    enabled = fields.Boolean()
    rate_limit = fields.Integer(allow_none=True)


def check_patterns(values):
    for value in values:
        if value != "*" and not re.fullmatch(r"[a-z_]+\.([a-z_]+|\*)", value):
            raise SchemaError(f"{value!r}: expected <service>.<event>, <service>.* or *")


class Subscribe(Arguments):
    name = Text(100, required=True)
    url = fields.String(required=True, validate=[validate.Length(max=1000), check_url])
    secret = fields.String(required=True, validate=validate.Length(min=16, max=200))
    event_types = fields.List(fields.String(), required=True,
                              validate=[validate.Length(min=1, max=100), check_patterns])
    owner_member_id = Id(load_default=None, allow_none=True)
    rate_limit = RateLimit(load_default=None)


class SubscriptionId(Arguments):
    subscription_id = Id(required=True)


class UpdateSubscription(SubscriptionId):
    name = Text(100)
    url = fields.String(validate=[validate.Length(max=1000), check_url])
    secret = fields.String(validate=validate.Length(min=16, max=200))
    event_types = fields.List(fields.String(),
                              validate=[validate.Length(min=1, max=100), check_patterns])
    owner_member_id = Id(allow_none=True)
    enabled = fields.Boolean()
    rate_limit = RateLimit()


class ListSubscriptions(Arguments):
    enabled = fields.Boolean(load_default=None, allow_none=True)


class SubscriptionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    owner_member_id = fields.Integer(allow_none=True)
    enabled = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_at = fields.AwareDateTime(format="iso", allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    rate_limit = fields.Integer(allow_none=True)


# ----------------------------------------------------------------- deliveries


class ListDeliveries(Page):
    status = OneOf(rules.DELIVERY_STATUSES, load_default=None)
    channel = OneOf(rules.CHANNELS, load_default=None)
    member_id = Id(load_default=None)
    event_id = fields.UUID(load_default=None)


class DeliveryId(Arguments):
    delivery_id = Id(big=True, required=True)


class AttemptOut(Schema):
    attempt = fields.Integer()
    started_at = fields.AwareDateTime(format="iso")
    finished_at = fields.AwareDateTime(format="iso", allow_none=True)
    outcome = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


class DeliveryOut(Schema):
    id = fields.Integer()
    dedupe_key = fields.String()
    rule_key = fields.String()
    event_id = fields.UUID()
    event_type = fields.String()
    channel = fields.String()
    member_id = fields.Integer(allow_none=True)
    target = fields.String(allow_none=True)
    kind = fields.String()
    urgency = fields.String()
    title = fields.String()
    status = fields.String()
    digest = fields.Boolean()
    held_reason = fields.String(allow_none=True)
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(format="iso")
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    sent_at = fields.AwareDateTime(format="iso", allow_none=True)
    message_id = fields.UUID(allow_none=True)  # shared by the deliveries one message carried
    attempt_log = fields.List(fields.Nested(AttemptOut))


# ----------------------------------------------------------------- periodic work, directory


class Tick(Arguments):
    as_of = AsOf()


class DispatchDue(Arguments):
    until = fields.AwareDateTime(load_default=None, allow_none=True, format="iso")


class CountsOut(Schema):
    """What ``tick`` and ``dispatch_due`` sent."""

    as_of = fields.Date()
    handled = fields.Integer()
