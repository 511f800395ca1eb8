"""The authorisation matrix: every route of the gateway × every kind of caller, over HTTP with
all the services on the real broker and databases.

Callers: an administrator; an officer of 机关工会 (XNY-JG) acting in their subtree, and the
same officer acting on 神木光伏电站 (XNY-SMGF); a member acting on their own record, and on
another member's; an auditor; nobody; a read-only and a read-write API token.

What each may do is written out below (``EXPECTED``), by the audience a route is for and
whether it reads or writes: a table of its own, not the policy's code. Allowed means the
request reached the route's service (the test watches the gateway's calls); refused means the
expected status (401, 403 or 404), the service never called, and no database or event
changed. The cases are checked to cover every route of the tables the matrix claims
(``MATRIX_TABLES``)."""

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from deploy.demo.organization import load_demo
from gonghui.actor import Actor
from services.activities.service import ActivitiesService
from services.deeds.service import DeedsService
from services.gateway import accounts
from services.gateway.api import LOOKUP_ACTOR
from services.gateway.policy import (
    ADMIN,
    AUDIT,
    MEMBERS,
    OFFICE,
    PERSONAL,
    PUBLIC,
    SELF,
    SIGNED_IN,
)
from services.gateway.routes import ROUTES
from services.gateway.routes import gateway as gateway_routes
from services.gateway.routes import organization as organization_routes
from services.gateway.service import GatewayService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.support.gateway import PASSWORD, Client, wait_for_read_models, web_port
from tests.support.notifications import SECRETS_KEY

CALLERS = ("admin", "officer_in", "officer_out", "member_self", "member_other", "auditor",
           "anonymous", "token_read", "token_write")
OK = "allowed"

# audience, verb -> caller -> allowed, or the refusal's status.
EXPECTED = {
    (OFFICE, "read"): dict(admin=OK, officer_in=OK, officer_out=404, member_self=403,
                           member_other=404, auditor=OK, anonymous=401, token_read=OK,
                           token_write=OK),
    (OFFICE, "write"): dict(admin=OK, officer_in=OK, officer_out=404, member_self=403,
                            member_other=404, auditor=403, anonymous=401, token_read=403,
                            token_write=OK),
    (PERSONAL, "read"): dict(admin=OK, officer_in=OK, officer_out=404, member_self=OK,
                             member_other=404, auditor=OK, anonymous=401, token_read=OK,
                             token_write=OK),
    (SELF, "read"): dict(admin=403, officer_in=OK, officer_out=OK, member_self=OK,
                         member_other=403, auditor=403, anonymous=401, token_read=403,
                         token_write=403),
    (SELF, "write"): dict(admin=403, officer_in=OK, officer_out=OK, member_self=OK,
                          member_other=403, auditor=403, anonymous=401, token_read=403,
                          token_write=403),
    (MEMBERS, "read"): dict(admin=OK, officer_in=OK, officer_out=OK, member_self=OK,
                            member_other=OK, auditor=OK, anonymous=401, token_read=OK,
                            token_write=OK),
    (MEMBERS, "write"): dict(admin=OK, officer_in=OK, officer_out=OK, member_self=OK,
                             member_other=OK, auditor=403, anonymous=401, token_read=403,
                             token_write=OK),
    (ADMIN, "read"): dict(admin=OK, officer_in=403, officer_out=403, member_self=403,
                          member_other=403, auditor=OK, anonymous=401, token_read=403,
                          token_write=403),
    (ADMIN, "write"): dict(admin=OK, officer_in=403, officer_out=403, member_self=403,
                           member_other=403, auditor=403, anonymous=401, token_read=403,
                           token_write=403),
    (AUDIT, "read"): dict(admin=OK, officer_in=403, officer_out=403, member_self=403,
                          member_other=403, auditor=OK, anonymous=401, token_read=403,
                          token_write=403),
    # Who am I, logging out: anyone logged in, a person or a token, whatever their roles.
    (SIGNED_IN, "read"): {caller: 401 if caller == "anonymous" else OK for caller in CALLERS},
    (SIGNED_IN, "write"): {caller: 401 if caller == "anonymous" else OK for caller in CALLERS},
    (PUBLIC, "read"): {caller: OK for caller in CALLERS},
    (PUBLIC, "write"): {caller: OK for caller in CALLERS},
}

# Where each caller aims: ``in`` the officer's subtree (their own union's unit; for the
# member, their own record), ``out`` of it (another union's unit, a member there), or
# ``other``: as ``out``, and a route about the caller's own acts names another member.
AIM = dict(admin="in", officer_in="in", officer_out="out", member_self="in",
           member_other="other", auditor="in", anonymous="in", token_read="in",
           token_write="in")


@dataclass
class World:
    """The records the cases name: ``unit[place]``, ``member[place]`` ... for place in
    (``in``, ``out``), created before the matrix runs."""

    unit: dict
    team: dict
    spare_unit: dict
    member: dict
    spare_member: dict
    regulation: dict

    def uniq(self, prefix="M"):
        return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ the cases
# name -> case(world, place) -> {"path": {...}, "query": {...}, "body": {...}}: the request
# a caller aiming at ``place`` sends. Writes name what the policy needs (the unit, the
# member) and otherwise as little as the route takes.


def _unit(w, p):
    return {"path": {"unit_id": w.unit[p]}}


def _spare(w, p):
    return {"path": {"unit_id": w.spare_unit[p]}}


def _member(w, p):
    return {"path": {"member_id": w.member[p]}}


def _spare_member(w, p):
    return {"path": {"member_id": w.spare_member[p]}}


def _scoped(name="unit_id"):
    return lambda w, p: {"query": {name: w.unit[p]}}


def _regulation(w, p):
    return {"path": {"regulation_id": w.regulation[p]}}


CASES = {
    # the gateway's own
    "gateway_login": lambda w, p: {"body": {"login": "NOBODY", "password": "x"}},
    "gateway_logout": lambda w, p: {},
    "gateway_me": lambda w, p: {},
    "gateway_set_password": lambda w, p: {"body": {"employee_no": "NOBODY",
                                                   "code": "00000000",
                                                   "password": "x" * 12}},
    "gateway_issue_code": _spare_member,
    "gateway_list_tokens": lambda w, p: {},
    "gateway_create_token": lambda w, p: {"body": {"name": "m", "access": "read"}},
    "gateway_revoke_token": lambda w, p: {"path": {"token_id": 999999}},
    "gateway_list_accounts": lambda w, p: {},
    "gateway_grant": lambda w, p: {"path": {"employee_no": "NOBODY"}, "body": {}},
    # organization: the tree
    "organization_list_units": lambda w, p: {},
    "organization_create_unit": lambda w, p: {"body": {
        "parent_id": w.unit[p], "code": w.uniq(), "name": "矩阵班组", "kind": "team",
        "domain": "测试", "established_on": "2021-05-01"}},
    "organization_get_unit": _unit,
    "organization_rename_unit": lambda w, p: {**_spare(w, p), "body": {"name": w.uniq()}},
    "organization_move_unit": lambda w, p: {**_spare(w, p), "body": {"parent_id": w.unit[p]}},
    "organization_close_unit": lambda w, p: {**_spare(w, p), "body": {"closed_on": "2099-01-01"}},
    "organization_subtree": _unit,
    "organization_ancestors": _unit,
    "organization_get_union": _unit,
    "organization_establish_union": lambda w, p: {**_spare(w, p), "body": {
        "level": "union_group", "name": "矩阵工会小组", "established_on": "2021-05-01"}},
    "organization_close_union": lambda w, p: {**_spare(w, p), "body": {}},
    "organization_coverage_report": _scoped(),
    # members and roles
    "organization_list_members": _scoped(),
    "organization_add_member": lambda w, p: {"body": {
        "unit_id": w.unit[p], "employee_no": w.uniq("E"), "name": "矩阵", "gender": "male",
        "joined_on": "2021-01-01"}},
    "organization_get_member": _member,
    "organization_update_member": lambda w, p: {**_spare_member(w, p), "body": {
        "name": "矩阵改名"}},
    "organization_member_leaves": lambda w, p: {**_spare_member(w, p), "body": {
        "left_on": "2099-01-01"}},
    "organization_assign_role": lambda w, p: {**_spare_member(w, p), "body": {
        "unit_id": w.unit[p], "role": "cadre", "starts_on": "2021-01-01"}},
    "organization_recipients": lambda w, p: {**_unit(w, p), "query": {"role": "chair"}},
    # terms and elections
    "organization_start_term": lambda w, p: {**_spare(w, p), "body": {}},
    "organization_current_term": _unit,
    "organization_terms_due": _scoped(),
    "organization_record_election": lambda w, p: {**_spare(w, p), "body": {}},
    # trainings, visits, meetings
    "organization_record_training": lambda w, p: {"body": {"organiser_unit_id": w.unit[p]}},
    "organization_list_trainings": lambda w, p: {},
    "organization_record_field_visit": lambda w, p: {**_unit(w, p), "body": {}},
    "organization_list_field_visits": _scoped(),
    "organization_record_meeting": lambda w, p: {**_unit(w, p), "body": {}},
    "organization_list_meetings": _scoped(),
    "organization_list_action_items": _scoped("owner_unit_id"),
    # regulations
    "organization_draft_regulation": lambda w, p: {"body": {"issuing_unit_id": w.unit[p]}},
    "organization_list_regulations": lambda w, p: {},
    "organization_regulation_history": _regulation,
    "organization_issue_regulation": lambda w, p: {**_regulation(w, p), "body": {}},
    "organization_revise_regulation": lambda w, p: {**_regulation(w, p), "body": {}},
    "organization_repeal_regulation": lambda w, p: {**_regulation(w, p), "body": {}},
    # imports, exports, audit
    "organization_import_file": lambda w, p: {"body": {"kind": "members"}},
    "organization_export_file": lambda w, p: {"path": {"kind": "units",
                                                       "file_format": "csv"}},
    "organization_export_xlsx": lambda w, p: {"path": {"kind": "units"}},
    "organization_export_csv": lambda w, p: {"path": {"kind": "members"}},
    "organization_audit_history": lambda w, p: {"path": {"entity_type": "unit",
                                                         "entity_id": w.unit[p]}},
}


def expected(route, caller):
    return EXPECTED[(route.audience, route.verb)][caller]


# The route tables whose every route has a case. The deeds, activities and notifications
# routes are covered by their own tests over HTTP (tests/service/test_gateway_*.py) and join
# the matrix next (issue 12's progress note).
MATRIX_TABLES = (gateway_routes, organization_routes)


def test_the_cases_cover_every_route_and_every_audience_is_expected():
    tabled = {r.name for table in MATRIX_TABLES for r in table.ROUTES}
    assert tabled <= set(CASES), "routes without a matrix case"
    assert set(CASES) <= {r.name for r in ROUTES}, "cases of routes that are gone"
    assert set(CASES) <= tabled, "a case of a table the matrix does not claim to cover"
    assert {(r.audience, r.verb) for r in ROUTES} <= set(EXPECTED)
    assert all(set(row) == set(CALLERS) for row in EXPECTED.values())


# ------------------------------------------------------------------ the run


def request_url(route, case):
    url = route.path
    for name, value in case.get("path", {}).items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    assert "<" not in url, (route.name, url)
    return "/api/v1" + url


def changes(engines):
    """What a refused request must leave as it was: every service's outbox and audit rows,
    and the gateway's accounts, tokens and codes."""
    counted = {}
    for name, engine in engines.items():
        with engine.connect() as conn:
            for table in ("outbox", "audit_log") + (
                    ("accounts", "api_tokens", "one_time_codes") if name == "gateway" else ()):
                counted[(name, table)] = conn.scalar(text(f"SELECT count(*) FROM {table}"))
    return counted


@pytest.fixture
def matrix_world(start_service, rpc, databases, monkeypatch):
    for service in (OrganizationService, DeedsService, ActivitiesService):
        start_service(service)
    start_service(NotificationsService, SECRETS_KEY=SECRETS_KEY)
    calls = []
    real_call = GatewayService._call

    def watched(self, exchange, rpc_name, actor, arguments):
        if actor != LOOKUP_ACTOR:
            calls.append((rpc_name, actor))
        return real_call(self, exchange, rpc_name, actor, arguments)

    monkeypatch.setattr(GatewayService, "_call", watched)
    gateway = start_service(GatewayService, RPC_TIMEOUT=10)
    admin = Actor("admin", "SETUP")
    with rpc(actor=admin) as proxy:
        org = proxy.organization
        load_demo(proxy)
        units = {u["code"]: u["id"] for u in org.list_units(limit=5000)}
        people = {m["employee_no"]: m["id"] for m in org.list_members(limit=5000)}
        spare_unit = {p: org.create_unit(code=f"SPARE-{p}", name="备用班组", kind="team",
                                         domain="测试", parent_id=units[code],
                                         established_on="2021-01-01")["id"]
                      for p, code in (("in", "XNY-JG"), ("out", "XNY-SMGF"))}
        spare_member = {p: org.add_member(employee_no=f"SPARE-{p}", name="备用", gender="male",
                                          unit_id=units[code], joined_on="2021-01-01")["id"]
                        for p, code in (("in", "XNY-JG"), ("out", "XNY-SMGF"))}
        regulation = {p: org.draft_regulation(title=f"矩阵制度{p}", category="other",
                                              issuing_unit_id=units[code],
                                              body="……")["id"]
                      for p, code in (("in", "XNY-JG"), ("out", "XNY-SMGF"))}
        wait_for_read_models(proxy, ["gateway"], timeout=60)
    base = f"http://127.0.0.1:{web_port(gateway)}"
    engines = {name: create_engine(url) for name, url in databases.items()}
    sessions = {}
    with Session(engines["gateway"]) as db:
        codes = {}
        for label, employee_no, grant in (("admin", "ADMIN01", "is_admin"),
                                          ("officer", "XN0007", None),
                                          ("member", "XN0012", None),
                                          ("auditor", "AUDIT01", "is_auditor")):
            account = accounts.account_for(db, employee_no, create=True)
            if grant:
                setattr(account, grant, True)
            codes[label] = (employee_no, accounts.issue_code(db, employee_no, "test")[0])
        read_token = accounts.create_token(db, "matrix-read", "read", None, "test")[1]
        write_token = accounts.create_token(db, "matrix-write", "write", None, "test")[1]
        db.commit()
    for label, (employee_no, code) in codes.items():
        client = Client(base)
        assert client.post("/api/v1/password", json={"employee_no": employee_no, "code": code,
                                                     "password": PASSWORD}).status_code == 204
        assert client.post("/api/v1/session", json={"login": employee_no,
                                                    "password": PASSWORD}).status_code == 201
        sessions[label] = client

    def token_client(secret):
        client = Client(base)
        client.headers["Authorization"] = f"Bearer {secret}"
        return client

    clients = {"admin": sessions["admin"], "officer_in": sessions["officer"],
               "officer_out": sessions["officer"], "member_self": sessions["member"],
               "member_other": sessions["member"], "auditor": sessions["auditor"],
               "anonymous": Client(base), "token_read": token_client(read_token),
               "token_write": token_client(write_token)}
    def places(inside, outside):
        return {"in": inside, "out": outside, "other": outside}

    world = World(unit=places(units["XNY-JG"], units["XNY-SMGF"]),
                  team=places(units["XNY-JG-1"], units["XNY-SMGF-1"]),
                  spare_unit=places(spare_unit["in"], spare_unit["out"]),
                  member=places(people["XN0012"], people["XN0024"]),
                  spare_member=places(spare_member["in"], spare_member["out"]),
                  regulation=places(regulation["in"], regulation["out"]))
    yield world, clients, calls, engines
    for engine in engines.values():
        engine.dispose()


def test_every_route_for_every_caller(matrix_world):
    world, clients, calls, engines = matrix_world
    wrong = []
    # The session of the routes that end it goes last.
    ordered = sorted((r for r in ROUTES if r.name in CASES),
                     key=lambda r: r.name == "gateway_logout")
    for caller in CALLERS:
        for route in ordered:
            if route.name == "gateway_logout" and caller not in ("anonymous",):
                continue  # logging out would end the caller's session for the rest
            case = CASES[route.name](world, AIM[caller])
            want = expected(route, caller)
            before = changes(engines) if want != OK else None
            del calls[:]
            body = case.get("body")
            response = clients[caller].request(
                route.method, request_url(route, case), params=case.get("query"),
                json=body if route.method != "GET" else None)
            reached = any(name == route.rpc for name, _ in calls)
            if want == OK:
                if not reached:
                    wrong.append((caller, route.method, route.path, "refused",
                                  response.status_code, response.text[:200]))
            else:
                if reached or response.status_code != want:
                    wrong.append((caller, route.method, route.path, f"want {want}",
                                  response.status_code, response.text[:200]))
                elif changes(engines) != before:
                    wrong.append((caller, route.method, route.path, "refused but changed",
                                  response.status_code, ""))
    assert wrong == []


def test_the_actor_the_services_are_told(matrix_world):
    world, clients, calls, engines = matrix_world
    route_path = f"/api/v1/units/{world.unit['in']}"
    seen = {}
    for caller in ("admin", "officer_in", "member_self", "auditor", "token_read"):
        del calls[:]
        assert clients[caller].get(route_path).status_code == 200
        seen[caller] = next(actor for name, actor in calls if name == "organization.get_unit")
    assert {c: a.kind for c, a in seen.items()} == {
        "admin": "admin", "officer_in": "officer", "member_self": "member",
        "auditor": "auditor", "token_read": "service"}
    assert seen["officer_in"].id == "XN0007" and seen["member_self"].id == "XN0012"
    assert seen["token_read"].id.startswith("token-")

