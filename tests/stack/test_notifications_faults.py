"""The notifications service run as an operator runs it (`nameko run`), killed with SIGKILL
in the middle of a fan-out of 300 inbox items and 300 e-mails, then started again: the
fan-out completes, every inbox item exists once, every member got the e-mail; a duplicate
e-mail is possible only for a send recorded "in doubt" (the SMTP server accepted it, the
commit was lost), and there are at most as many of those as concurrent senders."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import eventlet
import requests
import yaml
from sqlalchemy import create_engine, insert

from deploy import infra
from gonghui.directory import DirectoryMember
from gonghui.entrypoints import handler_queue_name
from tests.support.notifications import (
    REPORT_OVERDUE,
    publish,
    report_overdue,
    rows,
    scalar,
    wait_for,
)
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 300
CONCURRENCY = 8


QUEUE = handler_queue_name("deeds", "report_overdue", "notifications",
                           "on_deeds_report_overdue")


def consumers(amqp_uri, queue):
    vhost = amqp_uri.rsplit("/", 1)[1]
    answer = requests.get(f"{infra.RABBIT_API}/queues/{vhost}/{queue}",
                          auth=infra.RABBIT_ADMIN, timeout=5)
    return answer.ok and answer.json().get("consumers", 0) > 0


class NotificationsProcess:
    def __init__(self, config_path, port):
        self.config_path, self.port, self.proc = config_path, port, None

    def start(self):
        nameko = Path(sys.executable).with_name("nameko")
        self.proc = subprocess.Popen(
            [str(nameko), "run", "--config", str(self.config_path),
             "services.notifications.service"], cwd=ROOT, env=dict(os.environ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, "the service exited"
            assert time.monotonic() < deadline, "the service did not become healthy"
            eventlet.sleep(0.2)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def test_killed_mid_fan_out_it_completes_after_restart_without_duplicates(
        amqp_uri, databases, notifications_config, smtp, tmp_path):  # noqa: F811
    url = databases["notifications"]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(DirectoryMember), [
            {"member_id": 1000 + i, "name": f"职工{i}", "unit_id": 2,
             "email": f"w{i}@xny.example.cn"} for i in range(RECIPIENTS)])
    engine.dispose()
    port = free_port()
    config = {**notifications_config, "AMQP_URI": amqp_uri, "DATABASE_URL": url,
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "DISPATCH_CONCURRENCY": CONCURRENCY,
              "OUTBOX_POLL_SECONDS": 0.2, "EVENT_RETRY_BASE_SECONDS": 0.05}
    config_path = tmp_path / "notifications.yaml"
    config_path.write_text(yaml.safe_dump(config))
    service = NotificationsProcess(config_path, port)
    service.start()
    # Deploys declare the queues beforehand (broker definitions); here the service does.
    wait_for(lambda: consumers(amqp_uri, QUEUE), 30, "the handler consuming")
    try:
        publish(amqp_uri, REPORT_OVERDUE, report_overdue(
            recipient_member_ids=[1000 + i for i in range(RECIPIENTS)],
            responsible_member_id=None))
        sent = "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'sent'"
        wait_for(lambda: scalar(url, sent) >= 60, 30, "the fan-out under way")
        service.kill()
        done_before = scalar(url, sent)
        assert done_before < RECIPIENTS, "killed too late to prove anything"
        eventlet.sleep(0.5)
        service.start()
        wait_for(lambda: scalar(url, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
                 == 2 * RECIPIENTS, 60, "the fan-out completed")
        wait_for(lambda: smtp.count() >= RECIPIENTS, 10, "every e-mail at the server")
    finally:
        service.stop()
    assert scalar(url, "SELECT count(*) FROM deliveries") == 2 * RECIPIENTS
    assert scalar(url, "SELECT count(*) FROM inbox_items") == RECIPIENTS
    assert scalar(url, "SELECT count(DISTINCT member_id) FROM inbox_items") == RECIPIENTS
    received = Counter(m["X-RcptTo"] for m in smtp.messages())
    assert set(received) == {f"w{i}@xny.example.cn" for i in range(RECIPIENTS)}
    in_doubt = {r["email"] for r in rows(
        url, "SELECT m.email FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id "
             "JOIN directory_members m ON m.member_id = d.member_id WHERE a.outcome = 'in_doubt'")}
    duplicated = {address for address, n in received.items() if n > 1}
    assert duplicated <= in_doubt and len(in_doubt) <= CONCURRENCY
    assert max(received.values()) <= 2
    print(f"\nkilled after {done_before} of {RECIPIENTS} e-mails; in doubt: {len(in_doubt)}; "
          f"duplicated: {len(duplicated)}")
