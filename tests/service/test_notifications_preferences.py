"""Members' preferences over the real broker, database and SMTP server: quiet hours hold
e-mail until they end (never dropped), the daily digest groups what came in into one
e-mail, channels per kind of notice, English templates."""

from datetime import datetime, timedelta
from email.header import decode_header, make_header

from gonghui.clock import CHINA
from services.notifications.service import NotificationsService
from tests.support.notifications import (
    REPORT_DUE,
    item_ref,
    publish,
    report_due,
    rows,
    seed_tree,
    wait_for,
)
from tests.support.servers import text_and_html


def subject(message):
    return str(make_header(decode_header(message["Subject"])))


def test_quiet_hours_digest_channels_and_language(start_service, rpc, amqp_uri, databases,
                                                  notifications_config, smtp):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    now = datetime.now(CHINA)
    with rpc() as proxy:
        notif = proxy.notifications
        quiet = notif.set_preferences(
            member_id=203, quiet_start=(now - timedelta(hours=1)).strftime("%H:%M"),
            quiet_end=(now + timedelta(hours=1)).strftime("%H:%M"))
        assert quiet["quiet_end"] == (now + timedelta(hours=1)).strftime("%H:%M")
        notif.set_preferences(member_id=204, digest=True,
                              digest_hour=(now + timedelta(hours=2)).hour)
        notif.set_preferences(member_id=205, language="en")
        notif.set_preferences(member_id=202, channels={"reminder": ["inbox"]})
        assert notif.get_preferences(member_id=202)["channels"] == {"reminder": ["inbox"]}
        people = [203, 204, 205, 202]
        publish(amqp_uri, REPORT_DUE, report_due(recipient_member_ids=people))
        publish(amqp_uri, REPORT_DUE, report_due(**item_ref(item_id=8, item_title="职工书屋扩建",
                                                          responsible_member_id=None),
                                                 recipient_member_ids=[204]))
        # Every inbox at once; the only e-mail now is the English one.
        wait_for(lambda: all(notif.list_inbox(member_id=m) for m in people), 20, "inboxes")
        wait_for(lambda: smtp.count() == 1, 20, "the e-mail that need not wait")
        [english] = smtp.messages()
        assert english["X-RcptTo"] == "m205@xny.example.cn"
        assert subject(english).startswith("Monthly report due: 倒班宿舍热水系统改造 (March 2026)")
        assert "25 March 2026" in text_and_html(english)[0]
        held = {r["member_id"]: r for r in rows(
            url, "SELECT member_id, held_reason, next_attempt_at, digest FROM deliveries "
                 "WHERE channel = 'email' AND status = 'pending'")}
        assert held[203]["held_reason"] == "quiet_hours"
        assert held[203]["next_attempt_at"].astimezone(CHINA).strftime("%H:%M") == \
            (now + timedelta(hours=1)).strftime("%H:%M")
        assert held[204]["held_reason"] == "digest" and held[204]["digest"]
        assert 202 not in held and not rows(
            url, "SELECT 1 FROM deliveries WHERE member_id = 202 AND channel = 'email'")
        # Later: the quiet hours end and the digest hour comes (the clock moved by the RPC).
        later = (datetime.now(CHINA) + timedelta(days=1)).isoformat()
        assert notif.dispatch_due(until=later)["handled"] >= 2
        wait_for(lambda: smtp.count() == 3, 10, "the held e-mail and the digest")
        by_address = {m["X-RcptTo"]: m for m in smtp.messages()}
        assert set(by_address) == {"m203@xny.example.cn", "m204@xny.example.cn",
                                   "m205@xny.example.cn"}
        digest = by_address["m204@xny.example.cn"]
        assert "共2条通知" in subject(digest)
        text, html = text_and_html(digest)
        assert "倒班宿舍热水系统改造" in text and "职工书屋扩建" in text
        assert "<li>" in html and "/notifications/inbox" in html
        assert notif.list_deliveries(status="pending") == []
        # Nothing more on another flush: held mail went once.
        assert notif.dispatch_due(until=later)["handled"] == 0
        assert smtp.count() == 3
