"""Webhook subscriptions: every event of the chosen types POSTed, signed, to a downstream
system (``channels/webhook.py``); disabled after repeated failures with its owner told
(``dispatcher.disable_subscription``).

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint) and ``work.emit(declared,
data, aggregate)``.
"""

from gonghui.errors import ValidationError, get_or_not_found
from services.notifications import events, payloads, queries, rules
from services.notifications import schemas as s
from services.notifications.dispatcher import mask_url
from services.notifications.models import WebhookSubscription


def subscription_out(sub):
    return {**{c: getattr(sub, c) for c in ("id", "name", "event_types", "owner_member_id",
                                            "enabled", "consecutive_failures", "disabled_at",
                                            "disabled_reason", "rate_limit")},
            "url": mask_url(sub.url)}


def _check_patterns(patterns):
    """Each pattern matches some event type this service consumes."""
    unmatched = [p for p in patterns if not any(rules.event_matches([p], t)
                                                for t in s.CONSUMED)]
    if unmatched:
        raise ValidationError("no such event types", {"event_types": [
            f"{p}: notifications does not consume it" for p in unmatched]})


def _subscription(work, subscription_id):
    return get_or_not_found(work.db, WebhookSubscription, subscription_id,
                            "webhook subscription", field="subscription_id")


def _changed(work, sub, removed=False):
    work.emit(events.SUBSCRIPTION_CHANGED, payloads.subscription_changed(sub, removed),
              ("webhook_subscription", sub.id))


def subscribe(work, name, url, secret, event_types, owner_member_id, rate_limit=None):
    _check_patterns(event_types)
    sub = WebhookSubscription(name=name, url=url, secret=secret, event_types=event_types,
                              owner_member_id=owner_member_id, rate_limit=rate_limit,
                              enabled=True,
                              consecutive_failures=0)
    work.db.add(sub)
    work.db.flush()
    _changed(work, sub)
    return subscription_out(sub)


def list_webhooks(work, enabled):
    return [subscription_out(sub) for sub in queries.subscriptions(work.db, enabled)]


def update_webhook(work, subscription_id, changes):
    """Enabling a disabled subscription clears its failures."""
    sub = _subscription(work, subscription_id)
    if "event_types" in changes:
        _check_patterns(changes["event_types"])
    if changes.get("enabled") and not sub.enabled:
        sub.consecutive_failures, sub.disabled_at, sub.disabled_reason = 0, None, None
    for key, value in changes.items():
        setattr(sub, key, value)
    _changed(work, sub)
    return subscription_out(sub)


def unsubscribe(work, subscription_id):
    sub = _subscription(work, subscription_id)
    out = subscription_out(sub)
    _changed(work, sub, removed=True)
    work.db.delete(sub)
    return out
