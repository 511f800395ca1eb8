"""The data of notifications' own events about its configuration (``events.py``); the
deliveries' events are built by the dispatcher (``dispatcher.delivery_data``)."""

RULE_FIELDS = ("key", "event_type", "audience", "channels", "template", "urgency", "kind",
               "subject", "period", "enabled")


def rule_changed(rule):
    """A rule's state, as ``rule_changed`` carries it."""
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def robot_changed(unit_id, kind, name, enabled, removed=False):
    return {"unit_id": unit_id, "kind": kind, "name": name, "enabled": enabled,
            "removed": removed}


def subscription_changed(sub, removed=False):
    return {"subscription_id": sub.id, "name": sub.name, "event_types": sub.event_types,
            "owner_member_id": sub.owner_member_id, "enabled": sub.enabled,
            "removed": removed}
