"""The read-model lookup deeds uses (the kit's, gonghui.directory) against deeds' real
database: a single call reads only the rows it names; bulk work loads each table once;
officers and union chains follow the tree."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from gonghui import directory
from gonghui.clock import today


def _apply(session, name, data):
    directory.apply(session, name, data, datetime.now(UTC))


def _role(session, member_id, union_id, unit_id, role, ended=False):
    day = today()
    _apply(session, "role_assigned", {
        "member_id": member_id, "union_id": union_id, "unit_id": unit_id, "role": role,
        "starts_on": day - timedelta(days=400),
        "ends_on": day - timedelta(days=10) if ended else None})


def officers(session, union_id):
    return directory.role_holders(session, union_id, directory.OFFICER_ROLES, today())


@pytest.fixture
def session(databases):
    engine = create_engine(databases["deeds"])
    day = today()
    with Session(engine) as session:
        # company (1) > branch (2) > team (3); unions on 1 and 2 only
        for unit_id, name, parent in ((1, "公司", None), (2, "分公司", 1), (3, "班组", 2)):
            _apply(session, "unit_created", {"unit_id": unit_id, "unit_name": name,
                                             "code": f"U{unit_id}", "kind": "unit",
                                             "parent_id": parent})
        for union_id, unit_id, level in ((11, 1, "company"), (12, 2, "grassroots")):
            _apply(session, "union_established", {"union_id": union_id, "unit_id": unit_id,
                                                  "level": level,
                                                  "union_name": f"工会{union_id}"})
        for member_id in range(100, 200):
            _apply(session, "member_joined", {
                "member_id": member_id, "employee_no": f"E{member_id}",
                "name": f"成员{member_id}", "gender": "female", "unit_id": 3,
                "joined_on": day - timedelta(days=800),
                "left_on": day - timedelta(days=10) if member_id == 101 else None})
        _role(session, 100, 11, 1, "chair")
        _role(session, 101, 11, 1, "vice_chair")  # has left
        _role(session, 102, 12, 2, "chair")
        _role(session, 103, 12, 2, "vice_chair", ended=True)  # no longer active
        _role(session, 104, 12, 2, "member")  # not an officer role
        session.commit()
        statements = []
        event.listen(engine, "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        yield session, statements
    engine.dispose()


def test_a_single_lookup_reads_one_row_and_caches_it(session):
    session, statements = session
    lookup = directory.Lookup(session)
    assert lookup.member_name(150) == "成员150"
    assert lookup.unit_name(2) == "分公司"
    assert len(statements) == 2 and all("WHERE" in s for s in statements)
    assert lookup.member_name(150) == "成员150" and lookup.unit_name(2) == "分公司"
    assert lookup.member_name(None) is None
    assert len(statements) == 2
    assert lookup.member_name(999) == "#999" and lookup.unit_name(99) == "#99"
    assert lookup.member_name(999) == "#999"
    assert len(statements) == 4


def test_bulk_work_loads_the_table_once(session):
    session, statements = session
    lookup = directory.Lookup(session)
    names = [lookup.member_name(m) for m in range(100, 200)]
    assert names == [f"成员{m}" for m in range(100, 200)]
    # BULK_AFTER point lookups, then one query for the whole table, then none
    assert len(statements) == directory.Lookup.BULK_AFTER + 1
    assert "WHERE" not in statements[-1]
    assert lookup.member_name(500) == "#500"
    assert len(statements) == directory.Lookup.BULK_AFTER + 1


def test_union_chain_and_officers(session):
    session, _ = session
    lookup = directory.Lookup(session)
    assert lookup.union_chain(3) == [(2, 12), (1, 11)]
    assert lookup.union_chain(1) == [(1, 11)]
    assert officers(session, 11) == [100]  # the vice-chair has left
    assert officers(session, 12) == [102]  # inactive and non-officer roles do not count
    assert officers(session, 13) == []
    assert lookup.unit_name(3) == "班组"  # the tree is loaded: no point lookup needed

