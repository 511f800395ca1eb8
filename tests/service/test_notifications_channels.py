"""Each channel against a real local endpoint: webhooks (signed, retried with backoff,
disabled after repeated failures with the owner told), WeCom and DingTalk robots (signed
mode), SMTP down then back; dead deliveries listed and replayed by operators."""

from services.notifications.service import NotificationsService
from tests.support.notifications import (
    PLANT,
    REPORT_OVERDUE,
    publish,
    report_overdue,
    rows,
    scalar,
    seed_tree,
    wait_for,
)
from tests.support.servers import SmtpServer, free_port

SECRET = "whsec-0123456789abcdef"


def test_a_webhook_that_fails_three_times_then_recovers_gets_the_event_once(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **{**notifications_config, "DELIVERY_MAX_ATTEMPTS": 6})
    with rpc() as proxy:
        sub = proxy.notifications.subscribe_webhook(
            name="审计系统", url=robots.hook_url("audit", SECRET, fail_first=3), secret=SECRET,
            event_types=["deeds.report_overdue", "deeds.report_due"], owner_member_id=201)
        assert sub["url"] == robots.hook_url("audit", SECRET, fail_first=3)
    envelope = publish(amqp_uri, REPORT_OVERDUE, report_overdue())
    wait_for(lambda: robots.received["hook:audit"], 20, "the webhook delivery")
    wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE status='pending'") == 0)
    [got] = robots.received["hook:audit"]
    assert got["body"] == envelope and got["event"] == "deeds.report_overdue"
    attempts = rows(url, "SELECT a.outcome, a.error FROM delivery_attempts a JOIN deliveries d "
                         "ON d.id = a.delivery_id WHERE d.channel = 'webhook' ORDER BY a.id")
    assert [a["outcome"] for a in attempts] == ["failed"] * 3 + ["sent"]
    assert "HTTP 503" in attempts[0]["error"]
    assert [r for r in robots.refused if r[1] != "scripted failure"] == []  # signed right
    with rpc() as proxy:
        [sub] = proxy.notifications.list_webhooks()
        assert sub["consecutive_failures"] == 0 and sub["enabled"]
        [delivery] = proxy.notifications.list_deliveries(channel="webhook")
        detail = proxy.notifications.get_delivery(delivery_id=delivery["id"])
        assert [a["outcome"] for a in detail["attempt_log"]] == ["failed"] * 3 + ["sent"]
    assert robots.calls["audit"] == 4


def test_a_webhook_failing_n_times_in_a_row_is_disabled_and_its_owner_told(
        start_service, rpc, amqp_uri, databases, notifications_config, robots,  # noqa: F811
        smtp, subscribe):  # noqa: F811
    url = databases["notifications"]
    failed = subscribe("notifications.events", "failed")
    start_service(NotificationsService, **{**notifications_config, "DELIVERY_MAX_ATTEMPTS": 10,
                                           "WEBHOOK_DISABLE_AFTER": 3})
    seed_tree(amqp_uri, url)
    with rpc() as proxy:
        notif = proxy.notifications
        notif.subscribe_webhook(name="坏的接收端", url=robots.hook_url("broken", SECRET, 10**6),
                                secret=SECRET, event_types=["deeds.*"], owner_member_id=201)
        publish(amqp_uri, REPORT_OVERDUE, report_overdue())
        wait_for(lambda: not notif.list_webhooks(enabled=True), 20, "the subscription disabled")
        [sub] = notif.list_webhooks()
        assert "3 consecutive failures" in sub["disabled_reason"]
        wait_for(lambda: [i for i in notif.list_inbox(member_id=201)
                          if i["event_type"] == "notifications.webhook_disabled"], 10,
                 "the owner told in the inbox")
        wait_for(lambda: any("m201@" in m["To"] for m in smtp.messages()), 10,
                 "the owner told by e-mail")
        [dead] = notif.list_dead_deliveries()
        assert dead["channel"] == "webhook" and "HTTP 503" in dead["last_error"]
        assert [a["outcome"] for a in dead["attempt_log"]] == ["failed"] * 3
        assert [m["body"]["data"]["delivery_id"] for m in failed.collect(1)] == [dead["id"]]
        from gonghui.errors import Conflict
        try:
            notif.replay_delivery(delivery_id=dead["id"])
        except Conflict as exc:
            assert "enable the webhook subscription first" in str(exc)
        else:
            raise AssertionError("replaying into a disabled subscription must be refused")
        # The endpoint is fixed, the subscription enabled again, the delivery replayed.
        robots.fail_first["broken"] = 0
        notif.update_webhook(subscription_id=sub["id"], enabled=True)
        notif.replay_delivery(delivery_id=dead["id"])
        wait_for(lambda: robots.received["hook:broken"], 10, "the replayed delivery")
        assert notif.list_dead_deliveries() == []
        assert len(robots.received["hook:broken"]) == 1


def test_wecom_and_signed_dingtalk_robots_get_one_message_each(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    with rpc() as proxy:
        notif = proxy.notifications
        notif.set_unit_robot(unit_id=PLANT, kind="wecom", webhook_url=robots.wecom_url("k1"))
        robot = notif.set_unit_robot(unit_id=PLANT, kind="dingtalk", secret="SEC0123456789",
                                     webhook_url=robots.dingtalk_url("t1", "SEC0123456789"))
        assert robot["signed"] and robot["webhook_url"].endswith("/robot/send?…")
        publish(amqp_uri, REPORT_OVERDUE, report_overdue())
        wait_for(lambda: robots.received["wecom:k1"] and robots.received["dingtalk:t1"], 20,
                 "both robots")
        [ding] = robots.received["dingtalk:t1"]
        assert ding["msgtype"] == "markdown" and "逾期未报" in ding["markdown"]["title"]
        assert "陈责任" in ding["markdown"]["text"]
        assert robots.refused == []
        # A robot whose secret is wrong is refused by DingTalk: dead at once, with why.
        notif.set_unit_robot(unit_id=PLANT, kind="dingtalk", secret="SECwrong-wrong",
                             webhook_url=robots.dingtalk_url("t1", "SEC0123456789"))
        notif.set_unit_robot(unit_id=PLANT, kind="wecom", webhook_url=robots.wecom_url("k1"),
                             enabled=False)
        publish(amqp_uri, REPORT_OVERDUE, report_overdue(period="2026-04"))
        wait_for(lambda: notif.list_dead_deliveries(), 20, "the refused robot message")
        [dead] = notif.list_dead_deliveries()
        assert dead["channel"] == "dingtalk" and "sign not match" in dead["last_error"]
        assert len(robots.received["wecom:k1"]) == 1  # the disabled robot got nothing


def test_smtp_down_retries_then_dead_letters_and_an_operator_replays(
        start_service, rpc, amqp_uri, databases, notifications_config, subscribe,  # noqa: F811
        tmp_path):
    url = databases["notifications"]
    port = free_port()  # nothing listens here yet
    delivered = subscribe("notifications.events", "delivered")
    start_service(NotificationsService, **{**notifications_config, "SMTP_PORT": port,
                                           "DELIVERY_MAX_ATTEMPTS": 3})
    seed_tree(amqp_uri, url)
    publish(amqp_uri, REPORT_OVERDUE, report_overdue())
    with rpc() as proxy:
        notif = proxy.notifications
        wait_for(lambda: notif.list_dead_deliveries(), 20, "dead after three attempts")
        [dead] = notif.list_dead_deliveries()
        assert dead["channel"] == "email" and dead["member_id"] == 203
        assert [a["outcome"] for a in dead["attempt_log"]] == ["failed"] * 3
        assert "Connection refused" in dead["last_error"] or "smtp" in dead["last_error"]
        assert len(notif.list_inbox(member_id=203)) == 1  # the inbox did not wait for it
        server = SmtpServer(tmp_path / "late", port=port).start()
        try:
            replayed = notif.replay_delivery(delivery_id=dead["id"])
            assert replayed["status"] == "pending"
            wait_for(lambda: server.count() == 1, 10, "the replayed e-mail")
            assert notif.get_delivery(delivery_id=dead["id"])["status"] == "sent"
        finally:
            server.stop()
    got = delivered.collect(2)
    assert sorted(m["body"]["data"]["channel"] for m in got) == ["email", "inbox"]
    assert all("m203" not in str(m["body"]) for m in got)  # ids, never addresses
