"""The gateway in the whole stack, started as operators start it: the local runner (every
service its own `nameko run` process with its own broker user and database role), the demo
union and its logins loaded with `gonghui demo organization accounts`, then, over HTTP as a
browser: the demo's grassroots chair logs in, reads who they are and their union's members,
is answered 404 outside their subtree, and reads the OpenAPI document. The stack is a second
one beside a developer's (tests/stack/test_stack_up.py's fixture: its own var/, vhost, users,
databases and ports), stopped and removed at the end. The business date is the demo's
(GONGHUI_TODAY, as `gonghui up` sets it), never today's.
"""

import requests

from deploy.demo import accounts as demo_accounts
from deploy.demo.deeds import ARTICLE_DATE
from services.gateway.openapi import openapi_path
from services.gateway.routes import ROUTES
from tests.stack.test_stack_up import START_TIMEOUT, gonghui, stack  # noqa: F401 - fixture
from tests.support.gateway import Client, problem


def test_the_demo_chair_uses_the_api_of_the_stack_as_gonghui_up_starts_it(stack, monkeypatch):  # noqa: F811
    # What `gonghui up` sets for its demo stack: the article's date, demo logins allowed.
    monkeypatch.setenv("GONGHUI_TODAY", ARTICLE_DATE.isoformat())
    monkeypatch.setenv("DEMO_LOGINS", "true")
    started = gonghui("start", timeout=START_TIMEOUT + 60)
    base = started["services"]["gateway"]["url"]
    offset = int(stack["GONGHUI_HTTP_PORT_OFFSET"])
    assert base == f"http://127.0.0.1:{8100 + offset}"
    health = requests.get(f"{base}/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"

    loaded = gonghui("demo", "organization", "accounts", timeout=300)
    assert loaded["organization"]["created"] is True
    logins = {x["role"]: x for x in loaded["accounts"]["logins"]}
    chair = logins["grassroots-union chair"]
    assert (chair["login"], chair["password"]) == ("XN0007", demo_accounts.DEMO_PASSWORD)

    # The chair of 机关工会 logs in as a browser does (cookies, the CSRF token on writes).
    browser = Client(base)
    logged = browser.post("/api/v1/session", json={"login": chair["login"],
                                                   "password": chair["password"]})
    assert logged.status_code == 201, logged.text
    units = {u["code"]: u["id"] for u in browser.get("/api/v1/units?limit=500").json()["items"]}
    me = browser.get("/api/v1/me").json()
    assert (me["kind"], me["employee_no"], me["name"]) == ("person", "XN0007", chair["name"])
    assert me["office_units"] == [units["XNY-JG"]] and me["unit_id"] == units["XNY-JG"]
    assert (me["is_admin"], me["is_auditor"]) == (False, False)

    # Their union's members (the list defaults to their subtree), page by page.
    page = browser.get("/api/v1/members?limit=5").json()
    assert len(page["items"]) == 5 and page["next_offset"] == 5
    everyone = browser.get("/api/v1/members?limit=500").json()["items"]
    assert len(everyone) == 12 and {m["unit_id"] for m in everyone} == {units["XNY-JG"]}
    assert "XN0007" in {m["employee_no"] for m in everyone}

    # Outside their subtree: as if it did not exist.
    problem(browser.get(f"/api/v1/members?unit_id={units['XNY-SMGF']}"), 404)
    problem(browser.post("/api/v1/units", json={
        "code": "SMGF-X", "name": "新班组", "kind": "team", "domain": "光伏发电",
        "parent_id": units["XNY-SMGF"], "established_on": "2021-08-01"}), 404)

    # The API describes itself, to anyone.
    doc = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
    assert doc["openapi"] == "3.1.0"
    assert {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops} == {
        (r.method, openapi_path(r.rule)) for r in ROUTES}
    assert requests.get(f"{base}/api/v1/docs", timeout=10).status_code == 200
