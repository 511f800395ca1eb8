"""The rule book: the reminder rules kept as data (seeded from ``defaults.py``), listed,
added and changed by operators, each change checked whole (``schemas.check_rule``). What a
rule means when an event comes is ``rules.py`` and ``fanout.py``.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint) and ``work.emit(declared,
data, aggregate)``.
"""

from datetime import UTC, datetime

from gonghui.errors import Conflict, NotFound, ValidationError
from services.notifications import events, payloads, queries
from services.notifications import schemas as s
from services.notifications.models import Rule


def _check(values):
    errors = s.check_rule(values)
    if errors:
        raise ValidationError("invalid rule", errors)


def list_rules(work, event_type, enabled):
    return queries.rules(work.db, event_type, enabled)


def create_rule(work, key, values):
    _check(values)
    if queries.rule(work.db, key) is not None:
        raise Conflict(f"rule {key} exists", {"key": ["already used"]})
    rule = Rule(key=key, **values)
    work.db.add(rule)
    work.db.flush()
    work.emit(events.RULE_CHANGED, payloads.rule_changed(rule), ("rule", rule.id))
    return rule


def update_rule(work, key, changes):
    rule = queries.rule(work.db, key)
    if rule is None:
        raise NotFound(f"rule {key} not found", {"key": ["not found"]})
    _check({**payloads.rule_changed(rule), **changes})
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.updated_at = datetime.now(UTC)
    work.emit(events.RULE_CHANGED, payloads.rule_changed(rule), ("rule", rule.id))
    return rule
