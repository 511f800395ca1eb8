"""The stack as `bin/up` starts it: the local runner (deploy/runner.py) with every service as
its own `nameko run` process, its own broker user and database role, and the mail sink.

The stack test runs one beside a developer's without touching it: its own var/ (a temporary
GONGHUI_HOME), vhost, broker users, database roles and databases, HTTP ports and mail sink
port, all through the runner's environment settings, and it is stopped and removed at the
end whatever happens. It starts the stack with `gonghui start` (what `gonghui up` does before
it loads the demo, which would take the test past a minute on its own), causes one e-mail by
RPC (a deed item names its responsible person, who has an e-mail address), sees the message
file in the sink's Maildir `new/`, then has a delivery dead-lettered by a broken Maildir and
replays it with `gonghui deliveries replay ID` once the Maildir is mended.
"""

import email
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from deploy import broker, infra, postgres, runner
from deploy.mailsink import smtp_greets
from deploy.services import SERVICES
from gonghui.clock import today
from gonghui.rpc_client import cluster_rpc
from services.notifications.channels.smtp import SmtpSender, build_message
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
GONGHUI = Path(sys.executable).parent / "gonghui"
START_TIMEOUT = 100  # seconds for every service to be ready on a loaded 2-core machine


def wait_until(check, timeout, what, detail=None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s"
                                 + (f"\n{detail()}" if detail else ""))
        time.sleep(0.2)


def subject(message):
    return str(make_header(decode_header(message["Subject"])))


def messages(maildir):
    """Every message file in the Maildir's new/ (what the sink accepted, nobody read)."""
    found = []
    for path in sorted(Path(maildir, "new").glob("*")):
        with open(path, "rb") as f:
            found.append(email.message_from_binary_file(f))
    return found


# --------------------------------------------------------------------- the sink alone


def test_the_mail_sink_makes_its_maildir_in_an_existing_empty_folder(tmp_path):
    """Regression: the runner used to make var/mail before the sink started, and aiosmtpd's
    Mailbox handler (like mailbox.Maildir) makes tmp/, new/ and cur/ only in a folder it
    creates itself: every e-mail failed with FileNotFoundError on var/mail/tmp/."""
    home = tmp_path / "home"
    maildir = home / "var" / "mail"
    maildir.mkdir(parents=True)  # there already, and empty
    (home / "var" / "log").mkdir()
    (home / "var" / "run").mkdir()
    port = free_port()
    (home / "var" / "run" / "plan.json").write_text(json.dumps({
        "mail_sink_port": port, "services": [
            {"name": "notifications", "module": "services.notifications.service",
             "http_port": 8104, "amqp_user": "notifications"}]}))
    sink = runner.Supervisor(home).spawn_mail_sink()  # as the supervisor starts it
    sender = SmtpSender("127.0.0.1", port, "noreply@gonghui.local", timeout=10)
    try:
        wait_until(lambda: smtp_greets(port) or sink.poll() is not None, 20, "the sink")
        assert sink.poll() is None, (home / "var" / "log" / "mailsink.log").read_text()

        def send(to, title):
            message = build_message("noreply@gonghui.local", "工会", to, "张三", title,
                                    "正文", "<p>正文</p>", f"<{secrets.token_hex(8)}@test>")
            return sender.send(message, to)

        assert send("first@xny.example.cn", "第一封").startswith("accepted")
        assert sorted(p.name for p in maildir.iterdir()) == ["cur", "new", "tmp"]
        [first] = messages(maildir)
        assert "first@xny.example.cn" in first["To"] and subject(first) == "第一封"
        assert len(list((maildir / "new").iterdir())) == 1

        # Emptied while the sink runs (rm -rf var/mail/*): made again, not failing.
        for folder in ("cur", "new", "tmp"):
            shutil.rmtree(maildir / folder)
        send("second@xny.example.cn", "第二封")
        [second] = messages(maildir)
        assert "second@xny.example.cn" in second["To"] and subject(second) == "第二封"
    finally:
        sender.close()
        sink.terminate()
        sink.wait(timeout=10)


# --------------------------------------------------------------------- the whole stack


def free_port_offset():
    """An offset to the services' HTTP ports under which all of them are free now."""
    for _ in range(50):
        offset = 20000 + secrets.randbelow(20000)
        ports = [spec.http_port + offset for spec in SERVICES]
        if all(_port_free(port) for port in ports):
            return offset
    raise AssertionError("no free range of HTTP ports")


def _port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def stack(tmp_path, monkeypatch):
    """The settings of a stack of its own, for `gonghui` commands and the runner; stopped,
    and its vhost, broker users, database roles and databases removed, at teardown."""
    tag = secrets.token_hex(3)
    home = tmp_path / "home"
    settings = {
        "GONGHUI_HOME": str(home), "GONGHUI_VHOST": f"gh-stack-{tag}",
        "GONGHUI_AMQP_USER_PREFIX": f"stack{tag}-", "GONGHUI_DB_PREFIX": f"stack{tag}_",
        "GONGHUI_HTTP_PORT_OFFSET": str(free_port_offset()),
        "GONGHUI_MAIL_SINK_PORT": str(free_port()),
        "GONGHUI_START_TIMEOUT": str(START_TIMEOUT), "GONGHUI_STOP_TIMEOUT": "20",
        # one attempt: a delivery the sink refuses is dead-lettered at once (not after six
        # attempts with backoff), so that the test can replay it
        "DELIVERY_MAX_ATTEMPTS": "1",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    for name in ("SMTP_HOST", "GONGHUI_AMQP_URI", "GONGHUI_TODAY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield settings
    finally:
        r = runner.Runner()
        try:
            stopped = r.stop()
            assert not stopped["supervisor"]["running"], stopped
            assert not any(runner.pid_alive(s["pid"])
                           for s in stopped["services"].values()), stopped
        finally:
            users = [settings["GONGHUI_AMQP_USER_PREFIX"] + user for user in
                     [s.amqp_user for s in SERVICES] + ["operator", "downstream"]]
            broker.teardown(infra.RABBIT_API, infra.RABBIT_ADMIN, settings["GONGHUI_VHOST"],
                            users)
            for spec in SERVICES:
                postgres.drop_service_database(infra.PG_ADMIN_URL,
                                               r.database_service(spec.name))


def gonghui(*args, timeout=60):
    """A `gonghui` command as an operator types it (the environment names the stack)."""
    result = subprocess.run([str(GONGHUI), *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, env=dict(os.environ))
    assert result.returncode == 0, f"gonghui {' '.join(args)}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def test_the_stack_as_bin_up_starts_it_delivers_e_mail_to_the_sink(stack):
    home = Path(stack["GONGHUI_HOME"])
    maildir = home / "var" / "mail"
    maildir.mkdir(parents=True)  # what the runner used to leave for the sink

    started = gonghui("start", timeout=START_TIMEOUT + 60)
    offset = int(stack["GONGHUI_HTTP_PORT_OFFSET"])
    assert {name: info["url"] for name, info in started["services"].items()} == {
        s.name: f"http://127.0.0.1:{s.http_port + offset}" for s in SERVICES}
    assert started["vhost"] == stack["GONGHUI_VHOST"]
    assert started["mail_sink"] == {"smtp": f"127.0.0.1:{stack['GONGHUI_MAIL_SINK_PORT']}",
                                    "maildir": str(maildir)}
    status = gonghui("status")
    assert all(s["state"] == "running" for s in status["services"].values()), status
    assert status["mail_sink"]["running"], status

    r = runner.Runner()
    tag = stack["GONGHUI_DB_PREFIX"]
    day = today()
    address = f"{tag}@xny.example.cn"
    with cluster_rpc(r.operator_amqp_uri(), actor="operator:stack-test", timeout=30) as rpc:
        unit = rpc.organization.create_unit(code=f"U-{tag}", name="神木光伏电站",
                                            kind="company")
        member = rpc.organization.add_member(employee_no=f"E-{tag}", name="李娜",
                                             gender="female", unit_id=unit["id"],
                                             email=address)
        wait_until(lambda: rpc.deeds.directory_status()["members"] >= 1
                   and rpc.notifications.directory_status()["members"] >= 1, 30,
                   "deeds and notifications learn of the member from organization's events")
        deeds_list = rpc.deeds.create_list(level="grassroots", year=day.year,
                                           unit_id=unit["id"], title="实事清单")

        def new_item(title):
            return rpc.deeds.create_item(
                list_id=deeds_list["id"], title=title, focus_area="conditions",
                batch="warm_heart", owner_unit_id=unit["id"],
                responsible_member_id=member["id"],
                planned_completion=(day + timedelta(days=90)).isoformat())

        def dead(deliveries=None):
            if deliveries is None:
                deliveries = rpc.notifications.list_dead_deliveries()
            return [d for d in deliveries
                    if d["channel"] == "email" and d["member_id"] == member["id"]
                    and d["event_type"] == "deeds.item_created"]

        def why():
            return (f"dead deliveries: {[(d['id'], d['last_error']) for d in dead()]}\n"
                    f"mail sink's log:\n{r.logs('mailsink', lines=20)}")

        def mail_about(title):
            return [m for m in messages(maildir) if address in m["To"]
                    and m["X-Gonghui-Event"] == "deeds.item_created" and title in subject(m)]

        # One e-mail: the item's responsible person is told (rule item_created).
        new_item("倒班宿舍热水系统改造")
        [mail] = wait_until(lambda: mail_about("倒班宿舍热水系统改造"), 30,
                            "the e-mail in the sink's Maildir new/", why)
        assert subject(mail) == "【新实事项目】倒班宿舍热水系统改造"
        assert "noreply@gonghui.local" in mail["From"]
        assert sorted(p.name for p in maildir.iterdir()) == ["cur", "new", "tmp"]

        # A delivery the sink refuses (its tmp/ is a file: the Maildir cannot be made) is
        # dead-lettered; once the Maildir is mended, replaying it delivers it.
        shutil.rmtree(maildir / "tmp")
        (maildir / "tmp").write_text("not a folder")
        new_item("职工书屋扩建")

        wait_until(dead, 30, "the refused e-mail among the dead deliveries")
        [delivery] = dead(gonghui("deliveries", "dead"))  # as the operator sees them
        assert "职工书屋扩建" in delivery["title"] and delivery["last_error"]
        assert not mail_about("职工书屋扩建")
        (maildir / "tmp").unlink()
        replayed = gonghui("deliveries", "replay", str(delivery["id"]))
        assert [d["status"] for d in replayed] == ["pending"]
        [again] = wait_until(lambda: mail_about("职工书屋扩建"), 30,
                             "the replayed e-mail in the Maildir", why)
        assert subject(again) == "【新实事项目】职工书屋扩建"
        sent = wait_until(lambda: (d := rpc.notifications.get_delivery(
            delivery_id=delivery["id"]))["status"] == "sent" and d, 15,
            "the replayed delivery marked sent")
        assert sent["attempts"] == 1
        assert not dead()


def test_a_consumer_in_its_own_process_dead_letters_a_malformed_event(stack):
    """Deeds as its own `nameko run` process (nothing else imported beside it) validates
    organization's events against organization's contract: a unit_created whose data breaks
    the contract goes to its handler's dead-letter queue with the reason, and the next valid
    event is handled as usual."""
    import uuid

    import requests
    from kombu import Connection, Exchange, Producer

    from gonghui.entrypoints import handler_queue_name

    gonghui("start", timeout=START_TIMEOUT + 60)
    vhost = stack["GONGHUI_VHOST"]
    admin_user, admin_password = infra.RABBIT_ADMIN
    body = {"id": str(uuid.uuid4()), "type": "organization.unit_created", "version": 1,
            "occurred_at": "2021-03-01T00:00:00+00:00", "producer": "organization",
            "actor": {"kind": "system", "id": "test"},
            "data": {"unit_id": "not a number", "unit_name": "坏数据"}}
    uri = (f"amqp://{admin_user}:{admin_password}@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/"
           + requests.utils.quote(vhost, safe=""))
    with Connection(uri) as conn:
        Producer(conn.channel()).publish(
            body, exchange=Exchange("organization.events", type="topic", durable=True),
            routing_key="unit_created", serializer="json", delivery_mode=2)
    dlq = handler_queue_name("organization", "unit_created", "deeds", "on_unit_created") + ".dlq"
    url = f"{infra.RABBIT_API}/queues/{requests.utils.quote(vhost, safe='')}/{dlq}"

    def dead_lettered():
        reply = requests.get(url, auth=infra.RABBIT_ADMIN, timeout=10)
        return reply.ok and reply.json().get("messages", 0) == 1
    wait_until(dead_lettered, 60, "the malformed event reaches deeds' dead-letter queue")
    got = requests.post(f"{url}/get", auth=infra.RABBIT_ADMIN, timeout=10, json={
        "count": 1, "ackmode": "reject_requeue_true", "encoding": "auto"}).json()[0]
    assert "invalid organization.unit_created data" in got["properties"]["headers"][
        "x-gonghui-error"]
    assert "unit_id" in got["properties"]["headers"]["x-gonghui-error"]

    r = runner.Runner()
    with cluster_rpc(r.operator_amqp_uri(), actor="operator:stack-test", timeout=30) as rpc:
        before = rpc.deeds.directory_status()["units"]
        rpc.organization.create_unit(code=f"U-{stack['GONGHUI_DB_PREFIX']}", name="神木光伏电站",
                                     kind="company")
        wait_until(lambda: rpc.deeds.directory_status()["units"] == before + 1, 30,
                   "deeds handles the next valid event")
