"""Upgrading a notifications database: its own read model of the tree (``dir_*``) moves into
the kit's tables whole, and back on a downgrade."""

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from gonghui.migrations import alembic_config, migrate
from tests.conftest import PG

OLD_ROWS = (
    "INSERT INTO dir_units (unit_id, code, name, kind, parent_id, closed_on, event_at) VALUES "
    "(1, 'XNY', '新型能源公司', 'company', NULL, NULL, '2021-01-01T08:00:00+08:00'), "
    "(2, 'SMGF', '神木光伏电站', 'plant', 1, '2021-06-30', '2021-06-30T08:00:00+08:00')",
    "INSERT INTO dir_unions (union_id, unit_id, level, name, closed_on, event_at) VALUES "
    "(10, 1, 'company_union', '公司工会', NULL, '2021-01-02T08:00:00+08:00')",
    "INSERT INTO dir_members (member_id, employee_no, name, unit_id, email, mobile, wecom_id, "
    "left_on, event_at) VALUES (101, 'E101', '王主席', 1, 'w@x.cn', '13900000101', NULL, NULL, "
    "'2021-01-03T08:00:00+08:00')",
    "INSERT INTO dir_roles (member_id, union_id, unit_id, role, starts_on, ends_on) VALUES "
    "(101, 10, 1, 'chair', '2017-03-01', NULL), (101, 10, 1, 'cadre', '2016-01-01', "
    "'2016-12-31')",
)


@pytest.fixture
def database(infrastructure):
    url = f"{PG}/gonghui_test_notifications_upgrade_{os.getpid()}"
    name = url.rsplit("/", 1)[1]
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_old_read_model_moves_whole_and_asks_for_no_resync(database):
    url, engine = database

    def query(sql):
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]

    migrate("notifications", url, "0003")
    with engine.begin() as conn:
        for statement in OLD_ROWS:
            conn.execute(text(statement))
    migrate("notifications", url, "0004")
    assert query("SELECT unit_id, code, name, parent_id, closed_on::text, established_on, "
                 "info_at = name_at AND name_at = parent_at AND parent_at = closed_at, "
                 "closed_at::date::text FROM directory_units ORDER BY unit_id") == [
        (1, "XNY", "新型能源公司", None, None, None, True, "2021-01-01"),
        (2, "SMGF", "神木光伏电站", 1, "2021-06-30", None, True, "2021-06-30")]
    assert query("SELECT union_id, unit_id, level, name, stamp::date::text "
                 "FROM directory_unions") == [(10, 1, "company_union", "公司工会", "2021-01-02")]
    assert query("SELECT member_id, employee_no, name, gender, joined_on, unit_id, email, "
                 "mobile, stamp::date::text FROM directory_members") == [
        (101, "E101", "王主席", None, None, 1, "w@x.cn", "13900000101", "2021-01-03")]
    assert query("SELECT member_id, union_id, unit_id, role, starts_on::text, ends_on::text, "
                 "stamp FROM directory_roles ORDER BY starts_on") == [
        (101, 10, 1, "cadre", "2016-01-01", "2016-12-31", None),
        (101, 10, 1, "chair", "2017-03-01", None, None)]
    assert query("SELECT resync_needed FROM directory_sync") == []
    assert not query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'dir\\_%'")
    # And back: the old tables hold what they held.
    command.downgrade(alembic_config("notifications", url), "0003")
    assert query("SELECT unit_id, name, parent_id, closed_on::text, event_at::date::text "
                 "FROM dir_units ORDER BY unit_id") == [
        (1, "新型能源公司", None, None, "2021-01-01"),
        (2, "神木光伏电站", 1, "2021-06-30", "2021-06-30")]
    assert query("SELECT member_id, name, email FROM dir_members") == [(101, "王主席", "w@x.cn")]
    assert query("SELECT role, starts_on::text FROM dir_roles ORDER BY starts_on") == [
        ("cadre", "2016-01-01"), ("chair", "2017-03-01")]
    assert not query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'directory\\_%'")


def test_the_escalation_rule_changes_only_where_it_has_the_old_default(database):
    url, engine = database
    audience = "SELECT audience, description FROM rules WHERE key = 'supervision_escalated'"

    def query(sql, **params):
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else None

    old = (["escalation_chair", "recipients"],
           "Escalation: the chair of the union it is escalated to (the parent union) and the "
           "listed recipients.")
    new = (["escalated_union_officers"],
           "Escalation: the officers (chair and vice-chairs) of the union it is escalated to "
           "(the union above).")
    set_rule = ("UPDATE rules SET audience = CAST(:audience AS jsonb), description = :text "
                "WHERE key = 'supervision_escalated'")
    migrate("notifications", url, "0004")
    query(set_rule, audience='["escalation_chair", "recipients"]', text=old[1])
    migrate("notifications", url)
    assert query(audience) == [new]
    command.downgrade(alembic_config("notifications", url), "0004")
    assert query(audience) == [old]
    # An operator's own audience (and words) stay as they are.
    query(set_rule, audience='["escalation_chair", "responsible"]', text="升级：主席和责任人")
    migrate("notifications", url)
    assert query(audience) == [(["escalation_chair", "responsible"], "升级：主席和责任人")]
