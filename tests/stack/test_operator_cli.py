"""The operator's command line (deploy/cli.py) as an operator runs it, against running
services: `gonghui import|export units|members`, `gonghui tick`, `gonghui health` with its
holiday warning, `gonghui accounts` (the gateway's first accounts, and a demo's passwords),
`gonghui deliveries show` of a missing delivery, `gonghui shell`'s banner and
`gonghui --help`.

The CLI reaches the test's broker vhost through GONGHUI_AMQP_URI, as an operator points it
at a broker other than the local runner's. Dates are fixed (2021, and 2030 for the
holidays), never today's.
"""

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy

from deploy import cli, infra
from deploy.demo import accounts as demo_accounts
from gonghui.actor import Actor
from gonghui.calendar import WorkingCalendar, YearCalendar
from gonghui.errors import Forbidden
from gonghui.health import HealthCheck
from services.deeds.service import DeedsService
from services.gateway.service import GatewayService
from services.notifications.service import NotificationsService
from services.organization import importer
from services.organization.service import OrganizationService
from tests.support.bad_input import database_snapshot
from tests.support.deeds_helpers import wait_for_directory
from tests.support.gateway import wait_until, web_port

ROOT = Path(__file__).resolve().parents[2]
GONGHUI = str(Path(sys.executable).with_name("gonghui"))

UNITS = """单位编码,单位名称,单位类型,领域,上级单位编码,成立日期,工会级别,工会名称
HB,华北能源公司,公司,能源,,2019-01-01,公司工会,华北能源公司工会
HB-FD,风电公司,子公司,风电,HB,2019-03-01,基层工会,风电公司工会
HB-GF,光伏公司,子公司,光伏,HB,2019-03-01,基层工会,光伏公司工会
HB-FD-1,运维一班,班组,风电,HB-FD,2019-04-01,,
"""
MEMBERS = """工号,姓名,性别,单位编码,邮箱,手机号,企业微信,入会日期
E001,张伟,男,HB,zhang.wei@hb.example.cn,13800000001,zhangwei,2019-01-15
E002,李娜,女,HB-FD,,13800000002,,2019-03-15
E003,王强,男,HB-GF,wang.qiang@hb.example.cn,,,2019-03-20
"""
# Line 2 is good; 3 names a unit that does not exist, 4 a bad mobile number, 5 repeats
# line 2's employee number, 6 has no name.
BAD_MEMBERS = """工号,姓名,性别,单位编码,邮箱,手机号,企业微信,入会日期
E001,张伟,男,HB,zhang.wei@hb.example.cn,13800000001,zhangwei,2019-01-15
E002,李娜,女,XX,,13800000002,,2019-03-15
E003,王强,男,HB-GF,,12345,,2019-03-20
E001,张伟,男,HB,,,,2019-01-15
E004,,女,HB-GF,,,,2019-04-01
"""


@pytest.fixture
def operator(monkeypatch, amqp_uri):
    """The CLI pointed at the test's broker vhost, as an operator's shell would be."""
    monkeypatch.setenv("GONGHUI_AMQP_URI", amqp_uri)
    return amqp_uri


def gonghui(capsys, *argv):
    """``gonghui ARGV...`` in this process: (exit status, stdout, stderr)."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def last_json(out):
    return json.loads(out[out.index("{"):])


def member_rows(proxy):
    codes = {u["id"]: u["code"] for u in proxy.organization.list_units(limit=5000)}
    return sorted((m["employee_no"], m["name"], m["gender"], codes[m["unit_id"]], m["email"],
                   m["mobile"], m["wecom_id"], m["joined_on"])
                  for m in proxy.organization.list_members(limit=5000))


def import_union(capsys, tmp_path):
    for kind, text in (("units", UNITS), ("members", MEMBERS)):
        status, out, err = gonghui(capsys, "import", kind, write(tmp_path / f"{kind}.csv", text),
                                   "--apply")
        assert status == 0, err
        assert last_json(out)["created"] == len(text.splitlines()) - 1


# -- import and export --------------------------------------------------------------------


def test_import_is_a_dry_run_unless_apply_and_reports_bad_rows_by_line(
        start_service, rpc, operator, tmp_path, capsys):
    start_service(OrganizationService)
    units = write(tmp_path / "units.csv", UNITS)
    with rpc() as proxy:
        org = proxy.organization
        status, out, err = gonghui(capsys, "import", "units", units)
        assert status == 0
        result = last_json(out)
        assert (result["dry_run"], result["valid"], result["rows"]) == (True, True, 4)
        assert "dry run, nothing imported" in err
        assert org.list_units(limit=5000) == []

        status, out, err = gonghui(capsys, "import", "units", units, "--apply")
        assert status == 0, err
        assert (last_json(out)["created"], last_json(out)["updated"]) == (4, 0)
        assert sorted(u["code"] for u in org.list_units(limit=5000)) == [
            "HB", "HB-FD", "HB-FD-1", "HB-GF"]
        coverage = org.coverage_report(as_of="2021-06-30")
        assert (coverage["units"], coverage["units_with_union"]) == (4, 3)

        bad = write(tmp_path / "members.csv", BAD_MEMBERS)
        for flags in ((), ("--apply",)):  # --apply is all or nothing: line 2 is not written
            status, out, err = gonghui(capsys, "import", "members", bad, *flags)
            assert status == 1
            result = last_json(out)
            assert result["valid"] is False and result["created"] == 0
            assert [p["line"] for p in result["problems"]] == [3, 4, 5, 6]
            reasons = {p["line"]: p["reason"] for p in result["problems"]}
            assert "XX" in reasons[3] and "12345" in reasons[4] and "E001" in reasons[5]
            for line in (3, 4, 5, 6):
                assert f"{bad}: line {line}: {reasons[line]}" in err
            assert "4 problems, nothing imported" in err
            assert org.list_members(limit=5000) == []

        good = write(tmp_path / "members.csv", MEMBERS)
        status, out, _ = gonghui(capsys, "import", "members", good)
        assert status == 0 and last_json(out)["valid"] is True
        assert org.list_members(limit=5000) == []  # a dry run writes nothing
        status, out, _ = gonghui(capsys, "import", "members", good, "--apply")
        assert status == 0 and last_json(out)["created"] == 3
        assert member_rows(proxy) == [
            ("E001", "张伟", "male", "HB", "zhang.wei@hb.example.cn", "13800000001",
             "zhangwei", "2019-01-15"),
            ("E002", "李娜", "female", "HB-FD", None, "13800000002", None, "2019-03-15"),
            ("E003", "王强", "male", "HB-GF", "wang.qiang@hb.example.cn", None, None,
             "2019-03-20")]

    status, _, err = gonghui(capsys, "import", "members", tmp_path / "missing.csv")
    assert status == 2 and err.count("\n") == 1 and "cannot read" in err


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_an_exported_file_imports_back_to_the_same_members(
        start_service, rpc, operator, tmp_path, capsys, suffix):
    start_service(OrganizationService)
    import_union(capsys, tmp_path)
    with rpc() as proxy:
        before = member_rows(proxy)
        exported = tmp_path / f"exported-members.{suffix}"
        status, out, _ = gonghui(capsys, "export", "members", exported)
        assert status == 0 and out.strip() == f"wrote 3 members to {exported}"
        # The file holds what was imported, in the import layout.
        rows, problems = importer.read_rows("members", suffix, exported.read_bytes())
        original, _ = importer.read_rows("members", "csv", MEMBERS.encode())
        assert problems == []
        assert [r.values for r in rows] == [r.values for r in original]

        status, out, _ = gonghui(capsys, "import", "members", exported, "--apply")
        assert status == 0
        result = last_json(out)
        assert (result["valid"], result["created"], result["updated"]) == (True, 0, 3)
        assert member_rows(proxy) == before

        units = tmp_path / f"exported-units.{suffix}"
        assert gonghui(capsys, "export", "units", units)[0] == 0
        status, out, _ = gonghui(capsys, "import", "units", units)
        assert status == 0 and last_json(out)["problems"] == []


# -- tick ---------------------------------------------------------------------------------


def test_tick_runs_each_day_of_the_range_once_and_twice_changes_nothing(
        start_service, rpc, subscribe, operator, tmp_path, capsys, databases):
    start_service(OrganizationService)
    start_service(DeedsService)
    wire = subscribe("deeds.events")
    import_union(capsys, tmp_path)
    with rpc() as proxy:
        wait_for_directory(proxy)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        members = {m["employee_no"]: m["id"] for m in proxy.organization.list_members()}
        deeds_list = proxy.deeds.create_list(level="grassroots", year=2021,
                                             unit_id=units["HB-FD"], title="风电公司实事清单")
        item = proxy.deeds.create_item(
            list_id=deeds_list["id"], title="升压站职工休息室", focus_area="conditions",
            batch="warm_heart", owner_unit_id=units["HB-FD"],
            responsible_member_id=members["E002"], planned_completion="2021-12-31",
            created_on="2021-01-10")
    assert [m["routing_key"] for m in wire.collect(1)] == ["item_created"]

    status, out, _ = gonghui(capsys, "tick", "deeds", "--from", "2021-02-01", "--to",
                             "2021-03-31")
    assert status == 0
    first = json.loads(out)
    assert (first["from"], first["to"], first["days"]) == ("2021-02-01", "2021-03-31", 59)
    totals = first["totals"]
    events = wire.collect(sum(totals.values()))
    # Each event is on the wire once, as many as the totals say.
    seen = {}
    for message in events:
        seen[message["routing_key"]] = seen.get(message["routing_key"], 0) + 1
    assert seen == {k: v for k, v in totals.items() if v}
    # Reminders fall on the exact days, which only happens when every day was ticked: the
    # 25th's report is due 3 working days before (22 February, 22 March 2021) and overdue
    # the day after (26 February, 26 March), with a supervision order issued that day.
    by_kind = {}
    for message in events:
        data = message["body"]["data"]
        assert data["item_id"] == item["id"]
        by_kind.setdefault(message["routing_key"], []).append(
            (data["period"], data.get("as_of")))
    assert by_kind["report_due"] == [("2021-02", "2021-02-22"), ("2021-03", "2021-03-22")]
    assert by_kind["report_overdue"] == [("2021-02", "2021-02-26"), ("2021-03", "2021-03-26")]
    assert [period for period, _ in by_kind["supervision_issued"]] == ["2021-02", "2021-03"]

    before = database_snapshot(databases["deeds"], orders=(
        "SELECT id, period, issued_on, deadline, status, escalation_level "
        "FROM supervision_orders ORDER BY id"))
    status, out, _ = gonghui(capsys, "tick", "deeds", "--from", "2021-02-01", "--to",
                             "2021-03-31")
    assert status == 0
    again = json.loads(out)
    assert again["days"] == 59
    assert set(again["totals"].values()) == {0}
    assert wire.collect(1, timeout=2) == []
    assert database_snapshot(databases["deeds"], orders=(
        "SELECT id, period, issued_on, deadline, status, escalation_level "
        "FROM supervision_orders ORDER BY id")) == before

    status, _, err = gonghui(capsys, "tick", "deeds", "--from", "2021-03-31", "--to",
                             "2021-03-01")
    assert status == 2 and "before --from" in err


# -- health: next year's holidays ---------------------------------------------------------

ON_1_DECEMBER_2030 = date(2030, 12, 1)


class OrganizationOn1December2030(OrganizationService):
    """The organization service as it is on 1 December 2030 (its health's date only)."""

    check_health = HealthCheck(today=lambda: ON_1_DECEMBER_2030)


def test_health_warns_of_next_years_holidays_and_stays_ok(
        start_service, rpc, operator, tmp_path, capsys, monkeypatch):
    holidays = tmp_path / "holidays"
    # 2030 is known (loaded); 2031 is not: on 1 December 2030 that is the warning.
    WorkingCalendar(holidays).load_year(YearCalendar(2030, {date(2030, 1, 1): "元旦"}, {}))
    container = start_service(OrganizationOn1December2030, HOLIDAYS_DIR=str(holidays))
    monkeypatch.setenv("WEB_SERVER_ADDRESS", f"127.0.0.1:{web_port(container)}")
    monkeypatch.setenv("HOLIDAYS_DIR", str(holidays))

    with rpc() as proxy:
        report = proxy.organization.health()
    assert report["status"] == "ok"
    [warning] = report["warnings"]
    assert (warning["check"], warning["year"], warning["source"]) == (
        "holidays", 2031, "weekend-fallback")
    assert warning["command"] == "gonghui holidays load FILE"
    assert "Public holidays of 2031 are not loaded yet" in warning["message"]
    assert "gonghui holidays load FILE" in warning["message"]

    response = requests.get(f"http://127.0.0.1:{web_port(container)}/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["warnings"] == [warning]

    status, out, err = gonghui(capsys, "health", "organization")
    assert status == 0  # a warning: the service is healthy
    assert json.loads(out)["warnings"] == [warning]
    assert err == f"organization: warning: {warning['message']}\n"

    # The operator loads 2031 (holiday-cn JSON): the running service stops warning.
    year_file = write(tmp_path / "2031.json", json.dumps({"year": 2031, "days": [
        {"name": "元旦", "date": "2031-01-01", "isOffDay": True}]}))
    status, out, _ = gonghui(capsys, "holidays", "load", year_file)
    assert status == 0 and out.startswith("loaded 2031")
    status, out, err = gonghui(capsys, "health", "organization")
    assert status == 0 and json.loads(out)["warnings"] == [] and err == ""


# -- accounts: the gateway's first people ---------------------------------------------------

PASSWORD = "长城-Great-Wall-2021"


def log_in(base, login, password):
    """A browser's session after logging in (the answer is checked)."""
    session = requests.Session()
    answer = session.post(f"{base}/api/v1/session", json={"login": login, "password": password},
                          timeout=20)
    assert answer.status_code == 201, answer.text
    return session


def test_operators_grant_the_first_administrator_and_issue_their_code(
        start_service, rpc, operator, tmp_path, capsys, databases, monkeypatch):
    start_service(OrganizationService)
    base = f"http://127.0.0.1:{web_port(start_service(GatewayService))}"
    import_union(capsys, tmp_path)
    with rpc() as proxy:  # the gateway learns the members from organization's events
        wait_until(lambda: proxy.gateway.directory_status()["members"] == 3)
    # Nobody can log in yet; the operator makes E001 an administrator and gives a code.
    status, out, _ = gonghui(capsys, "accounts", "grant", "admin", "E001")
    assert status == 0
    granted = json.loads(out)
    assert (granted["employee_no"], granted["is_admin"], granted["is_auditor"],
            granted["password_set_at"]) == ("E001", True, False, None)
    status, out, err = gonghui(capsys, "accounts", "code", "E001")
    assert status == 0
    issued = json.loads(out)
    assert issued["employee_no"] == "E001" and issued["member_name"] == "张伟"
    assert len(issued["code"]) == 8 and issued["code"].isdigit()
    assert "shown once" in err and "POST /api/v1/password" in err and "张伟" in err
    with sqlalchemy.create_engine(databases["gateway"]).connect() as conn:
        stored = conn.execute(sqlalchemy.text("SELECT code_hash FROM one_time_codes")
                              ).scalars().all()
    assert len(stored) == 1 and issued["code"] not in stored[0]
    # An employee number the union does not know is said so (a typo?), and still served.
    status, out, err = gonghui(capsys, "accounts", "code", "E404")
    assert status == 0 and json.loads(out)["member_name"] is None and "check the number" in err

    # The person sets their password with the code, logs in, and is the administrator.
    done = requests.post(f"{base}/api/v1/password", timeout=20, json={
        "employee_no": "E001", "code": issued["code"], "password": PASSWORD})
    assert done.status_code == 204, done.text
    browser = log_in(base, "E001", PASSWORD)
    me = browser.get(f"{base}/api/v1/me", timeout=20).json()
    assert (me["employee_no"], me["name"], me["is_admin"]) == ("E001", "张伟", True)
    assert browser.get(f"{base}/api/v1/accounts", timeout=20).status_code == 200

    status, out, _ = gonghui(capsys, "accounts", "grant", "auditor", "E002")
    assert status == 0 and json.loads(out)["is_auditor"] is True
    status, out, _ = gonghui(capsys, "accounts", "list")
    assert status == 0
    assert [(a["employee_no"], a["is_admin"], a["is_auditor"]) for a in json.loads(out)] == [
        ("E001", True, False), ("E002", False, True)]
    # Revoked: the open session is no longer an administrator's.
    status, out, _ = gonghui(capsys, "accounts", "revoke", "admin", "E001")
    assert status == 0 and json.loads(out)["is_admin"] is False
    assert browser.get(f"{base}/api/v1/me", timeout=20).json()["is_admin"] is False
    assert browser.get(f"{base}/api/v1/accounts", timeout=20).status_code == 403
    # Revoking what nobody has is one line and exit 1; the audit trail names the operator.
    status, out, err = gonghui(capsys, "accounts", "revoke", "auditor", "NOBODY")
    assert (status, out) == (1, "")
    assert err == "gonghui accounts: not_found: no account for NOBODY\n"
    with rpc() as proxy:
        trail = proxy.gateway.audit_history(entity_type="account", entity_id="E001")
    assert [(e["action"], e["changes"], e["actor"]) for e in reversed(trail["entries"])] == [
        ("gateway.account_granted", {"is_admin": True}, {"kind": "operator", "id": "cli"}),
        ("gateway.login_code_issued", {"employee_no": "E001"},
         {"kind": "operator", "id": "cli"}),
        ("gateway.account_granted", {"is_admin": False}, {"kind": "operator", "id": "cli"})]
    # Only an operator: an officer's (or an administrator's) actor is refused over RPC.
    for kind in ("officer", "admin"):
        with rpc(actor=Actor(kind, "E001")) as proxy, pytest.raises(Forbidden):
            proxy.gateway.grant_access(employee_no="E003", access="admin")
    # This gateway's DEMO_LOGINS is off: a password cannot be set directly, and nothing is.
    before = database_snapshot(databases["gateway"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    status, _, err = gonghui(capsys, "accounts", "demo-password", "E003")
    assert status == 1 and "gonghui accounts: forbidden: " in err and "DEMO_LOGINS" in err
    assert database_snapshot(databases["gateway"]) == before


def test_a_demo_password_is_set_only_where_demo_logins_are_on(
        start_service, operator, capsys, monkeypatch):
    base = f"http://127.0.0.1:{web_port(start_service(GatewayService, DEMO_LOGINS=True))}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    status, _, err = gonghui(capsys, "accounts", "demo-password", "E009")
    assert status == 1 and "validation_error" in err and "password" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert gonghui(capsys, "accounts", "demo-password", "E009")[0] == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    status, out, _ = gonghui(capsys, "accounts", "demo-password", "E009")
    assert status == 0 and json.loads(out)["password_set_at"]
    log_in(base, "E009", PASSWORD)

    # The demo's logins: one per role, each with the demo password; loading twice sets none.
    status, out, err = gonghui(capsys, "demo", "accounts")
    assert status == 0, err
    loaded = json.loads(out)["accounts"]
    assert (loaded["grants"], loaded["passwords"]) == (2, 4)
    assert [(x["role"], x["login"]) for x in loaded["logins"]] == [
        ("company-union administrator", "XN0001"), ("grassroots-union chair", "XN0007"),
        ("member", "XN0012"), ("auditor", "XN0006")]
    sessions = {x["login"]: log_in(base, x["login"], demo_accounts.DEMO_PASSWORD)
                for x in loaded["logins"]}  # each logs in (no union here: no offices)
    for login, grants in (("XN0001", (True, False)), ("XN0006", (False, True))):
        me = sessions[login].get(f"{base}/api/v1/me", timeout=20).json()
        assert (me["is_admin"], me["is_auditor"]) == grants
    status, out, _ = gonghui(capsys, "demo", "accounts")
    assert status == 0
    again = json.loads(out)["accounts"]
    assert (again["grants"], again["passwords"]) == (0, 0)


# -- one clear line instead of a traceback ------------------------------------------------


def run_gonghui(amqp_uri, *argv, stdin=""):
    """``.venv/bin/gonghui ARGV...`` as its own process, pointed at the test's vhost."""
    return subprocess.run([GONGHUI, *argv], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT,
                          env={**os.environ, "GONGHUI_AMQP_URI": amqp_uri})


def test_showing_a_missing_delivery_is_one_line_and_fails(start_service, amqp_uri,
                                                         notifications_config):
    start_service(NotificationsService, **notifications_config)  # its SECRETS_KEY with it
    done = run_gonghui(amqp_uri, "deliveries", "show", "999999")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "gonghui deliveries: not_found: delivery 999999 not found\n"
    done = run_gonghui(amqp_uri, "deliveries", "replay")
    assert done.returncode == 2 and done.stderr.count("\n") == 1


@pytest.fixture
def operator_user(amqp_uri):
    """A broker user of the test's vhost whose password differs from its name."""
    api, auth = infra.RABBIT_API, infra.RABBIT_ADMIN
    name, password = f"operator-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    vhost = amqp_uri.rsplit("/", 1)[1]
    requests.put(f"{api}/users/{name}", auth=auth, timeout=10,
                 json={"password": password, "tags": ""}).raise_for_status()
    requests.put(f"{api}/permissions/{vhost}/{name}", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    uri = f"amqp://{name}:{password}@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{vhost}"
    yield uri, name, password
    requests.delete(f"{api}/users/{name}", auth=auth, timeout=10)


def test_shell_banner_masks_the_operator_password(start_service, operator_user):
    uri, name, password = operator_user
    start_service(OrganizationService)
    done = run_gonghui(uri, "shell", stdin="print(n.rpc.organization.health()['status'])\n")
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    assert (f"Broker: amqp://{name}:…@{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/"
            f"{uri.rsplit('/', 1)[1]}") in done.stderr
    assert ">>> ok" in done.stdout.splitlines()  # the shell works as the operator
    assert cli.masked_uri(uri) in done.stderr
    assert cli.masked_uri("amqp://u:p@h:1/v") == "amqp://u:…@h:1/v"
    assert cli.masked_uri("amqp://h:1/v") == "amqp://h:1/v"  # nothing to hide


def test_help_lists_every_command_and_every_choice(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for name, choices in [("resync", ["deeds", "notifications", "activities", "gateway"]),
                          ("tick", ["organization", "deeds", "notifications", "activities"]),
                          ("import", ["units", "members"]),
                          ("export", ["units", "members", "ledger"]),
                          ("deliveries", ["dead", "show", "replay"]),
                          ("holidays", ["load", "status"]),
                          ("accounts", ["list", "grant", "revoke", "code", "demo-password"]),
                          ("demo", list(cli.DEMO_PARTS))]:
        [line] = [line for line in text.splitlines() if line.startswith(f"  gonghui {name} ")]
        for choice in choices:
            assert choice in line, (name, choice, line)
    parser = cli.parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"  gonghui {name}" in text
    assert "GONGHUI_AMQP_URI" in text


def test_up_says_where_the_pages_and_the_api_are_and_who_logs_in(capsys):
    logins = [{"role": "grassroots-union chair", "login": "XN0007", "name": "黄志强",
               "what": "机关工会主席", "password": "Gonghui-demo-2021"}]
    cli._print_gateway("http://127.0.0.1:8100", logins)
    printed = capsys.readouterr().out
    assert "In a browser: http://127.0.0.1:8100/ " in printed
    assert "http://127.0.0.1:8100/api/v1/docs" in printed and "come later" not in printed
    assert "XN0007  黄志强（机关工会主席）" in printed and "Gonghui-demo-2021" in printed
