"""The activities service's read model of organization's tree (the kit's): kept from
organization's events even when they arrive out of order or twice, rebuilt by a resync over
RPC, moved over from activities' own tables by the upgrade, and used for the officers-only
rule of the missing check-up list."""

import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from kombu import Connection, Exchange
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, text

from deploy.demo import activities as demo_activities
from deploy.demo.organization import load_demo as load_organization
from gonghui.actor import Actor
from gonghui.errors import Forbidden
from gonghui.events import build_envelope
from gonghui.migrations import alembic_config, migrate
from services.activities.service import ActivitiesService
from services.organization import events as org
from services.organization.service import OrganizationService
from tests.conftest import PG

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OPERATOR = Actor("operator", "test")


def publish(amqp_uri, envelopes):
    with Connection(amqp_uri) as conn:
        producer = conn.Producer(serializer="json")
        exchange = Exchange("organization.events", type="topic", durable=True)
        for envelope in envelopes:
            producer.publish(envelope, exchange=exchange, declare=[],
                             routing_key=envelope["type"].split(".", 1)[1],
                             message_id=envelope["id"])


def event(declared, data, minutes):
    return build_envelope(declared, data, OPERATOR, occurred_at=T0 + timedelta(minutes=minutes))


def rows(url, sql):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found


def wait_for(check, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


UNIT = {"unit_id": 5, "code": "C05", "kind": "plant", "domain": None, "parent_id": None,
        "parent_name": None, "established_on": None}
MEMBER = {"member_id": 9, "employee_no": "E009", "gender": "female", "unit_id": 5,
          "email": None, "mobile": None, "wecom_id": None, "joined_on": date(2020, 1, 1),
          "left_on": None}
ROLE = {"unit_id": 5, "unit_name": "一厂", "member_id": 9, "member_name": "李娜", "union_id": 3,
        "role": "chair", "term_id": None, "starts_on": date(2026, 3, 1)}


def test_out_of_order_and_repeated_events_converge(start_service, amqp_uri, databases):
    start_service(ActivitiesService)
    renamed = event(org.UNIT_RENAMED, {"unit_id": 5, "unit_name": "第一电厂",
                                       "old_name": "一厂"}, 5)
    created = event(org.UNIT_CREATED, {**UNIT, "unit_name": "一厂"}, 1)
    updated = event(org.MEMBER_UPDATED, {**MEMBER, "name": "李娜娜", "unit_name": "第一电厂"}, 6)
    joined = event(org.MEMBER_JOINED, {**MEMBER, "name": "李娜", "unit_name": "一厂"}, 2)
    ended = event(org.ROLE_ENDED, {**ROLE, "ends_on": date(2026, 3, 20)}, 20)
    assigned = event(org.ROLE_ASSIGNED, {**ROLE, "ends_on": None}, 3)
    # The newer change of each arrives first; then the older one, and a repeat.
    publish(amqp_uri, [renamed, updated, ended])
    url = databases["activities"]
    wait_for(lambda: rows(url, "SELECT count(*) FROM inbox")[0][0] == 3)
    publish(amqp_uri, [created, joined, assigned, renamed])
    wait_for(lambda: rows(url, "SELECT count(*) FROM inbox")[0][0] == 6)
    time.sleep(0.5)  # the repeat of `renamed` is acked and ignored
    assert rows(url, "SELECT unit_id, code, name, kind FROM directory_units") == [
        (5, "C05", "第一电厂", "plant")]
    assert rows(url, "SELECT member_id, name, unit_id FROM directory_members") == [(9, "李娜娜", 5)]
    assert rows(url, "SELECT member_id, role, ends_on::text FROM directory_roles") == [
        (9, "chair", "2026-03-20")]


@pytest.fixture
def directory(start_service, rpc):
    start_service(OrganizationService)
    start_service(ActivitiesService)
    with rpc() as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        yield proxy, units


def test_resync_rebuilds_the_directory_from_organization(directory, databases, subscribe):
    proxy, _ = directory
    sub = subscribe("activities.events", "directory_resynced")
    url = databases["activities"]
    before = proxy.activities.directory_status()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE directory_units, directory_unions, directory_members, "
                          "directory_roles"))
        # A role that organization no longer knows: the resync ends it.
        conn.execute(text("INSERT INTO directory_roles (member_id, union_id, unit_id, role, "
                          "starts_on, stamp) VALUES (1, 1, 1, 'cadre', '2020-01-01', "
                          "'2020-01-01')"))
    engine.dispose()
    assert proxy.activities.directory_status()["members"] == 0
    after = proxy.activities.resync_directory()
    assert {k: after[k] for k in ("units", "unions", "members", "roles")} == {
        k: before[k] for k in ("units", "unions", "members", "roles")}
    assert demo_activities.directory_counts(proxy) == {
        k: after[k] for k in ("units", "members", "roles")}
    (message,) = sub.collect(1)
    assert message["body"]["data"]["roles_ended"] == 1
    assert message["body"]["data"]["members"] == before["members"]


def test_the_upgrades_automatic_resync_tells_as_the_rpc_does(start_service, rpc, databases,
                                                             subscribe):
    """After an upgrade marks the read model, the timer's resync (not only the RPC's) ends
    what organization no longer has and publishes activities' directory_resynced, as the
    system's tick."""
    start_service(OrganizationService)
    activities = start_service(ActivitiesService)
    sub = subscribe("activities.events", "directory_resynced")
    with rpc() as proxy:
        load_organization(proxy)
        demo_activities.wait_for_directory(proxy, timeout=60, resync=False)
        members = proxy.activities.directory_status()["members"]
    engine = create_engine(databases["activities"])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO directory_roles (member_id, union_id, unit_id, role, "
                          "starts_on, stamp) VALUES (1, 1, 1, 'cadre', '2020-01-01', "
                          "'2020-01-01')"))
        conn.execute(text("INSERT INTO directory_sync (source, resync_needed) VALUES "
                          "('organization', true) ON CONFLICT (source) DO UPDATE "
                          "SET resync_needed = true"))
    engine.dispose()
    with entrypoint_hook(activities, "resync_when_needed") as resync_when_needed:
        resync_when_needed()
    (message,) = sub.collect(1)
    assert message["body"]["data"]["roles_ended"] == 1
    assert message["body"]["data"]["members"] == members
    assert message["body"]["actor"]["kind"] == "system"
    assert rows(databases["activities"], "SELECT resync_needed FROM directory_sync") == [(False,)]
    # Nothing more to do: the timer's next run leaves the read model alone.
    with entrypoint_hook(activities, "resync_when_needed") as resync_when_needed:
        resync_when_needed()
    assert sub.collect(0) == []


def test_missing_checkups_are_for_the_units_officers_only(directory, rpc):
    proxy, units = directory
    org, act = proxy.organization, proxy.activities
    plant = units["XNY-SMGF"]
    people = org.list_members(unit_id=plant, subtree=False)
    for member in people[:8]:
        act.record_checkup(member_id=member["id"], checked_on="2022-04-20", provider="职工医院")
    chair = org.get_member(member_id=org.recipients(unit_id=plant, role="chair")[0]["member_id"])
    company_chair = org.get_member(
        member_id=org.recipients(unit_id=units["XNY"], role="chair")[0]["member_id"])
    former = people[1]  # vice-chair until the election of 2021-06-18, no role since
    plain = people[9]
    expected = [m["id"] for m in people[8:]]

    def missing(actor, unit_id=plant):
        with rpc(actor=actor) as client:
            return [m["member_id"] for m in client.activities.missing_checkups(
                year=2022, unit_id=unit_id)]

    assert missing(Actor("officer", chair["employee_no"])) == expected
    assert missing(Actor("officer", company_chair["employee_no"])) == expected  # above it
    assert missing(Actor("admin", "1")) == expected
    assert missing(Actor("auditor", "A0001")) == expected  # reads everything, writes nothing
    assert missing(Actor("service", "token-7")) == expected  # a token the gateway scoped
    for actor, unit_id in [(Actor("officer", chair["employee_no"]), units["XNY-QN"]),
                           (Actor("officer", former["employee_no"]), plant),
                           (Actor("member", plain["employee_no"]), plant),
                           (Actor("operator", "cli"), plant),
                           (Actor("officer", "NO-SUCH"), plant)]:
        with pytest.raises(Forbidden):
            missing(actor, unit_id)
    # Coverage (counts, no names) is open to any reader.
    coverage = act.checkup_coverage(year=2022, unit_id=plant)
    assert (coverage["members"], coverage["checked"]) == (12, 8)


# ------------------------------------------------------------------ the read model's upgrade

OLD_UNITS = ("INSERT INTO dir_units (id, code, name, kind, parent_id, closed_on, info_at, "
             "name_at, parent_at, closed_at) VALUES "
             "(1, 'C01', '公司', 'company', NULL, NULL, '2021-01-01', '2021-01-01', "
             "'2021-01-01', NULL), "
             "(5, 'C05', '一厂', 'plant', 1, '2021-06-30', '2021-01-02', '2021-03-01', "
             "'2021-01-02', '2021-06-30')")
OLD_UNION = ("INSERT INTO dir_unions (union_id, unit_id, level, name, stamp) "
             "VALUES (3, 5, 'grassroots_union', '一厂工会', '2021-01-03')")
OLD_MEMBER = ("INSERT INTO dir_members (id, employee_no, name, gender, unit_id, joined_on, "
              "stamp) VALUES (9, 'E009', '李娜', 'female', 5, '2020-01-01', '2021-01-04')")
OLD_ROLE = ("INSERT INTO dir_roles (member_id, unit_id, role, union_id, starts_on, stamp) "
            "VALUES (9, 5, {role!r}, {union_id}, {starts_on}, '2021-01-05')")
CHAIR = OLD_ROLE.format(role="chair", union_id=3, starts_on="'2021-01-05'")
CADRE = OLD_ROLE.format(role="cadre", union_id="NULL", starts_on="NULL")  # from a resync


def test_an_upgrade_moves_the_old_read_model_and_asks_for_a_resync(infrastructure):
    url = f"{PG}/gonghui_test_activities_tree_{os.getpid()}"
    name = url.rsplit("/", 1)[1]
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine = create_engine(url)

    def run(*statements):
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))

    def query(sql):
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    resync_needed = "SELECT resync_needed FROM directory_sync"
    try:
        migrate("activities", url, "0002")
        # Units, a union and a keyed role move whole: nothing asks for a resync.
        run(OLD_UNITS, OLD_UNION, CHAIR)
        migrate("activities", url)
        assert query("SELECT unit_id, code, name, parent_id, closed_on::text, "
                     "name_at::date::text, closed_at::date::text FROM directory_units "
                     "ORDER BY unit_id") == [
            (1, "C01", "公司", None, None, "2021-01-01", None),
            (5, "C05", "一厂", 1, "2021-06-30", "2021-03-01", "2021-06-30")]
        assert query("SELECT union_id, unit_id, level, name FROM directory_unions") == [
            (3, 5, "grassroots_union", "一厂工会")]
        assert query("SELECT member_id, union_id, unit_id, role, starts_on::text, ends_on "
                     "FROM directory_roles") == [(9, 3, 5, "chair", "2021-01-05", None)]
        assert query(resync_needed) == []
        # Back, and a member (no e-mail known) and a role without a first day: a resync.
        command.downgrade(alembic_config("activities", url), "0002")
        assert query("SELECT id, name, closed_on::text FROM dir_units ORDER BY id") == [
            (1, "公司", None), (5, "一厂", "2021-06-30")]
        assert query("SELECT member_id, unit_id, role, union_id FROM dir_roles") == [
            (9, 5, "chair", 3)]
        run("DELETE FROM dir_roles", OLD_MEMBER, CHAIR, CADRE)
        migrate("activities", url)
        assert query("SELECT member_id, employee_no, name, gender, unit_id, "
                     "joined_on::text, email, stamp::date::text FROM directory_members") == [
            (9, "E009", "李娜", "female", 5, "2020-01-01", None, "2021-01-04")]
        assert query("SELECT role FROM directory_roles") == [("chair",)]
        assert query(resync_needed) == [(True,)]
        assert not query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'dir\\_%'")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
