"""One definition of "owes a report this month": the Python rule and the reminder query
agree on the same cases, over the real database."""

from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.deeds import queries, rules
from services.deeds.models import DeedList, Item

PERIOD, DUE_ON = "2021-03", date(2021, 3, 25)

# (created_on, reopened_on, owes): worked out by hand from the rule's wording
CASES = [
    (date(2021, 1, 10), None, True),              # created before the period
    (date(2021, 2, 28), None, True),              # the last day before it
    (date(2021, 3, 1), None, False),              # created in the period: not yet
    (date(2021, 4, 2), None, False),              # created after it
    (date(2021, 1, 10), date(2021, 3, 20), True),  # sent back before the due day
    (date(2021, 1, 10), DUE_ON, True),            # sent back on the due day
    (date(2021, 1, 10), date(2021, 3, 26), False),  # sent back after it: nothing owed
]


@pytest.mark.parametrize(("created_on", "reopened_on", "owes"), CASES)
def test_the_rule(created_on, reopened_on, owes):
    assert rules.owes_period(created_on, PERIOD, DUE_ON, reopened_on) is owes


def test_the_query_agrees_with_the_rule(databases):
    engine = create_engine(databases["deeds"])
    with Session(engine) as session:
        deed_list = DeedList(level="grassroots", year=2021, unit_id=2, title="基层实事")
        session.add(deed_list)
        session.flush()
        items = []
        for n, (created_on, reopened_on, _) in enumerate(CASES):
            item = Item(list_id=deed_list.id, title=f"实事{n}", description="", level="grassroots",
                        focus_area="conditions", batch="warm_heart", owner_unit_id=3,
                        planned_completion=date(2021, 12, 31), status="open",
                        created_on=created_on, reopened_on=reopened_on)
            session.add(item)
            items.append(item)
        # completed items owe nothing, whatever their dates
        session.add(Item(list_id=deed_list.id, title="已完成", description="", level="grassroots",
                         focus_area="conditions", batch="warm_heart", owner_unit_id=3,
                         planned_completion=date(2021, 12, 31), status="completed",
                         created_on=date(2021, 1, 10)))
        session.flush()
        owing = {i.id for i in queries.items_owing(session, PERIOD, DUE_ON)}
        assert owing == {item.id for item, (_, _, owes) in zip(items, CASES, strict=True) if owes}
        assert owing == {item.id for item in items
                         if rules.owes_period(item.created_on, PERIOD, DUE_ON, item.reopened_on)}
    engine.dispose()
