"""schemathesis against the live gateway's OpenAPI document, every operation: generated
requests (as an administrator, who may call every route, with a valid session and CSRF
token) get no 5xx, and every response conforms to the document: its status is one the
operation declares, its media type and its body match the schema.

A bounded number of examples per operation here (``GONGHUI_FUZZ_EXAMPLES``, default 4); a
longer run: ``bin/fuzz-api`` (the same test with more examples)."""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from deploy.demo.organization import load_demo
from services.activities.service import ActivitiesService
from services.deeds.service import DeedsService
from services.gateway import accounts
from services.gateway.service import GatewayService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.support.gateway import PASSWORD, web_port
from tests.support.notifications import SECRETS_KEY

EXAMPLES = int(os.environ.get("GONGHUI_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def live_gateway(start_service, rpc, databases):
    for service in (OrganizationService, DeedsService, ActivitiesService):
        start_service(service)
    start_service(NotificationsService, SECRETS_KEY=SECRETS_KEY)
    gateway = start_service(GatewayService, RPC_TIMEOUT=10)
    with rpc() as proxy:
        load_demo(proxy)
    engine = create_engine(databases["gateway"])
    with Session(engine) as db:
        account = accounts.account_for(db, "FUZZ01", create=True)
        account.is_admin = True
        code, _ = accounts.issue_code(db, "FUZZ01", "operator:test")
        db.commit()
    engine.dispose()
    base = f"http://127.0.0.1:{web_port(gateway)}"
    session = requests.Session()
    assert session.post(f"{base}/api/v1/password", json={
        "employee_no": "FUZZ01", "code": code, "password": PASSWORD}).status_code == 204
    assert session.post(f"{base}/api/v1/session", json={
        "login": "FUZZ01", "password": PASSWORD}).status_code == 201
    return base, session


def test_every_operation_answers_as_its_document_says(live_gateway):
    base, session = live_gateway
    document = session.get(f"{base}/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    csrf = {"X-CSRF-Token": session.cookies["gonghui_csrf"]}
    failures = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in document["paths"].values())
    for operation in operations:
        if (operation.method.upper(), operation.path) == ("DELETE", "/api/v1/session"):
            continue  # logging out would end the run's session

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(base_url=base, session=session, headers=csrf,
                                   checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:2000]
    assert failures == {}
