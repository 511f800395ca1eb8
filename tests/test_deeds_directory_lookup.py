"""The deeds read-model lookup against its real database: a single call reads only the rows
it names; bulk work loads each table once; officers and union chains follow the tree."""

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from services.deeds import directory


@pytest.fixture
def session(databases):
    engine = create_engine(databases["deeds"])
    with Session(engine) as session:
        # company (1) > branch (2) > team (3); unions on 1 and 2 only
        for unit_id, name, parent in ((1, "公司", None), (2, "分公司", 1), (3, "班组", 2)):
            directory.apply_unit(session, unit_id, name, parent)
        directory.apply_union(session, 11, 1, "company")
        directory.apply_union(session, 12, 2, "grassroots")
        for member_id in range(100, 200):
            directory.apply_member(session, member_id, f"成员{member_id}", 3,
                                   left=(member_id == 101))
        directory.apply_role(session, 100, 11, "chair", True)
        directory.apply_role(session, 101, 11, "vice_chair", True)  # has left
        directory.apply_role(session, 102, 12, "chair", True)
        directory.apply_role(session, 103, 12, "vice_chair", False)  # no longer active
        directory.apply_role(session, 104, 12, "member", True)  # not an officer role
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
    assert lookup.officers(11) == [100]  # the vice-chair has left
    assert lookup.officers(12) == [102]  # inactive and non-officer roles do not count
    assert lookup.officers(13) == []
    assert lookup.unit_name(3) == "班组"  # the tree is loaded: no point lookup needed

