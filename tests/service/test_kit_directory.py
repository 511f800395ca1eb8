"""The kit's read model of the union tree (gonghui/directory.py) over a real PostgreSQL:
any order the broker can deliver organization's events in ends in the state of the order
they happened in; a paged resync keeps newer changes and forgets what organization no
longer has; the union chain and the officers mean one thing when the chain is short."""

import os
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from deploy.demo.organization import load_demo
from gonghui import directory
from gonghui.directory import (
    DIRECTORY_METADATA,
    DirectoryMember,
    DirectoryRole,
    DirectoryUnion,
    DirectoryUnit,
)
from services.organization.service import OrganizationService
from tests.conftest import PG

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def engine(infrastructure):
    name = f"gonghui_test_kit_directory_{os.getpid()}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"{PG}/{name}")
    DIRECTORY_METADATA.create_all(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
        session.rollback()


def state(session):
    """Every row of the read model, without surrogate ids."""
    def rows(model, order, skip=()):
        columns = [c for c in model.__table__.columns if c.name not in skip]
        return [tuple(r) for r in session.execute(select(*columns).order_by(*order))]
    return (rows(DirectoryUnit, [DirectoryUnit.unit_id]),
            rows(DirectoryUnion, [DirectoryUnion.union_id]),
            rows(DirectoryMember, [DirectoryMember.member_id]),
            rows(DirectoryRole, [DirectoryRole.member_id, DirectoryRole.union_id,
                                 DirectoryRole.role, DirectoryRole.starts_on], skip=("id",)))


def apply_all(session, events):
    for name, data, at in events:
        directory.apply(session, name, data, at)
    session.flush()


def in_fresh_transaction(engine, events):
    with Session(engine) as session:
        apply_all(session, events)
        found = state(session)
        session.rollback()
    return found


# ------------------------------------------------------------------ the events of a life


def unit_data(unit_id, name, parent_id=None):
    return {"unit_id": unit_id, "unit_name": name, "code": f"U{unit_id}", "kind": "company",
            "parent_id": parent_id, "established_on": date(2020, 1, 1)}


def member_data(unit_id=2, name="王芳", email=None, left_on=None):
    return {"member_id": 7, "employee_no": "E007", "name": name, "gender": "female",
            "unit_id": unit_id, "email": email, "mobile": None, "wecom_id": None,
            "joined_on": date(2021, 5, 1), "left_on": left_on}


def role_data(role, starts_on, ends_on=None, member_id=7):
    return {"member_id": member_id, "member_name": "王芳", "union_id": 20, "unit_id": 2,
            "unit_name": "运维中心", "role": role, "term_id": None, "starts_on": starts_on,
            "ends_on": ends_on}


# What happened to one member and one union's roles, in the order it happened: joined,
# moved, a new e-mail, chair (then the term ends), vice-chair, chair again, left.
LIFE = [
    ("member_joined", member_data()),
    ("role_assigned", role_data("chair", date(2021, 6, 1))),
    ("member_updated", member_data(unit_id=3)),
    ("member_updated", member_data(unit_id=3, email="wf@example.cn")),
    ("role_ended", role_data("chair", date(2021, 6, 1), date(2024, 6, 1))),
    ("role_assigned", role_data("vice_chair", date(2024, 6, 1))),
    ("role_ended", role_data("vice_chair", date(2024, 6, 1), date(2025, 6, 1))),
    ("role_assigned", role_data("chair", date(2025, 6, 1))),
    ("member_left", member_data(unit_id=3, email="wf@example.cn", left_on=date(2026, 5, 1))),
]
UNIT_LIFE = [
    ("unit_created", unit_data(5, "检修班", parent_id=2)),
    ("unit_renamed", {"unit_id": 5, "unit_name": "检修一班", "old_name": "检修班"}),
    ("unit_moved", {"unit_id": 5, "unit_name": "检修一班", "old_parent_id": 2,
                    "new_parent_id": 3, "new_parent_name": "运维中心"}),
    ("unit_renamed", {"unit_id": 5, "unit_name": "检修二班", "old_name": "检修一班"}),
    ("unit_closed", {"unit_id": 5, "unit_name": "检修二班", "closed_on": date(2026, 4, 1)}),
]


def stamped(events):
    return [(name, data, T0 + timedelta(minutes=n)) for n, (name, data) in enumerate(events)]


def deliveries(events):
    """What the broker can hand the handlers: every event at least once (a retried or
    redelivered one again, later), in any order across the per-type queues."""
    indexes = st.lists(st.sampled_from(range(len(events))), max_size=len(events))
    return st.tuples(st.permutations(range(len(events))), indexes).map(
        lambda drawn: [events[i] for i in drawn[0]] + [events[i] for i in drawn[1]])


MEMBER_EVENTS = stamped(LIFE)
UNIT_EVENTS = stamped(UNIT_LIFE)
HYPOTHESIS = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(order=deliveries(MEMBER_EVENTS))
def test_any_order_of_a_members_and_roles_events_ends_as_in_order(engine, order):
    assert in_fresh_transaction(engine, order) == in_fresh_transaction(engine, MEMBER_EVENTS)


@HYPOTHESIS
@given(order=deliveries(UNIT_EVENTS))
def test_any_order_of_a_units_events_ends_as_in_order(engine, order):
    assert in_fresh_transaction(engine, order) == in_fresh_transaction(engine, UNIT_EVENTS)


def test_in_order_state_is_what_happened(session):
    apply_all(session, MEMBER_EVENTS + UNIT_EVENTS)
    member = session.get(DirectoryMember, 7)
    assert (member.unit_id, member.email, member.left_on) == (3, "wf@example.cn",
                                                              date(2026, 5, 1))
    roles = {(r.role, r.starts_on): r.ends_on for r in session.scalars(select(DirectoryRole))}
    assert roles == {("chair", date(2021, 6, 1)): date(2024, 6, 1),
                     ("vice_chair", date(2024, 6, 1)): date(2025, 6, 1),
                     ("chair", date(2025, 6, 1)): None}
    unit = session.get(DirectoryUnit, 5)
    assert (unit.name, unit.parent_id, unit.closed_on) == ("检修二班", 3, date(2026, 4, 1))


def test_a_late_role_assigned_does_not_bring_back_an_ended_chair(session):
    """The issue's case: role_ended handled first, its role_assigned retried later."""
    tree(session)
    assigned, ended = stamped([
        ("role_assigned", role_data("chair", date(2021, 6, 1), member_id=8)),
        ("role_ended", role_data("chair", date(2021, 6, 1), date(2026, 1, 1), member_id=8))])
    apply_all(session, [ended, assigned])
    assert directory.officers(session, 2, DAY) == [9]  # only the vice-chair remains


# ------------------------------------------------------------------ questions


def tree(session):
    """Company (1, its union 10) > centre (2, union 20) > team (4, no union of its own);
    member 8 chairs union 20 until 2026, member 9 is its vice-chair; 11 chairs union 10."""
    at = T0 - timedelta(days=1)
    for data in (unit_data(1, "公司"), unit_data(2, "运维中心", 1), unit_data(4, "一班", 2)):
        directory.apply(session, "unit_created", data, at)
    for union_id, unit_id, level in ((10, 1, "company"), (20, 2, "grassroots")):
        directory.apply(session, "union_established", {
            "union_id": union_id, "unit_id": unit_id, "union_name": f"工会{union_id}",
            "level": level, "established_on": date(2020, 1, 1), "closed_on": None}, at)
    for member_id, unit_id in ((8, 2), (9, 2), (11, 1)):
        directory.apply(session, "member_joined", {**member_data(unit_id), "member_id":
                                                   member_id, "employee_no": f"E{member_id}"},
                        at)
    directory.apply(session, "role_assigned", role_data("vice_chair", date(2021, 6, 1), None, 9),
                    at)
    directory.apply(session, "role_assigned", {**role_data("chair", date(2020, 1, 1), None, 11),
                                               "union_id": 10, "unit_id": 1}, at)
    session.flush()


def test_union_chain_and_officers_of_a_short_chain(session):
    tree(session)
    directory.apply(session, "role_assigned", role_data("chair", date(2021, 6, 1), None, 8), T0)
    chain = directory.union_chain(session, 4, DAY)
    assert [u.union_id for u in chain] == [20, 10]  # the team's own has none: nearest first
    assert directory.officers(session, 4, DAY) == [8, 9]
    assert directory.officers(session, 4, DAY, levels_up=1) == [11]
    assert directory.officers(session, 4, DAY, levels_up=2) == []  # above the top: nobody
    assert directory.union_chain(session, 99, DAY) == []  # an unknown unit: no chain
    assert directory.officers(session, 99, DAY) == []
    # before both roles began, nobody held office
    assert directory.officers(session, 4, date(2021, 5, 31)) == []
    assert directory.officers(session, 4, date(2021, 6, 1)) == [8, 9]


def test_a_member_who_left_is_no_officer(session):
    tree(session)
    directory.apply(session, "member_left", {**member_data(2, left_on=date(2026, 2, 1)),
                                             "member_id": 9, "employee_no": "E9"}, T0)
    assert directory.officers(session, 2, date(2026, 1, 31)) == [9]
    assert directory.officers(session, 2, DAY) == []
    assert directory.subtree_ids(session, 2) == {2, 4}
    assert directory.ancestor_ids(session, 4) == [4, 2, 1]


# ------------------------------------------------------------------ resync


def test_resync_from_organization_pages_keeps_newer_changes_forgets_what_is_gone(
        session, start_service, rpc):
    """Over the real RPC: organization (the article's demo union) read in pages of 7."""
    start_service(OrganizationService)
    with rpc() as proxy:
        load_demo(proxy)
        org = proxy.organization
        wanted = org.directory_status()
        someone = org.list_members(limit=1)[0]
        # What organization no longer has, and a change newer than any page will be.
        directory.apply(session, "unit_created", unit_data(99999, "已撤销"), T0)
        directory.apply(session, "member_joined", {**member_data(), "member_id": 99999}, T0)
        newer = datetime.now(UTC) + timedelta(hours=1)
        directory.apply(session, "member_updated", {
            **member_data(someone["unit_id"], name="改名在后"), "member_id": someone["id"],
            "employee_no": someone["employee_no"]}, newer)
        pages = []

        def fetch_page(**kwargs):
            page = org.directory_snapshot(**kwargs)
            pages.append((page["part"], len(page["rows"])))
            return page

        read = directory.resync(session, fetch_page, page_size=7)
    assert read["members"] == wanted["members"] and read["units"] == wanted["units"]
    assert all(size <= 7 for _, size in pages)
    assert len([p for p in pages if p[0] == "members"]) == wanted["members"] // 7 + 1
    assert session.get(DirectoryUnit, 99999) is None
    assert session.get(DirectoryMember, 99999) is None
    assert session.get(DirectoryMember, someone["id"]).name == "改名在后"
    assert directory.resync_needed(session) is False
    counts = directory.status(session)
    for key in ("units", "open_units", "unions", "members", "current_members", "roles"):
        assert counts[key] == wanted[key], key
    company = session.scalar(select(DirectoryUnit).where(DirectoryUnit.parent_id.is_(None)))
    assert directory.officers(session, company.unit_id)  # the company union's chair
