"""The notifications rules in plain Python: no nameko, no database.

A rule says, for one event type, who is told (its *audience*: selectors over the event's
data and the local read model of the union tree), on which channels, with which template,
how urgently, and what makes two reminders "the same" (its *subject* and *period*, which
with the rule and the recipient form the dedupe key). A delivery's life is a table,
``DELIVERY_FLOW``.
"""

import re
import string
from datetime import datetime, time, timedelta

from gonghui.clock import CHINA
from gonghui.errors import Conflict

PERSONAL_CHANNELS = ("inbox", "email")
ROBOT_CHANNELS = ("wecom", "dingtalk")
CHANNELS = PERSONAL_CHANNELS + ROBOT_CHANNELS + ("webhook",)
URGENCIES = ("low", "normal", "high", "urgent")
# Preference categories: a member chooses channels per kind of notice.
KINDS = ("reminder", "supervision", "task", "idea", "activity", "announcement", "system")
LANGUAGES = ("zh", "en")

# Selectors naming people directly in the event's data: the first field present wins
# (activities' field names are read tolerantly until its contract is published).
DATA_SELECTORS = {
    "recipients": ("recipient_member_ids",),
    "responsible": ("responsible_member_id",),
    "idea_submitter": ("idea_submitter_member_id", "submitter_member_id",
                       "idea_submitter_member_ids"),
    "member": ("member_id",),
    "owner": ("owner_member_id",),
    "signed_up": ("signed_up_member_ids", "participant_member_ids", "recipient_member_ids"),
    "missing_checkup": ("missing_member_ids", "member_ids", "recipient_member_ids"),
}
# Selectors resolved from the read model of the tree (recipients.py), as of the event's
# day: (what, the data fields naming the unit). Producers name units; who in them is told
# is decided here. "officers" are the chair and vice-chairs of the union serving the unit,
# "parent_officers" those of the union above it.
DIRECTORY_SELECTORS = {
    "owner_unit_officers": ("officers", ("owner_unit_id", "unit_id")),
    "unit_officers": ("officers", ("unit_id", "owner_unit_id", "issuing_unit_id")),
    "parent_union_officers": ("parent_officers", ("owner_unit_id", "unit_id")),
    "escalated_union_officers": ("officers", ("escalated_to_unit_id",)),
    "escalation_chair": ("chair", ("escalated_to_unit_id",)),
    "unit_members": ("members", ("issuing_unit_id", "unit_id", "owner_unit_id")),
}
ROBOT_SELECTORS = {
    "owner_unit_robots": ("owner_unit_id", "unit_id"),
    "unit_robots": ("unit_id", "owner_unit_id"),
    "escalated_unit_robots": ("escalated_to_unit_id",),
}
SELECTORS = tuple(DATA_SELECTORS) + tuple(DIRECTORY_SELECTORS) + tuple(ROBOT_SELECTORS)


def first_present(data, names):
    for name in names:
        if data.get(name) is not None:
            return data[name]
    return None


def member_ids_in_data(selector, data):
    value = first_present(data, DATA_SELECTORS[selector])
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [int(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]


# ------------------------------------------------------------------ subject and period

_FORMATTER = string.Formatter()


def placeholders(pattern):
    """Field names used by a ``{field}`` pattern; raises ValueError when malformed."""
    names = []
    for _, name, spec, conversion in _FORMATTER.parse(pattern):
        if name is None:
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or spec or conversion:
            raise ValueError(f"bad placeholder {{{name}}}: use plain {{field_name}}")
        names.append(name)
    return names


def fill(pattern, data, event_id):
    """Subject or period of a reminder. A field missing from the event falls back to the
    event id, so that two different events are never merged by accident."""
    values = {}
    for name in placeholders(pattern):
        value = str(event_id) if name == "event_id" else data.get(name)
        values[name] = str(event_id) if value is None else value
    return pattern.format(**values)


def dedupe_key(rule_key, recipient, subject, period, channel):
    # Reminders are "the same" when rule, recipient, subject, period and channel agree:
    # a redelivered event, a replayed tick or a second replica maps onto the same key.
    return f"{rule_key}|{recipient}|{subject}|{period}|{channel}"


def webhook_dedupe_key(subscription_id, event_id):
    return f"webhook|{subscription_id}|{event_id}"


# ------------------------------------------------------------------ who gets which channel


def personal_channels(rule_channels, kind, member_channels):
    """The rule's personal channels, narrowed (or widened, within personal channels) by the
    member's choice for this kind of notice."""
    chosen = member_channels.get(kind) if member_channels else None
    wanted = rule_channels if chosen is None else chosen
    return [c for c in PERSONAL_CHANNELS if c in wanted]


def robot_channels(rule_channels):
    return [c for c in ROBOT_CHANNELS if c in rule_channels]


def event_matches(patterns, event_type):
    """Webhook subscription patterns: exact ``deeds.report_overdue``, ``deeds.*`` or ``*``."""
    producer = event_type.partition(".")[0]
    return any(p in ("*", event_type, f"{producer}.*") for p in patterns)


# ------------------------------------------------------------------ time: quiet hours, digest


def china(moment):
    return moment.astimezone(CHINA)


def in_quiet_hours(moment, start, end):
    """When ``moment`` falls in the quiet window [start, end) (China time, may wrap past
    midnight), the moment it ends; otherwise None."""
    if start is None or end is None or start == end:
        return None
    local = china(moment)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:
        inside = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=CHINA)


def digest_time(moment, hour):
    """The digest a notice created at ``moment`` joins: today's at ``hour`` (China time), or
    tomorrow's if today's has gone."""
    local = china(moment)
    due = datetime.combine(local.date(), time(hour), tzinfo=CHINA)
    return due if local < due else due + timedelta(days=1)


def schedule(now, channel, urgency, preference):
    """When a personal notice may go out, and why it waits: ``(at, digest, held_reason)``.
    The inbox never waits (it does not ring); e-mail waits for the end of quiet hours, and
    low or normal notices of a member who chose the daily digest wait for the digest."""
    if channel == "inbox" or preference is None:
        return now, False, None
    at, digest, reason = now, False, None
    if preference.get("digest") and urgency in ("low", "normal"):
        at, digest, reason = digest_time(now, preference.get("digest_hour", 18)), True, "digest"
    released = in_quiet_hours(at, preference.get("quiet_start"), preference.get("quiet_end"))
    if released is not None:
        at, reason = released, reason or "quiet_hours"
    return at, digest, reason


# ------------------------------------------------------------------ a delivery's life

# A delivery is pending until sent, or dead once its tries are spent (or it cannot be
# sent at all); only an operator's replay brings a dead one back to pending.
DELIVERY_FLOW = {"pending": ("sent", "dead"), "dead": ("pending",), "sent": ()}
DELIVERY_STATUSES = tuple(DELIVERY_FLOW)


def check_replay(delivery_id, status, subscription_enabled=True):
    """A replay moves a dead delivery back to pending, else ``Conflict``; a webhook's waits
    until its subscription is enabled again."""
    if "pending" not in DELIVERY_FLOW[status]:
        raise Conflict(f"delivery {delivery_id} is {status}, not dead",
                       {"delivery_id": [f"is {status}"]})
    if not subscription_enabled:
        raise Conflict("enable the webhook subscription first",
                       {"delivery_id": ["subscription disabled"]})


def retry_delay(attempt, base_seconds, cap_seconds=3600.0):
    """Exponential backoff after the ``attempt``-th failure: base, 2×base, 4×base …"""
    return min(cap_seconds, base_seconds * 2 ** (attempt - 1))


URGENCY_RANK = {u: i for i, u in enumerate(URGENCIES)}
