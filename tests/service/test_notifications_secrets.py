"""The secrets notifications stores — webhook secrets and URLs, robots' URLs (their key) and
DingTalk secrets — are encrypted at rest with SECRETS_KEY: the database holds no secret,
the webhook and the signed robot are still signed right, lists show no secret; without the
key the service does not start; the migration seals the rows already there and opens them
again on a downgrade."""

import os

import pytest
from alembic import command
from sqlalchemy import text

from deploy import runner
from deploy.services import service as service_by_name
from gonghui.migrations import alembic_config, migrate
from services.notifications import sealing
from services.notifications.service import NotificationsService
from tests.service.test_notifications_upgrade import database  # noqa: F401 - a fixture
from tests.support.notifications import (
    PLANT,
    REPORT_OVERDUE,
    SECRETS_KEY,
    publish,
    report_overdue,
    rows,
    seed_tree,
    wait_for,
)

HOOK_SECRET = "whsec-sealed-0123456789abcdef"
HOOK_KEY = "hook-query-key-42"
DING_SECRET = "SECsealed0123456789"
DING_TOKEN = "ding-token-7"


def test_secrets_are_sealed_in_the_database_and_still_sign(
        start_service, rpc, amqp_uri, databases, notifications_config, robots):  # noqa: F811
    url = databases["notifications"]
    start_service(NotificationsService, **notifications_config)
    seed_tree(amqp_uri, url)
    hook_url = robots.hook_url("sealed", HOOK_SECRET) + f"?token={HOOK_KEY}"
    with rpc() as proxy:
        notif = proxy.notifications
        sub = notif.subscribe_webhook(name="审计系统", url=hook_url, secret=HOOK_SECRET,
                                      event_types=["deeds.report_overdue"])
        robot = notif.set_unit_robot(unit_id=PLANT, kind="dingtalk", secret=DING_SECRET,
                                     webhook_url=robots.dingtalk_url(DING_TOKEN, DING_SECRET))
        # What lists and answers show: no secret, URLs masked where they carry a key.
        assert "secret" not in sub and sub["url"].endswith("/hooks/sealed?…")
        [listed] = notif.list_webhooks()
        assert "secret" not in listed and HOOK_KEY not in str(listed)
        assert robot["signed"] and DING_TOKEN not in str(notif.list_unit_robots())
    # The columns hold Fernet tokens, never the secret or the key in the URL.
    stored = rows(url, "SELECT url, secret FROM webhook_subscriptions") + rows(
        url, "SELECT webhook_url AS url, secret FROM unit_robots")
    assert len(stored) == 2
    for row in stored:
        raw = f"{row['url']} {row['secret']}"
        for secret in (HOOK_SECRET, HOOK_KEY, DING_SECRET, DING_TOKEN, "http"):
            assert secret not in raw
        assert row["url"].startswith("gAAAA") and row["secret"].startswith("gAAAA")
    assert sealing.unseal(stored[0]["secret"], sealing.keyring(SECRETS_KEY)) == HOOK_SECRET
    # Sending opens them: the webhook's signature and DingTalk's sign check out.
    envelope = publish(amqp_uri, REPORT_OVERDUE, report_overdue())
    wait_for(lambda: robots.received["hook:sealed"] and robots.received[f"dingtalk:{DING_TOKEN}"],
             20, "the signed webhook and the signed robot")
    assert robots.received["hook:sealed"][0]["body"] == envelope
    assert robots.refused == []


def test_without_the_key_the_service_does_not_start(start_service, notifications_config,
                                                     monkeypatch):
    monkeypatch.delenv(sealing.SETTING, raising=False)
    config = {k: v for k, v in notifications_config.items() if k != sealing.SETTING}
    with pytest.raises(sealing.SecretsKeyError, match="SECRETS_KEY is not set"):
        start_service(NotificationsService, **config)
    with pytest.raises(sealing.SecretsKeyError, match="shorter than 32"):
        start_service(NotificationsService, **{**config, sealing.SETTING: "too-short"})


def test_keys_rotate_and_a_wrong_key_is_an_error_not_an_empty_secret():
    old, new = "old-key-" + "o" * 30, "new-key-" + "n" * 30
    token = sealing.seal("whsec-x", sealing.keyring(old))
    rotated = sealing.keyring(f"{new}, {old}")
    assert sealing.unseal(token, rotated) == "whsec-x"  # the old key still opens
    assert sealing.unseal(sealing.seal("whsec-y", rotated), sealing.keyring(new)) == "whsec-y"
    with pytest.raises(sealing.SecretsKeyError, match="does not open with SECRETS_KEY"):
        sealing.unseal(token, sealing.keyring(new))
    assert sealing.seal("whsec-x", sealing.keyring(old)) != token  # never the same twice


def test_the_migration_seals_the_rows_there_and_the_downgrade_opens_them(
        database, monkeypatch):  # noqa: F811
    url, engine = database

    def stored():
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT url, secret FROM webhook_subscriptions UNION ALL "
                "SELECT webhook_url, secret FROM unit_robots ORDER BY 1"))]

    migrate("notifications", url, "0005")
    plain = [("https://hooks.example.cn/a?k=1", "whsec-0123456789abcdef"),
             ("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC0123456789"),
             ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO webhook_subscriptions (name, url, secret, event_types) "
                          "VALUES ('a', :u, :s, '[\"*\"]')"), {"u": plain[0][0], "s": plain[0][1]})
        for (robot_url, secret), kind in zip(plain[1:], ("dingtalk", "wecom"), strict=True):
            conn.execute(text("INSERT INTO unit_robots (unit_id, kind, webhook_url, secret) "
                              "VALUES (1, :k, :u, :s)"), {"k": kind, "u": robot_url, "s": secret})
    # Rows to seal and no key: refused, naming the setting, and nothing changes.
    monkeypatch.delenv(sealing.SETTING, raising=False)
    with pytest.raises(sealing.SecretsKeyError, match="SECRETS_KEY is not set"):
        migrate("notifications", url, "0006")
    assert stored() == sorted(plain)
    monkeypatch.setenv(sealing.SETTING, SECRETS_KEY)
    migrate("notifications", url, "0006")
    ring = sealing.keyring(SECRETS_KEY)
    sealed = stored()
    assert all(u.startswith("gAAAA") and (s is None or s.startswith("gAAAA")) for u, s in sealed)
    assert sorted((sealing.unseal(u, ring), s and sealing.unseal(s, ring)) for u, s in sealed
                  ) == sorted(plain)
    command.downgrade(alembic_config("notifications", url), "0005")
    assert stored() == sorted(plain)


def test_the_local_runners_migrate_step_seals_with_the_key_it_generated(
        database, monkeypatch):  # noqa: F811
    """An upgrade to 0006 over rows already stored, as `gonghui start` runs it with no
    SECRETS_KEY in the shell: the migration gets the key the runner generated (the one the
    service will open them with), and the runner's own environment is left as it was."""
    url, engine = database
    migrate("notifications", url, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit_robots (unit_id, kind, webhook_url, secret) "
                          "VALUES (1, 'dingtalk', 'https://oapi.dingtalk.com/robot/send?"
                          "access_token=t', 'SEC0123456789')"))
    monkeypatch.delenv(sealing.SETTING, raising=False)
    generated = {sealing.SETTING: "generated-once-" + "0123456789abcdef" * 2}
    with runner.migration_environment(service_by_name("notifications"), generated):
        migrate("notifications", url, "0006")
    assert sealing.SETTING not in os.environ
    with engine.connect() as conn:
        url_token, secret_token = conn.execute(text(
            "SELECT webhook_url, secret FROM unit_robots")).one()
    ring = sealing.keyring(generated[sealing.SETTING])
    assert sealing.unseal(secret_token, ring) == "SEC0123456789"
    assert sealing.unseal(url_token, ring).endswith("access_token=t")
    # A service whose migrations read nothing of its environment gets nothing.
    with runner.migration_environment(service_by_name("organization"), generated) as given:
        assert given == {} and sealing.SETTING not in os.environ
