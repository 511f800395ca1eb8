"""The robots' limits over the real broker and database: a burst of notices to one unit's
robot, served by two notifications replicas sharing one token bucket in PostgreSQL, goes out
at the configured rate (a robot refusing above it never refuses), merged into fewer
messages than notices, each within the vendor's size limit, nothing lost, none twice; a
delivery that waited says why; a replay of the same events sends nothing new."""

import re
import time
from collections import Counter

import eventlet

from services.notifications.service import NotificationsService
from tests.support.notifications import (
    PLANT,
    REPORT_OVERDUE,
    build,
    publish_many,
    report_overdue,
    rows,
    scalar,
    seed_tree,
    wait_for,
)

PER_WINDOW, WINDOW = 10, 2.0  # the robot's rate in these tests: 10 messages per 2 seconds
INTERVAL = WINDOW / (PER_WINDOW - 1)  # the bucket's pace when empty (throttle.py)
RATES = {"NOTIFY_WECOM_RATE": PER_WINDOW, "NOTIFY_DINGTALK_RATE": PER_WINDOW,
         "NOTIFY_RATE_WINDOW_SECONDS": WINDOW}


def overdue_envelopes(count, title_of=lambda n: f"实事项目{n:03d}号"):
    return [build(REPORT_OVERDUE, report_overdue(item_id=n, item_title=title_of(n)))
            for n in range(1, count + 1)]


def carried_items(messages, text_of):
    """Item ids each message names (its links end in /deeds/items/<id>)."""
    return [[int(i) for i in re.findall(r"/deeds/items/(\d+)\)", text_of(m))]
            for m in messages]


def wecom_text(message):
    return message["markdown"]["content"]


def dingtalk_text(message):
    return message["markdown"]["text"]


def start_replicas(start_service, config, count=2):
    return [start_service(NotificationsService, **{**config, **RATES}) for _ in range(count)]


def only_the_robots_rule(proxy):
    """The burst is the robots' alone: the personal rule of the same event is off."""
    proxy.notifications.update_rule(key="report_overdue", enabled=False)


def test_a_burst_to_one_robot_from_two_replicas_goes_at_its_rate_merged(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    start_replicas(start_service, notifications_config)
    seed_tree(amqp_uri, url)
    robots.limit_rate("wecom:burst", PER_WINDOW, WINDOW)
    with rpc() as proxy:
        only_the_robots_rule(proxy)
        robot = proxy.notifications.set_unit_robot(unit_id=PLANT, kind="wecom",
                                                   webhook_url=robots.wecom_url("burst"))
    envelopes = overdue_envelopes(100)
    started = time.monotonic()
    publish_many(amqp_uri, envelopes)
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE channel = 'wecom' "
                                 "AND status = 'sent'") == 100, 60, "all 100 sent")
    drained = time.monotonic() - started
    messages = robots.received["wecom:burst"]
    assert robots.refused == []  # the robot never had to refuse
    carried = carried_items(messages, wecom_text)
    assert sorted(i for items in carried for i in items) == list(range(1, 101))  # once each
    assert len(messages) < 100 and max(len(items) for items in carried) > 1
    assert all(len(wecom_text(m).encode()) <= 4096 for m in messages)
    # At the configured pace: the bucket holds one token and refills one per INTERVAL.
    arrived = robots.arrived["wecom:burst"]
    assert arrived[-1] - arrived[0] >= (len(messages) - 1) * INTERVAL - 0.3
    for index, at in enumerate(arrived):
        assert sum(1 for other in arrived[index:] if other < at + WINDOW) <= PER_WINDOW
    # Each row says which message carried it; the rows that waited say why.
    sent = rows(url, "SELECT id, message_id, held_reason, attempts FROM deliveries "
                     "WHERE channel = 'wecom' ORDER BY id")
    assert all(r["attempts"] == 1 for r in sent)  # waiting was never an attempt
    by_message = Counter(r["message_id"] for r in sent)
    assert None not in by_message
    assert sorted(by_message.values()) == sorted(len(items) for items in carried)
    reason = f"rate_limit: wecom robot {robot['id']}, {PER_WINDOW}/2s"
    waited = [r for r in sent if r["held_reason"] == reason]
    assert waited, "some deliveries must have waited for a token"
    with rpc() as proxy:
        shown = proxy.notifications.get_delivery(delivery_id=waited[0]["id"])
        assert shown["held_reason"] == reason and shown["status"] == "sent"
        assert shown["message_id"] == str(waited[0]["message_id"])
        assert "carried" in shown["attempt_log"][-1]["detail"] or \
            by_message[waited[0]["message_id"]] == 1
    print(f"\n100 notices: {len(messages)} messages, drained in {drained:.1f}s")

    # A replay of the same events (the same envelopes, and the same data in new envelopes)
    # sends nothing new; one new event behind them is the sign they were consumed.
    replayed = envelopes + overdue_envelopes(100)
    publish_many(amqp_uri, [*replayed, build(REPORT_OVERDUE, report_overdue(
        item_id=101, item_title="实事项目101号"))])
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE channel = 'wecom' "
                                 "AND status = 'sent'") == 101, 30, "the new event sent")
    eventlet.sleep(2 * WINDOW)
    assert scalar(url, "SELECT count(*) FROM deliveries") == 101
    carried = carried_items(robots.received["wecom:burst"], wecom_text)
    assert sorted(i for items in carried for i in items) == list(range(1, 102))
    assert robots.refused == []


def test_a_backlog_is_split_into_messages_within_each_vendors_size_limit(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    # A replica that only consumes writes the backlog; two others send it.
    start_service(NotificationsService, **{**notifications_config, **RATES,
                                           "DISPATCHER": False})
    seed_tree(amqp_uri, url)
    for robot in ("wecom:big", "dingtalk:big"):
        robots.limit_rate(robot, PER_WINDOW, WINDOW)
    with rpc() as proxy:
        only_the_robots_rule(proxy)
        proxy.notifications.set_unit_robot(unit_id=PLANT, kind="wecom",
                                           webhook_url=robots.wecom_url("big"))
        proxy.notifications.set_unit_robot(unit_id=PLANT, kind="dingtalk",
                                           webhook_url=robots.dingtalk_url("big", "SEC-big-1"),
                                           secret="SEC-big-1")
    long_title = "倒班宿舍热水系统与职工食堂通风改造项目第{:03d}期".format
    publish_many(amqp_uri, overdue_envelopes(120, long_title))
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries") == 240, 30, "the backlog")
    start_replicas(start_service, notifications_config)
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
             == 240, 60, "the backlog sent")
    assert robots.refused == []
    for robot, text_of, limit in (("wecom:big", wecom_text, 4096),
                                  ("dingtalk:big", dingtalk_text, 20000)):
        messages = robots.received[robot]
        carried = carried_items(messages, text_of)
        assert sorted(i for items in carried for i in items) == list(range(1, 121))
        assert len(messages) >= 2  # 120 long notices fit in no single message
        sizes = [len(text_of(m).encode()) for m in messages]
        assert max(sizes) <= limit and max(sizes) > limit * 0.8  # full before splitting
        # A list says how many it carries (a last one left alone goes as it is).
        assert all(f"共 {len(items)} 条" in text_of(m)
                   for m, items in zip(messages, carried, strict=True) if len(items) > 1)
        print(f"\n{robot}: {[len(items) for items in carried]} notices per message, "
              f"largest {max(sizes)} bytes")
    sent = rows(url, "SELECT channel, message_id FROM deliveries")
    for channel in ("wecom", "dingtalk"):
        counts = Counter(r["message_id"] for r in sent if r["channel"] == channel)
        assert sorted(counts.values()) == sorted(
            len(items) for items in carried_items(
                robots.received[f"{channel}:big"],
                wecom_text if channel == "wecom" else dingtalk_text))


def test_a_webhook_subscription_keeps_its_own_rate(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    start_replicas(start_service, notifications_config)
    secret = "whsec-0123456789abcdef"
    with rpc() as proxy:
        sub = proxy.notifications.subscribe_webhook(
            name="审计系统", url=robots.hook_url("slow", secret), secret=secret,
            event_types=["deeds.report_overdue"], rate_limit=3)  # 3 per 2 s, not the default
        assert sub["rate_limit"] == 3
    publish_many(amqp_uri, overdue_envelopes(8))
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE channel = 'webhook' "
                                 "AND status = 'sent'") == 8, 40, "the eight webhook calls")
    got = robots.received["hook:slow"]
    assert sorted(g["body"]["data"]["item_id"] for g in got) == list(range(1, 9))  # not merged
    assert robots.refused == []
    # One token of burst, refilled twice per 2 s: the eight calls span at least 7 s.
    sent = rows(url, "SELECT sent_at, held_reason, attempts FROM deliveries "
                     "WHERE channel = 'webhook' ORDER BY sent_at")
    assert (sent[-1]["sent_at"] - sent[0]["sent_at"]).total_seconds() >= 7 * 1.0 - 0.1
    assert all(r["attempts"] == 1 for r in sent)
    assert {r["held_reason"] for r in sent} >= {
        f"rate_limit: webhook subscription {sub['id']}, 3/2s"}
