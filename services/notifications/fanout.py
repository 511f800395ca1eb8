"""From one event to its delivery rows: the rules of its type pick the audience, the read
model names the people as of the event's day (``recipients.py``), preferences pick channels
and times, templates make the words.

Every row carries a dedupe key (rule, recipient, subject, period, channel) and is inserted
``ON CONFLICT DO NOTHING`` in the consuming transaction: a redelivered envelope, a second
replica or the same reminder in a new envelope (a replayed tick) adds nothing.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from gonghui import directory
from gonghui.events import CATALOG
from gonghui.schemas import shared
from services.notifications import recipients, rules, templates
from services.notifications.models import Delivery, Rule, UnitRobot, WebhookSubscription


def envelope_of(event):
    """The event as JSON primitives, as it was published (for webhooks)."""
    declared = CATALOG.get(event.type)
    data = shared(declared.schema).dump(event.data) if declared else event.data
    return {"id": str(event.id), "type": event.type, "version": event.version,
            "occurred_at": event.occurred_at.isoformat(), "producer": event.producer,
            "actor": event.actor, "data": data}


def preference_dict(pref):
    if pref is None:
        return None
    return {"language": pref.language, "channels": pref.channels or {},
            "quiet_start": pref.quiet_start, "quiet_end": pref.quiet_end,
            "digest": pref.digest, "digest_hour": pref.digest_hour}


class _Renderer:
    """Templates filled once per (template, language); only the name changes per person."""

    def __init__(self, data, base_url, event_id):
        self.data, self.base_url, self.event_id = data, base_url, event_id
        self._base, self._links = {}, {}

    def __call__(self, template, language, name):
        key = (template, language)
        if key not in self._base:
            self._base[key] = templates.context(self.data, language, None)
            self._links[template] = templates.link_for(template, self.data, self.base_url,
                                                       self.event_id)
        values = templates._Blank(self._base[key])
        values["recipient_name"] = name or values["recipient_name"]
        title, body = templates.render(template, language, values)
        return title, body, self._links[template]


def fan_out(session, event, base_url, now=None):
    """Insert the event's deliveries; returns how many rows were new."""
    now = now or datetime.now(UTC)
    data, day = event.data, recipients.event_day(event)
    render = _Renderer(data, base_url, event.id)
    rows, taken = [], set()  # one notice per member and channel per event, first rule wins
    active = session.scalars(select(Rule).where(Rule.event_type == event.type,
                                                Rule.enabled.is_(True))).all()
    active = sorted(active, key=lambda r: (-rules.URGENCY_RANK[r.urgency], r.id))
    for rule in active:
        subject = rules.fill(rule.subject, data, event.id)
        period = rules.fill(rule.period, data, event.id)
        member_ids, unit_ids = recipients.resolve(session, rule.audience, data, day)
        people = recipients.people(session, member_ids, day)
        # Never told of them, or left: only the never-told get a notice.
        unknown = set(member_ids) - set(people)
        unknown -= recipients.known(session, unknown)
        base = {"rule_key": rule.key, "event_id": event.id, "event_type": event.type,
                "kind": rule.kind, "urgency": rule.urgency}
        for member_id in member_ids:
            if member_id in people:
                name, pref = people[member_id]
            elif member_id in unknown:
                # Not in the read model yet (events race, or a resync is due): the notice is
                # still written; e-mail finds the address at send time or is dead-lettered.
                name, pref = None, None
            else:
                continue
            prefs = preference_dict(pref)
            language = prefs["language"] if prefs else "zh"
            channels = rules.personal_channels(rule.channels, rule.kind,
                                               prefs["channels"] if prefs else None)
            for channel in channels:
                if (member_id, channel) in taken:
                    continue
                taken.add((member_id, channel))
                at, digest, held = rules.schedule(now, channel, rule.urgency, prefs)
                title, body, link = render(rule.template, language, name)
                rows.append({**base, "channel": channel, "member_id": member_id,
                             "target": None, "language": language, "title": title,
                             "body": body, "link": link, "payload": None,
                             "status": "pending", "digest": digest, "held_reason": held,
                             "next_attempt_at": at, "dedupe_key": rules.dedupe_key(
                                 rule.key, f"member:{member_id}", subject, period, channel)})
        kinds = rules.robot_channels(rule.channels)
        for unit_id in unit_ids:
            if not kinds:
                break
            unit_name = directory.unit_name(session, unit_id)
            for robot in session.scalars(select(UnitRobot).where(
                    UnitRobot.unit_id == unit_id, UnitRobot.enabled.is_(True),
                    UnitRobot.kind.in_(kinds))):
                title, body, link = render(rule.template, "zh", unit_name)
                rows.append({**base, "channel": robot.kind, "member_id": None,
                             "target": str(robot.id), "language": "zh", "title": title,
                             "body": body, "link": link, "payload": None,
                             "status": "pending", "digest": False, "held_reason": None,
                             "next_attempt_at": now, "dedupe_key": rules.dedupe_key(
                                 rule.key, f"robot:{unit_id}:{robot.kind}", subject, period,
                                 robot.kind)})
    subscriptions = [s for s in session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.enabled.is_(True))) if rules.event_matches(s.event_types,
                                                                      event.type)]
    if subscriptions:
        envelope = envelope_of(event)
        for sub in subscriptions:
            rows.append({"rule_key": "webhook", "event_id": event.id, "event_type": event.type,
                         "kind": "system", "urgency": "normal", "channel": "webhook",
                         "member_id": None, "target": str(sub.id), "language": "zh",
                         "title": event.type, "body": "", "link": None, "payload": envelope,
                         "status": "pending", "digest": False, "held_reason": None,
                         "next_attempt_at": now,
                         "dedupe_key": rules.webhook_dedupe_key(sub.id, event.id)})
    if not rows:
        return 0
    inserted = session.execute(
        insert(Delivery.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Delivery.__table__.c.id), rows).all()
    return len(inserted)
