"""Bad input to every RPC method of notifications: a typed error naming the field, and
nothing written."""


import pytest

from gonghui.errors import Conflict, NotFound, ValidationError
from services.notifications.service import NotificationsService
from tests.support.bad_input import (
    LONE_SURROGATE,
    NUL,
    assert_unstorable_text_refused,
    database_snapshot,
    rpc_methods,
)
from tests.support.notifications import seed_tree

RULE = {"key": "x.rule", "event_type": "deeds.report_due", "audience": ["responsible"],
        "channels": ["inbox"], "template": "report_due", "urgency": "low", "kind": "reminder",
        "subject": "item:{item_id}", "period": "{period}"}

# For each method: arguments with one bad value, and the field the error must name.
BAD_INPUT = {
    "list_inbox": ({"member_id": 0}, "member_id"),
    "unread_count": ({"member_id": "me"}, "member_id"),
    "mark_read": ({"member_id": 203}, "item_ids"),
    "get_preferences": ({"member_id": None}, "member_id"),
    "set_preferences": ({"member_id": 203, "quiet_start": "25:00", "quiet_end": "07:00"},
                        "quiet_start"),
    "list_rules": ({"event_type": "report_due"}, "event_type"),
    "create_rule": ({**RULE, "audience": ["everyone"]}, "audience"),
    "update_rule": ({"key": "report_due", "subject": "{item_id!r}"}, "subject"),
    "set_unit_robot": ({"unit_id": 2, "kind": "wecom", "webhook_url": "ftp://x"},
                       "webhook_url"),
    "list_unit_robots": ({"unit_id": -3}, "unit_id"),
    "remove_unit_robot": ({"unit_id": 2, "kind": "slack"}, "kind"),
    "subscribe_webhook": ({"name": "x", "url": "https://x.cn/h", "secret": "short",
                           "event_types": ["deeds.*"]}, "secret"),
    "list_webhooks": ({"enabled": "sometimes"}, "enabled"),
    "update_webhook": ({"subscription_id": 1, "event_types": ["deeds report"]},
                       "event_types"),
    "unsubscribe_webhook": ({"subscription_id": 1.5}, "subscription_id"),
    "list_deliveries": ({"status": "lost"}, "status"),
    "get_delivery": ({"delivery_id": "one"}, "delivery_id"),
    "list_dead_deliveries": ({"limit": 0}, "limit"),
    "replay_delivery": ({}, "delivery_id"),
    "tick": ({"as_of": "2026-02-30"}, "as_of"),
    "dispatch_due": ({"until": "2026-03-01T10:00:00"}, "until"),  # not timezone-aware
    "directory_status": ({"verbose": True}, "_schema"),
    "resync_directory": ({"full": True}, "_schema"),
    "health": ({"verbose": True}, "_schema"),
    "audit_history": ({"entity_type": "inbox", "entity_id": 1, "offset": -1}, "offset"),
}

# Well-formed calls that the current state must refuse.
REFUSED = [
    ("get_preferences", {"member_id": 9999}, NotFound),
    ("set_unit_robot", {"unit_id": 9999, "kind": "wecom", "webhook_url": "https://q.cn/x"},
     NotFound),
    ("remove_unit_robot", {"unit_id": 2, "kind": "wecom"}, NotFound),
    ("update_rule", {"key": "no.such", "enabled": False}, NotFound),
    ("create_rule", {**RULE, "key": "report_due"}, Conflict),
    ("create_rule", {**RULE, "event_type": "deeds.no_such_event"}, ValidationError),
    ("subscribe_webhook", {"name": "x", "url": "https://x.cn/h", "secret": "s" * 16,
                           "event_types": ["billing.*"]}, ValidationError),
    ("update_webhook", {"subscription_id": 999, "enabled": True}, NotFound),
    ("replay_delivery", {"delivery_id": 999}, NotFound),
    ("mark_read", {"member_id": 203, "item_ids": [999]}, NotFound),
]

# Otherwise valid calls with a NUL byte or a lone surrogate in a string (the path of the
# field the error names): refused before the database or the broker sees them.
UNSTORABLE_TEXT = [
    ("subscribe_webhook", {"name": "x", "url": "https://x.cn/h", "secret": "s" * 15 + NUL,
                           "event_types": ["deeds.*"]}, ("secret",)),
    ("create_rule", {**RULE, "description": f"说明{LONE_SURROGATE}"}, ("description",)),
    ("set_preferences", {"member_id": 203, "channels": {"reminder": ["inbox"],
                                                        f"task{NUL}": ["inbox"]}},
     ("channels",)),
    ("set_preferences", {"member_id": 203, "channels": {"reminder": [LONE_SURROGATE]}},
     ("channels", "reminder", "0")),
]


def test_the_table_covers_every_rpc_method():
    assert sorted(BAD_INPUT) == rpc_methods(NotificationsService)


def snapshot(url):
    return database_snapshot(url, rules_digest=(
        "SELECT md5(string_agg(key || channels::text || enabled, ',' ORDER BY key)) "
        "FROM rules"))


def test_bad_input_gives_a_typed_field_error_and_writes_nothing(
        start_service, rpc, amqp_uri, databases, notifications_config):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    before = snapshot(url)
    with rpc() as proxy:
        notif = proxy.notifications
        for method, (arguments, field) in sorted(BAD_INPUT.items()):
            with pytest.raises(ValidationError) as info:
                getattr(notif, method)(**arguments)
            assert field in info.value.fields, (method, info.value.fields)
            with pytest.raises(ValidationError):
                getattr(notif, method)(not_an_argument=1)
        for method, arguments, error in REFUSED:
            with pytest.raises(error):
                getattr(notif, method)(**arguments)
        assert_unstorable_text_refused(notif, UNSTORABLE_TEXT)
    assert snapshot(url) == before
