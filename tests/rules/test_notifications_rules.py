"""The notifications rules, templates and channel formats in plain Python (no broker)."""

import base64
import hashlib
import hmac
import urllib.parse
from datetime import UTC, date, datetime, time

import pytest

from gonghui.clock import CHINA
from gonghui.entrypoints import Event
from gonghui.errors import Conflict
from services.notifications import recipients, rules, templates
from services.notifications.channels import dingtalk, smtp, webhook, wecom
from services.notifications.defaults import DEFAULT_RULES
from services.notifications.schemas import CONSUMED, CreateRule, check_rule
from services.notifications.service import HANDLED


def at(hour, minute=0, day=5):
    return datetime(2026, 3, day, hour, minute, tzinfo=CHINA)


@pytest.mark.parametrize("moment, start, end, released", [
    (at(23), time(22), time(7), at(7, day=6)),      # window across midnight, evening
    (at(6, 30), time(22), time(7), at(7)),          # ... and early morning
    (at(12), time(22), time(7), None),
    (at(13), time(12), time(14), at(14)),          # a lunchtime window
    (at(14), time(12), time(14), None),            # the end itself is not quiet
    (at(13), None, None, None),
])
def test_quiet_hours_release_at_their_end(moment, start, end, released):
    assert rules.in_quiet_hours(moment, start, end) == released


def test_digest_joins_today_or_tomorrows():
    assert rules.digest_time(at(9), 18) == at(18)
    assert rules.digest_time(at(18, 1), 18) == at(18, day=6)


def test_schedule_holds_email_never_the_inbox():
    quiet = {"quiet_start": time(22), "quiet_end": time(7), "digest": False}
    assert rules.schedule(at(23), "inbox", "high", quiet) == (at(23), False, None)
    assert rules.schedule(at(23), "email", "high", quiet) == (at(7, day=6), False,
                                                              "quiet_hours")
    digest = {**quiet, "digest": True, "digest_hour": 18}
    assert rules.schedule(at(9), "email", "normal", digest) == (at(18), True, "digest")
    # Urgent and high notices do not wait for the digest, only for the quiet hours' end.
    assert rules.schedule(at(9), "email", "urgent", digest) == (at(9), False, None)
    # A digest hour inside the quiet hours is released when they end.
    late = {**digest, "digest_hour": 23}
    assert rules.schedule(at(9), "email", "low", late) == (at(7, day=6), True, "digest")


def test_dedupe_key_is_the_same_for_the_same_reminder_in_another_envelope():
    data = {"item_id": 7, "period": "2026-03"}
    first = rules.dedupe_key("report_overdue", "member:3", rules.fill("item:{item_id}", data, "e1"),
                             rules.fill("{period}", data, "e1"), "email")
    again = rules.dedupe_key("report_overdue", "member:3", rules.fill("item:{item_id}", data, "e2"),
                             rules.fill("{period}", data, "e2"), "email")
    assert first == again == "report_overdue|member:3|item:7|2026-03|email"
    # A field the event lacks falls back to the event id: different events never merge.
    assert rules.fill("{year}", {}, "e1") != rules.fill("{year}", {}, "e2")
    with pytest.raises(ValueError):
        rules.placeholders("{item_id!r}")


def test_audience_fields_are_read_from_the_data():
    data = {"recipient_member_ids": [3, 4], "responsible_member_id": 5,
            "submitter_member_id": 9, "signed_up_member_ids": [1]}
    assert rules.member_ids_in_data("recipients", data) == [3, 4]
    assert rules.member_ids_in_data("responsible", data) == [5]
    assert rules.member_ids_in_data("idea_submitter", data) == [9]
    assert rules.member_ids_in_data("signed_up", data) == [1]
    assert rules.member_ids_in_data("member", data) == []


def test_member_channel_choice_narrows_the_rule():
    assert rules.personal_channels(["inbox", "email"], "reminder", None) == ["inbox", "email"]
    assert rules.personal_channels(["inbox", "email"], "reminder",
                                   {"reminder": ["inbox"]}) == ["inbox"]
    assert rules.personal_channels(["inbox"], "idea", {"reminder": []}) == ["inbox"]
    assert rules.robot_channels(["inbox", "wecom"]) == ["wecom"]


def test_webhook_patterns_and_backoff():
    assert rules.event_matches(["deeds.*"], "deeds.report_due")
    assert rules.event_matches(["*"], "organization.unit_created")
    assert not rules.event_matches(["deeds.report_due"], "deeds.report_overdue")
    assert [rules.retry_delay(n, 30) for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]


def test_every_default_rule_is_valid_and_every_reminder_event_has_one():
    for rule in DEFAULT_RULES:
        loaded = CreateRule().load(rule)
        assert check_rule(loaded) == {}, rule["key"]
    covered = {r["event_type"] for r in DEFAULT_RULES}
    for reminder in ("deeds.report_due", "deeds.report_overdue", "deeds.supervision_issued",
                     "deeds.supervision_escalated", "deeds.idea_reviewed",
                     "deeds.item_completed", "organization.term_expiring",
                     "organization.term_expired", "activities.activity_upcoming",
                     "activities.activity_cancelled", "activities.checkup_missing",
                     "activities.signup_promoted"):
        assert reminder in covered
    assert covered <= CONSUMED
    assert "deeds.report_overdue" in {declared.type for declared in HANDLED}


def test_templates_in_chinese_and_english_with_dates_and_links():
    data = {"item_id": 7, "item_title": "热水改造", "owner_unit_name": "神木光伏电站",
            "responsible_member_name": "陈责任", "period": "2026-03", "due_on": date(2026, 3, 25)}
    zh = templates.render("report_overdue", "zh", templates.context(data, "zh", "陈责任"))
    assert zh[0] == "【逾期未报】热水改造：2026年3月月度汇报已逾期"
    assert "2026年3月25日" in zh[1] and zh[1].startswith("陈责任：")
    en = templates.render("report_overdue", "en", templates.context(data, "en", "Chen"))
    assert en[0] == "Overdue: the March 2026 report of 热水改造"
    assert "25 March 2026" in en[1]
    assert templates.link_for("report_overdue", data, "https://x.cn/") == \
        "https://x.cn/deeds/items/7"
    # Every template has both languages and renders with no data at all.
    for key, texts in templates.TEMPLATES.items():
        assert set(texts) == {"zh", "en"}, key
        for language in ("zh", "en"):
            templates.render(key, language, templates.context({}, language, None))
    html = templates.html_body("标题", "第一行\n<script>", "https://x.cn/a?b=1&c=2", "zh")
    assert "&lt;script&gt;" in html and "https://x.cn/a?b=1&amp;c=2" in html


def test_email_has_a_text_and_an_html_part():
    message = smtp.build_message("noreply@gh.cn", "工会服务平台", "m1@x.cn", "张三", "【提醒】标题",
                                 "正文", "<p>正文</p>", "<delivery-1@gh.cn>")
    kinds = [p.get_content_type() for p in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    assert message["Message-ID"] == "<delivery-1@gh.cn>"


def test_webhook_signature_and_dingtalk_signed_url():
    body = b'{"id":"1"}'
    header = webhook.signature("s3cret-s3cret-s3cret", 1700000000, body)
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256)
    assert header == "sha256=" + expected.hexdigest()
    assert webhook.verify("s3cret-s3cret-s3cret", 1700000000, body, header, now=1700000100)
    assert not webhook.verify("s3cret-s3cret-s3cret", 1700000000, body, header,
                              now=1700009999)
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECxyz",
                              now=1700000000.5)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
    assert query["timestamp"] == "1700000000500" and query["access_token"] == "T"
    digest = hmac.new(b"SECxyz", b"1700000000500\nSECxyz", hashlib.sha256).digest()
    assert query["sign"] == base64.b64encode(digest).decode()
    assert dingtalk.signed_url("https://h/robot/send?access_token=T", None) == \
        "https://h/robot/send?access_token=T"


def test_robot_messages_in_their_documented_formats():
    long = "长" * 3000
    message = wecom.message(long)
    assert message["msgtype"] == "markdown"
    assert len(message["markdown"]["content"].encode()) <= 4096
    assert dingtalk.message("标题", "### 标题\n> 正文") == {
        "msgtype": "markdown", "markdown": {"title": "标题", "text": "### 标题\n> 正文"},
        "at": {"atMobiles": [], "isAtAll": False}}


def test_dispatch_time_is_aware():
    assert rules.china(datetime(2026, 3, 5, 0, 0, tzinfo=UTC)).hour == 8


def test_roles_are_resolved_on_the_events_day():
    def event(data, occurred_at=datetime(2026, 3, 31, 17, 0, tzinfo=UTC)):  # 01:00 in China
        return Event("e1", "deeds.report_due", 1, occurred_at, "deeds", {}, data)

    assert recipients.event_day(event({"as_of": date(2026, 3, 20)})) == date(2026, 3, 20)
    assert recipients.event_day(event({})) == date(2026, 4, 1)
    assert recipients.event_day(event({"as_of": None})) == date(2026, 4, 1)


def test_only_a_dead_delivery_is_replayed_and_a_webhooks_once_enabled():
    rules.check_replay(7, "dead")
    for status in ("pending", "sent"):
        with pytest.raises(Conflict) as info:
            rules.check_replay(7, status)
        assert info.value.details == {"delivery_id": [f"is {status}"]}
        assert info.value.message == f"delivery 7 is {status}, not dead"
    with pytest.raises(Conflict) as info:
        rules.check_replay(7, "dead", subscription_enabled=False)
    assert info.value.details == {"delivery_id": ["subscription disabled"]}
    assert set(rules.DELIVERY_STATUSES) == {"pending", "sent", "dead"}
