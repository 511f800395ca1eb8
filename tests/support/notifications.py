"""Fixtures and helpers of the notifications tests (no tests here; ``tests/conftest.py``
registers this module as a pytest plugin, so ``smtp``, ``robots`` and
``notifications_config`` need no import): the local SMTP and robot servers of
``servers.py``, publishing real envelopes into the broker, a small union tree fed through
organization events, waiting on the database."""

import time
import uuid
from datetime import date

import eventlet
import pytest
from marshmallow import fields
from sqlalchemy import create_engine, text

from gonghui.actor import Actor
from gonghui.amqp import ConfirmingPublisher
from gonghui.events import build_envelope
from services.deeds import events as deeds_events
from services.organization import events as org_events
from tests.support.servers import RobotServer, SmtpServer

TICK = Actor("system", "tick")
BASE_URL = "https://gonghui.example.cn"
# The fixed key notifications seals the robots' and webhooks' secrets with in tests.
SECRETS_KEY = "test-only-secrets-key-0123456789abcdef"


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path / "maildir").start()
    yield server
    server.stop()


@pytest.fixture
def robots():
    server = RobotServer().start()
    yield server
    server.stop()


@pytest.fixture
def notifications_config(smtp):
    """Config of a notifications container against the local SMTP server; quick retries."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port,
            "SMTP_FROM": "noreply@gonghui.example.cn", "NOTIFY_BASE_URL": BASE_URL,
            "DISPATCH_POLL_SECONDS": 0.1, "DELIVERY_RETRY_BASE_SECONDS": 0.05,
            "DELIVERY_MAX_ATTEMPTS": 4, "SECRETS_KEY": SECRETS_KEY}


def build(declared, data, actor=TICK, event_id=None, occurred_at=None):
    """An envelope as the producer builds it (ISO dates in ``data`` are accepted)."""
    schema_fields = declared.schema().fields
    typed = {k: date.fromisoformat(v) if isinstance(schema_fields.get(k), fields.Date)
             and isinstance(v, str) else v for k, v in data.items()}
    return build_envelope(declared, typed, actor, occurred_at=occurred_at, event_id=event_id)


def publish(amqp_uri, declared, data, event_id=None, actor=TICK, occurred_at=None):
    envelope = build(declared, data, actor, event_id=event_id, occurred_at=occurred_at)
    publish_envelope(amqp_uri, envelope)
    return envelope


def publish_envelope(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        producer, _, name = envelope["type"].partition(".")
        publisher.publish(f"{producer}.events", name, envelope, {"message_id": envelope["id"]})
    finally:
        publisher.close()


def publish_many(amqp_uri, envelopes):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish_batch([
            (f"{e['type'].partition('.')[0]}.events", e["type"].partition(".")[2], e,
             {"message_id": e["id"]}) for e in envelopes])
    finally:
        publisher.close()


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s"
        eventlet.sleep(0.1)


def scalar(url, sql, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def execute(url, sql, **params):
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def rows(url, sql, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


# A small tree: the company (unit 1, its union 10) above a plant (unit 2, union 20).
COMPANY, PLANT = 1, 2
PEOPLE = {  # member id: (name, unit, union role or None)
    101: ("王主席", COMPANY, "chair"), 102: ("李副主席", COMPANY, "vice_chair"),
    201: ("张主席", PLANT, "chair"), 202: ("刘副主席", PLANT, "vice_chair"),
    203: ("陈责任", PLANT, None), 204: ("杨职工", PLANT, None), 205: ("赵职工", PLANT, None),
}


def tree_envelopes():
    units = [(COMPANY, "XNY", "陕煤新型能源公司", None, 10, "company_union", "新型能源公司工会"),
             (PLANT, "XNY-SMGF", "神木光伏电站", COMPANY, 20, "grassroots_union",
              "神木光伏电站工会")]
    names = {u[0]: u[2] for u in units}
    out = []
    for unit_id, code, name, parent, union_id, level, union_name in units:
        out.append(build(org_events.UNIT_CREATED, {
            "unit_id": unit_id, "unit_name": name, "code": code, "kind": "plant",
            "domain": None, "parent_id": parent, "parent_name": names.get(parent),
            "established_on": "2016-03-01"}))
        out.append(build(org_events.UNION_ESTABLISHED, {
            "unit_id": unit_id, "unit_name": name, "union_id": union_id,
            "union_name": union_name, "level": level,
            "parent_union_id": 10 if parent else None, "established_on": "2016-03-01"}))
    for member_id, (name, unit_id, role) in PEOPLE.items():
        out.append(build(org_events.MEMBER_JOINED, {
            "unit_id": unit_id, "unit_name": names[unit_id], "member_id": member_id,
            "employee_no": f"E{member_id}", "name": name, "gender": "female",
            "email": f"m{member_id}@xny.example.cn", "mobile": f"139000{member_id:05d}",
            "wecom_id": None, "joined_on": "2018-01-01"}))
        if role:
            out.append(build(org_events.ROLE_ASSIGNED, {
                "unit_id": unit_id, "unit_name": names[unit_id], "member_id": member_id,
                "member_name": name, "union_id": 10 if unit_id == COMPANY else 20,
                "role": role, "term_id": None, "starts_on": "2021-01-01"}))
    return out


def seed_tree(amqp_uri, url):
    """Feed the tree through real organization envelopes; wait until the read model has
    it."""
    publish_many(amqp_uri, tree_envelopes())
    wait_for(lambda: scalar(url, "SELECT count(*) FROM directory_roles") == 4
             and scalar(url, "SELECT count(*) FROM directory_members") == len(PEOPLE)
             and scalar(url, "SELECT count(*) FROM directory_unions") == 2
             and scalar(url, "SELECT count(*) FROM directory_units "
                             "WHERE parent_id IS NOT NULL") == 1,
             what="read model filled")


def caught_up(notifications, organization):
    """Whether notifications' read model holds organization's members and roles (both
    ``directory_status``)."""
    counts, expected = notifications.directory_status(), organization.directory_status()
    return all(counts[key] == expected[key] for key in ("members", "roles"))


def item_ref(**overrides):
    ref = {"item_id": 7, "item_title": "倒班宿舍热水系统改造", "level": "grassroots",
           "focus_area": "livelihood", "batch": "warm_heart", "owner_unit_id": PLANT,
           "owner_unit_name": "神木光伏电站", "responsible_member_id": 203,
           "responsible_member_name": "陈责任", "idea_id": None,
           "idea_submitter_member_id": None}
    ref.update(overrides)
    return ref


def report_overdue(period="2026-03", **overrides):
    return {**item_ref(), "period": period, "due_on": f"{period}-25", "as_of": f"{period}-26",
            "recipient_member_ids": [203], **overrides}


def escalation(**overrides):
    return {**item_ref(), "order_id": 31, "period": "2026-03", "reason": "月度汇报逾期未报",
            "supervising_unit_id": PLANT, "supervising_unit_name": "神木光伏电站",
            "deadline": "2026-04-08", "escalation_level": 1,
            "escalated_to_unit_id": COMPANY, "escalated_to_unit_name": "陕煤新型能源公司",
            "recipient_member_ids": [], "status": "escalated", "closed_by": None,
            **overrides}


def new_id():
    return str(uuid.uuid4())


def report_due(period="2026-03", **overrides):
    return {**report_overdue(period), "as_of": f"{period}-20", **overrides}


REPORT_DUE = deeds_events.REPORT_DUE
REPORT_OVERDUE = deeds_events.REPORT_OVERDUE
SUPERVISION_ESCALATED = deeds_events.SUPERVISION_ESCALATED
