"""The gateway over HTTP, with organization behind it on the real broker and databases: its
problem documents, logging in (codes, passwords, the rate limit, sessions and CSRF), API
tokens, the subtree rules for officers, idempotent creation, and the OpenAPI document."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from deploy.demo.organization import load_demo
from services.gateway import accounts
from services.gateway.openapi import openapi_path
from services.gateway.routes import ROUTES
from services.gateway.service import GatewayService
from services.organization.service import OrganizationService
from tests.support.gateway import PASSWORD, Client, problem, wait_for_read_models, web_port


@pytest.fixture
def stack(start_service, rpc, databases):
    start_service(OrganizationService)
    gateway = start_service(GatewayService, RPC_TIMEOUT=3)
    with rpc() as proxy:
        load_demo(proxy)
        wait_for_read_models(proxy, ["gateway"])
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        members = {m["employee_no"]: m for m in proxy.organization.list_members(limit=5000)}
    base = f"http://127.0.0.1:{web_port(gateway)}"
    engine = create_engine(databases["gateway"])
    yield {"base": base, "units": units, "members": members, "engine": engine}
    engine.dispose()


def admin_session(stack, employee_no="ADMIN01"):
    """An administrator, made as an operator makes one: the grant and a one-time code in
    the gateway's database, then the password set over HTTP."""
    with Session(stack["engine"]) as db:
        account = accounts.account_for(db, employee_no, create=True)
        account.is_admin = True
        code, _ = accounts.issue_code(db, employee_no, "operator:test")
        db.commit()
    client = Client(stack["base"])
    assert client.post("/api/v1/password", json={"employee_no": employee_no, "code": code,
                                                 "password": PASSWORD}).status_code == 204
    assert client.post("/api/v1/session", json={"login": employee_no,
                                                "password": PASSWORD}).status_code == 201
    return client


def person_session(stack, admin, employee_no, login=None):
    """A member logs in with the code an administrator issued for them."""
    member_id = stack["members"][employee_no]["id"]
    issued = admin.post(f"/api/v1/members/{member_id}/login-code")
    assert issued.status_code == 201, issued.text
    client = Client(stack["base"])
    done = client.post("/api/v1/password", json={"employee_no": employee_no,
                                                 "code": issued.json()["code"],
                                                 "password": PASSWORD})
    assert done.status_code == 204, done.text
    logged = client.post("/api/v1/session", json={"login": login or employee_no,
                                                  "password": PASSWORD})
    assert logged.status_code == 201, logged.text
    return client


def test_every_error_is_a_problem_document(stack):
    client = Client(stack["base"])
    problem(client.get("/api/v1/no-such-thing"), 404)
    problem(client.get("/nowhere/at/all"), 404)
    problem(client.put("/api/v1/units"), 405)
    assert set(client.put("/api/v1/units").headers["Allow"].split(", ")) >= {"GET", "POST"}
    problem(client.get("/api/v1/units"), 401)
    admin = admin_session(stack)
    bad = problem(admin.post("/api/v1/units", json={"code": "", "name": "x"}), 422)
    assert "code" in bad["errors"] and "kind" in bad["errors"]
    problem(admin.post("/api/v1/units", data="{not json", headers={
        "Content-Type": "application/json"}), 422)
    problem(admin.get("/api/v1/units/999999"), 404)
    problem(admin.get("/api/v1/units?limit=abc"), 422)


def test_a_service_that_does_not_answer_is_a_503_not_a_hang(stack):
    admin = admin_session(stack)
    # deeds is not running in this test: its routes time out after RPC_TIMEOUT (3 s).
    route = next(r for r in ROUTES if r.rpc.startswith("deeds.") and r.method == "GET"
                 and "<" not in r.path)
    started = time.monotonic()
    problem(admin.get(f"/api/v1{route.path}"), 503)
    assert time.monotonic() - started < 10


def test_login_codes_passwords_rate_limit_and_sessions(stack):
    admin = admin_session(stack)
    chair = "XN0007"  # chair of 机关工会 (XNY-JG)
    member_id = stack["members"][chair]["id"]
    code = admin.post(f"/api/v1/members/{member_id}/login-code").json()["code"]
    anonymous = Client(stack["base"])
    weak = problem(anonymous.post("/api/v1/password", json={
        "employee_no": chair, "code": code, "password": "short"}), 422)
    assert "password" in weak["errors"]
    problem(anonymous.post("/api/v1/password", json={
        "employee_no": chair, "code": "00000000", "password": PASSWORD}), 401)
    assert anonymous.post("/api/v1/password", json={
        "employee_no": chair, "code": code, "password": PASSWORD}).status_code == 204
    # The code is spent.
    problem(anonymous.post("/api/v1/password", json={
        "employee_no": chair, "code": code, "password": PASSWORD + "x"}), 401)
    # Login by mobile works as well as by employee number; the cookies are HttpOnly / Lax.
    by_mobile = Client(stack["base"])
    logged = by_mobile.post("/api/v1/session", json={
        "login": stack["members"][chair]["mobile"], "password": PASSWORD})
    assert logged.status_code == 201, logged.text
    cookie_header = logged.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header
    me = by_mobile.get("/api/v1/me").json()
    assert me["employee_no"] == chair and me["office_units"] == [stack["units"]["XNY-JG"]]
    # A write without the CSRF token is refused, and changes nothing.
    refused = by_mobile.post("/api/v1/units", json={
        "code": "JG-NEW", "name": "新班组", "kind": "team", "domain": "管理",
        "parent_id": stack["units"]["XNY-JG"], "established_on": "2021-05-01"},
        headers={"X-CSRF-Token": ""})
    assert problem(refused, 403)["type"].endswith("csrf")
    assert "JG-NEW" not in {u["code"] for u in admin.get("/api/v1/units?limit=500").json()[
        "items"]}
    # Wrong passwords: 401 each, then the account is locked (429) even with the right one.
    # The two wrong codes above were failures of this login too.
    intruder = Client(stack["base"])
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN - 2):
        problem(intruder.post("/api/v1/session", json={"login": chair, "password": "wrong!"}),
                401)
    locked = intruder.post("/api/v1/session", json={"login": chair, "password": PASSWORD})
    problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0
    # The session that was open still works; an expired one does not; logging out ends it.
    assert by_mobile.get("/api/v1/me").status_code == 200
    with stack["engine"].begin() as conn:
        conn.execute(text("UPDATE web_sessions SET expires_at = now() - interval '1 minute' "
                          "WHERE account_id = (SELECT id FROM accounts WHERE employee_no = "
                          ":e)"), {"e": chair})
    problem(by_mobile.get("/api/v1/me"), 401)
    assert admin.delete("/api/v1/session").status_code == 204
    problem(admin.get("/api/v1/me"), 401)


def test_officers_act_in_their_subtree_only(stack):
    units, members = stack["units"], stack["members"]
    admin = admin_session(stack)
    chair = person_session(stack, admin, "XN0007")  # 机关工会 (XNY-JG)
    jg, smgf = units["XNY-JG"], units["XNY-SMGF"]
    new_team = {"code": "JG-2", "name": "财务班组", "kind": "team", "domain": "管理",
                "established_on": "2021-05-01"}
    # Inside: a new team under their unit; their members listed (scoped by default).
    created = chair.post("/api/v1/units", json={**new_team, "parent_id": jg})
    assert created.status_code == 201, created.text
    listed = chair.get("/api/v1/members").json()
    assert listed["items"] and {m["unit_id"] for m in listed["items"]} <= {jg, units[
        "XNY-JG-1"], created.json()["id"]}
    # Outside or above: as if it did not exist (404), and nothing changes.
    problem(chair.post("/api/v1/units", json={**new_team, "code": "X-1", "parent_id": smgf}),
            404)
    problem(chair.post("/api/v1/units", json={**new_team, "code": "X-2", "parent_id": None}),
            404)
    problem(chair.post(f"/api/v1/units/{created.json()['id']}/move",
                       json={"parent_id": smgf}), 404)
    problem(chair.get(f"/api/v1/members?unit_id={smgf}"), 404)
    outsider = members["XN0019"]["id"]  # a member of 神木光伏电站
    problem(chair.get(f"/api/v1/members/{outsider}"), 404)
    # Granting themselves a role above their subtree (in the company union): refused.
    own_id = members["XN0007"]["id"]
    problem(chair.post(f"/api/v1/members/{own_id}/roles", json={
        "unit_id": units["XNY"], "role": "chair", "starts_on": "2021-06-01"}), 404)
    codes = {u["code"] for u in admin.get("/api/v1/units?limit=500").json()["items"]}
    assert "JG-2" in codes and not {"X-1", "X-2"} & codes
    assert admin.get(f"/api/v1/units/{created.json()['id']}/ancestors").json()[0]["id"] == jg
    # A plain member sees their own record, not a colleague's, and cannot create units.
    member = person_session(stack, admin, "XN0012")
    assert member.get(f"/api/v1/members/{members['XN0012']['id']}").status_code == 200
    problem(member.get(f"/api/v1/members/{members['XN0011']['id']}"), 404)
    problem(member.post("/api/v1/units", json={**new_team, "code": "X-3", "parent_id": jg}),
            403)


def test_api_tokens_are_scoped_shown_once_and_revocable(stack):
    units = stack["units"]
    admin = admin_session(stack)
    made = admin.post("/api/v1/tokens", json={"name": "HR sync", "access": "read",
                                              "unit_id": units["XNY-SMGF"]})
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    assert "token" not in admin.get("/api/v1/tokens").json()[0]
    with stack["engine"].connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar()
    assert secret not in stored and len(stored) == 64
    system = requests.Session()
    system.headers["Authorization"] = f"Bearer {secret}"
    base = stack["base"]
    inside = system.get(f"{base}/api/v1/members?unit_id={units['XNY-SMGF']}", timeout=10)
    assert inside.status_code == 200 and inside.json()["items"]
    problem(system.get(f"{base}/api/v1/members?unit_id={units['XNY-JG']}", timeout=10), 404)
    problem(system.post(f"{base}/api/v1/units", timeout=10, json={
        "code": "T-1", "name": "x", "kind": "team", "domain": "d",
        "parent_id": units["XNY-SMGF"], "established_on": "2021-01-01"}), 403)
    problem(system.get(f"{base}/api/v1/tokens", timeout=10), 403)
    assert admin.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 200
    problem(system.get(f"{base}/api/v1/members?unit_id={units['XNY-SMGF']}", timeout=10), 401)


def test_a_repeated_idempotency_key_creates_nothing_twice(stack):
    admin = admin_session(stack)
    team = {"code": "IDEM-1", "name": "幂等班组", "kind": "team", "domain": "管理",
            "parent_id": stack["units"]["XNY-JG"], "established_on": "2021-05-01"}
    first = admin.post("/api/v1/units", json=team, headers={"Idempotency-Key": "k-1"})
    again = admin.post("/api/v1/units", json=team, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    other = admin.post("/api/v1/units", json={**team, "code": "IDEM-2"},
                       headers={"Idempotency-Key": "k-1"})
    problem(other, 422)
    codes = [u["code"] for u in admin.get("/api/v1/units?limit=500").json()["items"]]
    assert codes.count("IDEM-1") == 1 and "IDEM-2" not in codes


def test_the_openapi_document_and_the_reference_describe_every_route(stack):
    client = Client(stack["base"])
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert served == {(r.method, openapi_path(r.rule)) for r in ROUTES}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert all(r.name in page.text for r in ROUTES)
    # Nothing is fetched from elsewhere: no script, no style or link to another host.
    assert "<script" not in page.text and "src=" not in page.text
    assert "href='http" not in page.text and 'href="http' not in page.text


def test_sessions_are_stored_hashed_and_expire_at_the_latest_after_a_week(stack):
    admin = admin_session(stack)
    cookie = admin.cookies.get("gonghui_session")
    with stack["engine"].connect() as conn:
        row = conn.execute(text("SELECT id_hash, created_at, expires_at FROM web_sessions")
                           ).one()
    assert cookie not in row.id_hash and row.id_hash == accounts.digest(cookie)
    assert row.expires_at - datetime.now(UTC) <= accounts.SESSION_IDLE + timedelta(seconds=5)


def test_a_session_slides_at_most_once_a_minute_and_never_past_a_week(stack, monkeypatch):
    """Using a session moves its idle expiry forward; within a minute of the last move the
    row is not written at all (no UPDATE, no row lock held through the request)."""
    cookie = admin_session(stack).cookies.get("gonghui_session")
    idle = accounts.SESSION_IDLE
    with Session(stack["engine"]) as db:
        row, _ = accounts.session_account(db, cookie)
        start = row.expires_at - idle

        def use(later):
            monkeypatch.setattr(accounts, "now", lambda: start + later)
            found = accounts.session_account(db, cookie)
            written = found is not None and found[0] in db.dirty
            db.commit()
            return found and found[0].expires_at, written

        assert use(timedelta(seconds=50)) == (start + idle, False)  # within the minute
        assert use(timedelta(minutes=2)) == (start + timedelta(minutes=2) + idle, True)
        # A login almost a week before: the week's end comes before the idle expiry would.
        row.created_at = start + idle + timedelta(minutes=12) - accounts.SESSION_MAX
        db.commit()
        week_end = start + idle + timedelta(minutes=12)
        assert use(timedelta(minutes=30)) == (week_end, True)
        assert use(idle + timedelta(minutes=12)) == (None, False)


def test_anyone_logged_in_sees_who_they_are_and_logs_out(stack):
    """Someone who is neither a member nor an officer (a member who has left, a platform
    account) can still ask who they are and log out."""
    with Session(stack["engine"]) as db:
        code, _ = accounts.issue_code(db, "NOT-A-MEMBER", "operator:test")
        db.commit()
    client = Client(stack["base"])
    assert client.post("/api/v1/password", json={"employee_no": "NOT-A-MEMBER", "code": code,
                                                 "password": PASSWORD}).status_code == 204
    assert client.post("/api/v1/session", json={"login": "NOT-A-MEMBER",
                                                "password": PASSWORD}).status_code == 201
    me = client.get("/api/v1/me").json()
    assert (me["employee_no"], me["member_id"], me["office_units"]) == ("NOT-A-MEMBER", None, [])
    problem(client.get("/api/v1/units"), 403)  # but nothing of the union's
    assert client.delete("/api/v1/session").status_code == 204
    problem(client.get("/api/v1/me"), 401)


def test_a_client_cannot_dodge_the_address_limit_with_a_forwarded_header(stack):
    anonymous = Client(stack["base"])
    for attempt in range(accounts.MAX_FAILURES_PER_ADDRESS):
        problem(anonymous.post("/api/v1/session", json={"login": f"NOBODY{attempt}",
                                                        "password": "wrong"},
                               headers={"X-Forwarded-For": f"10.0.0.{attempt}"}), 401)
    locked = anonymous.post("/api/v1/session", json={"login": "NOBODY-ELSE", "password": "x"},
                            headers={"X-Forwarded-For": "10.9.9.9"})
    assert problem(locked, 429)["detail"].endswith("from this address: try again later")
    with stack["engine"].connect() as conn:
        assert conn.execute(text("SELECT DISTINCT address FROM login_attempts")).scalars(
            ).all() == ["127.0.0.1"]


def test_what_no_longer_counts_is_forgotten(stack):
    old = datetime.now(UTC) - timedelta(days=8)
    with Session(stack["engine"]) as db:
        accounts.record_attempt(db, "E1", "127.0.0.1", False)
        accounts.issue_code(db, "E1", "test")
        db.commit()
        account = accounts.account_for(db, "E1", create=True)
        accounts.open_session(db, account, "127.0.0.1")
        db.commit()
    with stack["engine"].begin() as conn:
        for table, column in (("login_attempts", "at"), ("one_time_codes", "expires_at"),
                              ("web_sessions", "expires_at")):
            conn.execute(text(f"UPDATE {table} SET {column} = :old"), {"old": old})
        conn.execute(text("INSERT INTO idempotent_requests (caller, key, fingerprint, status, "
                          "created_at) VALUES ('person:E1', 'k', 'f', 201, :old), "
                          "('person:E1', 'k2', 'f', 201, :recent)"),
                     {"old": old, "recent": datetime.now(UTC)})  # the gateway's clock
    with Session(stack["engine"]) as db:
        deleted = accounts.prune(db)
        db.commit()
    assert deleted == {"login_attempts": 1, "web_sessions": 1, "idempotent_requests": 1,
                       "one_time_codes": 1}
    with stack["engine"].connect() as conn:
        assert conn.execute(text("SELECT key FROM idempotent_requests")).scalars().all() == [
            "k2"]


def test_the_audit_trail_of_a_unit(stack):
    admin = admin_session(stack)
    unit_id = stack["units"]["XNY-JG"]
    assert admin.patch(f"/api/v1/units/{unit_id}", json={"name": "公司机关（本部）"}
                       ).status_code == 200
    history = admin.get(f"/api/v1/audit/organization/unit/{unit_id}?limit=5")
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["total"] >= 2 and body["limit"] == 5
    assert body["entries"][0]["action"] == "organization.unit_renamed"
    assert body["entries"][0]["actor"] == {"kind": "admin", "id": "ADMIN01"}


def test_an_office_uploads_its_members_file_and_downloads_the_export(stack):
    import csv
    import io

    from openpyxl import Workbook, load_workbook

    admin = admin_session(stack)
    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "性别", "单位编码", "入会日期"])
    sheet.append(["UP0001", "上传甲", "男", "XNY-JG", "2021-03-01"])
    sheet.append(["UP0002", "上传乙", "火星", "NO-SUCH-UNIT", "2021-03-01"])
    upload = io.BytesIO()
    book.save(upload)
    files = {"file": ("members.xlsx", upload.getvalue(),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    dry = admin.post("/api/v1/imports", data={"kind": "members", "dry_run": "true"},
                     files=files)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert {p["line"] for p in report["problems"]} == {3}, report
    assert report["dry_run"] and report["created"] == 0
    problem(admin.post("/api/v1/imports", data={"kind": "members"}), 422)  # no file
    export = admin.get("/api/v1/exports/members.xlsx")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "members.xlsx" in export.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) - 1 == len(stack["members"])
    as_csv = admin.get("/api/v1/exports/units.csv")
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    codes = [r[0] for r in csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))]
    assert "XNY-JG" in codes
