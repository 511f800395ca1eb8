"""The hourly timer catches up every day since the last completed tick (bounded, idempotent),
so downtime skips no day's reminders; a fixed business date (GONGHUI_TODAY) holds a stack at
one day."""

from datetime import date

from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, select

from deploy.demo.organization import load_demo
from gonghui.clock import today
from gonghui.daily import days_to_run
from gonghui.tables import tick_progress
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import wait_for_directory


def test_days_to_run():
    d = date(2021, 3, 19)
    assert days_to_run(None, d) == [d]
    assert days_to_run(d, d) == [d]
    assert days_to_run(date(2021, 3, 25), d) == []  # replayed ahead by an operator
    assert days_to_run(date(2021, 3, 16), d) == [date(2021, 3, 17), date(2021, 3, 18), d]
    assert days_to_run(date(2021, 1, 1), d, limit=2) == [date(2021, 1, 2), date(2021, 1, 3)]


def test_a_fixed_business_date(monkeypatch):
    monkeypatch.setenv("GONGHUI_TODAY", "2021-08-30")
    assert today() == date(2021, 8, 30)
    monkeypatch.delenv("GONGHUI_TODAY")
    assert today() != date(2021, 8, 30)


def progress(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(tick_progress.c.name, tick_progress.c.completed_on)).all())
    engine.dispose()
    return rows


def test_the_timer_catches_up_the_days_it_missed(start_service, rpc, subscribe, databases,
                                                  monkeypatch):
    start_service(OrganizationService)
    deeds = start_service(DeedsService, TICK_CATCH_UP_DAYS=5)
    due = subscribe("deeds.events", "report_due")
    overdue = subscribe("deeds.events", "report_overdue")
    with rpc() as proxy:
        load_demo(proxy)
        wait_for_directory(proxy)
        lst = proxy.deeds.create_list(level="grassroots", year=2021, unit_id=2, title="基层实事")
        proxy.deeds.create_item(list_id=lst["id"], title="爱心母婴室", focus_area="conditions",
                                batch="warm_heart", owner_unit_id=3, responsible_member_id=10,
                                planned_completion="2021-06-30", created_on="2021-01-10")
        # The last day completed before the stack went down: before the reminder window of
        # the February report (due 2021-02-25, reminded from 2021-02-22).
        assert proxy.deeds.tick(as_of="2021-02-19")["report_due"] == 0
    assert progress(databases["deeds"])["deeds.tick"] == date(2021, 2, 19)

    # Back up on 2021-02-26: a timer that jumped to today would only see the overdue report.
    monkeypatch.setenv("GONGHUI_TODAY", "2021-02-26")
    with entrypoint_hook(deeds, "daily_tick") as daily_tick:
        daily_tick()  # at most 5 days a firing: 02-20 … 02-24
    assert progress(databases["deeds"])["deeds.tick"] == date(2021, 2, 24)
    assert len(due.collect(1)) == 1
    with entrypoint_hook(deeds, "daily_tick") as daily_tick:
        daily_tick()  # 02-25, 02-26
        daily_tick()  # today again: nothing new
    assert progress(databases["deeds"])["deeds.tick"] == date(2021, 2, 26)
    (message,) = overdue.collect(1)
    assert message["body"]["data"]["period"] == "2021-02"
    assert due.collect(0, timeout=1) == []

    # A day replayed ahead by an operator: the timer leaves it alone.
    with rpc() as proxy:
        proxy.deeds.tick(as_of="2021-03-10")
    with entrypoint_hook(deeds, "daily_tick") as daily_tick:
        daily_tick()
    assert progress(databases["deeds"])["deeds.tick"] == date(2021, 3, 10)
