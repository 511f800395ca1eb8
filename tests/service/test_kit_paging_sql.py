"""The kit's page of a SQL query and its total over the real database (the kit's audit_log
table of organization's database): the total is the filtered statement's own count, on
every page and past the end, for joins, CTEs, DISTINCT and grouping alike; nothing is
counted unless asked."""

from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.orm import Session

from gonghui.paging import count_rows, select_page
from gonghui.tables import audit_log

# 30 rows: entity ids 1..10, three actions each; a third of them by the officer E001
ROWS = [{"actor_kind": "officer", "actor_id": "E001" if n % 3 == 0 else "E002",
         "action": f"unit.step{n % 3}", "entity_type": "unit", "entity_id": str(1 + n // 3),
         "changes": {"n": n}} for n in range(30)]


def session_with_rows(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(audit_log), ROWS)
    return engine, Session(engine)


def walk(session, query, limit):
    """Every page of ``query`` at ``limit``: the rows, and each page's total."""
    found, totals, offset = [], set(), 0
    while True:
        page = select_page(session, query, limit, offset, fetch="execute")
        totals.add(page.total())
        found.extend(page)
        if len(page) < limit:
            return found, totals
        offset += limit


def test_the_total_is_the_filtered_statements_count_on_every_page(databases):
    engine, session = session_with_rows(databases["organization"])
    with session:
        mine = (select(audit_log.c.id, audit_log.c.entity_id)
                .where(audit_log.c.actor_id == "E001").order_by(audit_log.c.id))
        everything = select(audit_log.c.id).order_by(audit_log.c.id)
        for limit in (1, 3, 4, 100):
            rows, totals = walk(session, mine, limit)
            assert totals == {10} and len(rows) == 10 and len({r.id for r in rows}) == 10
        assert walk(session, everything, 7)[1] == {30}
        past = select_page(session, mine, 5, 500, fetch="execute")
        assert past == [] and past.total() == 10
        assert select_page(session, mine.where(audit_log.c.action == "none"), 5, 0).total() == 0
        # scalars (the default): one column or entity per row
        ids = select_page(session, mine.with_only_columns(audit_log.c.id), 4, 0)
        assert ids == sorted(r.id for r in walk(session, mine, 100)[0])[:4]
    engine.dispose()


def test_joins_ctes_distinct_and_grouping_count_what_the_statement_answers(databases):
    engine, session = session_with_rows(databases["organization"])
    with session:
        other = audit_log.alias("other")
        joined = (select(audit_log.c.id, other.c.id.label("other_id"))
                  .join(other, other.c.entity_id == audit_log.c.entity_id)
                  .where(audit_log.c.actor_id == "E001").order_by(audit_log.c.id, other.c.id))
        assert count_rows(session, joined) == 30  # 10 rows, each joined to its entity's 3
        firsts = (select(audit_log.c.entity_id, func.min(audit_log.c.id).label("first"))
                  .group_by(audit_log.c.entity_id).cte("firsts"))
        via_cte = (select(audit_log.c.id).join(firsts, firsts.c.first == audit_log.c.id)
                   .order_by(audit_log.c.id))
        assert count_rows(session, via_cte) == 10
        distinct = (select(audit_log.c.actor_id).distinct()
                    .order_by(audit_log.c.actor_id))
        assert count_rows(session, distinct) == 2
        grouped = (select(audit_log.c.action, func.count()).group_by(audit_log.c.action)
                   .order_by(audit_log.c.action))
        page = select_page(session, grouped, 2, 0, fetch="execute")
        assert len(page) == 2 and page.total() == 3
        for query in (joined, via_cte, distinct, grouped):
            assert count_rows(session, query) == len(session.execute(query).all())
    engine.dispose()


def test_nothing_is_counted_unless_asked(databases):
    engine, session = session_with_rows(databases["organization"])
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))
    with session:
        page = select_page(session, select(audit_log.c.id).order_by(audit_log.c.id), 5, 0)
        assert len(page) == 5 and len(statements) == 1
        assert "count(" not in statements[0].lower()
        assert page.total() == 30 and "count(" in statements[-1].lower()
    engine.dispose()
