"""A year of the deed cycle replayed day by day for the demo programme, with a scripted
pattern of reports: the exact numbers of every reminder, supervision order, escalation,
notice and evaluation, each seen once by a plain AMQP subscriber; replaying again emits
nothing; two deeds replicas at once change no count; the track invariant holds throughout."""

from collections import Counter
from datetime import date, timedelta

import eventlet
import pytest

from deploy.demo import deeds as demo_deeds
from gonghui.calendar import WorkingCalendar
from services.deeds import rules
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import load_union

START, END = date(2021, 1, 20), date(2022, 1, 31)
CAL = WorkingCalendar()
SETTINGS = rules.Settings()


def months(start, end):
    day = date(start.year, start.month, 1)
    while day <= end:
        yield f"{day.year:04d}-{day.month:02d}"
        day = (day + timedelta(days=32)).replace(day=1)


def escalations(issued_on, chain_length):
    """How often an order issued on ``issued_on`` and never closed escalates by END: once
    each time its deadline passes, up the union chain."""
    count = 0
    deadline = CAL.add_working_days(issued_on, SETTINGS.supervision_working_days)
    for _ in range(1, chain_length):
        if deadline + timedelta(days=1) > END:
            break
        count += 1
        deadline = CAL.add_working_days(deadline + timedelta(days=1),
                                        SETTINGS.supervision_working_days)
    return count


def expected_counts(items, chain_lengths):
    """Worked out from the script alone: when each item reports, completes, or never does."""
    expected = Counter()
    for item, how in items:
        completes = date.fromisoformat(item["planned_completion"])
        if how == "on_time_completes_early":
            completes -= timedelta(days=40)
        if how == "never":
            completes = date.max
        for period in months(START, END):
            first = date(int(period[:4]), int(period[5:]), 1)
            if first <= date.fromisoformat(item["created_on"]):
                continue
            last = date(first.year, first.month, 25)
            due = CAL.working_day_on_or_before(last)
            remind = CAL.add_working_days(due, -SETTINGS.due_notice_working_days)
            # the day's completion comes before the day's tick
            if START <= remind <= END and completes > remind:
                expected["report_due"] += 1
            overdue_day = due + timedelta(days=1)
            if how in ("late", "never") and completes > overdue_day and overdue_day <= END:
                expected["report_overdue"] += 1
                expected["supervision_issued"] += 1
                if how == "never":
                    expected["supervision_escalated"] += escalations(
                        overdue_day, chain_lengths[item["owner_unit_id"]])
        # an item never completed is overdue the day after its planned completion too
        past_planned = date.fromisoformat(item["planned_completion"]) + timedelta(days=1)
        if how == "never" and START <= past_planned <= END:
            expected["supervision_issued"] += 1
            expected["supervision_escalated"] += escalations(
                past_planned, chain_lengths[item["owner_unit_id"]])
    completed_quarters = set()
    for item, how in items:
        if how == "never":
            continue
        completes = date.fromisoformat(item["planned_completion"])
        if how == "on_time_completes_early":
            completes -= timedelta(days=40)
        if completes <= date(2021, 12, 31):
            completed_quarters.add(rules.quarter_of(completes))
    expected["notice_published"] = expected["notice_closed"] = len(completed_quarters)
    expected["evaluation_published"] = 4
    return expected


@pytest.fixture
def programme(start_service, rpc, subscribe):
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(DeedsService)  # two replicas: calls and ticks land on either
    sub = subscribe("deeds.events")
    with rpc() as proxy:
        load_union(proxy)
        items = demo_deeds.load_items(proxy)
        yield proxy, items, sub


def test_a_year_replayed_gives_exact_counts_once(programme):
    proxy, items, sub = programme
    chains = {u["id"]: len([a for a in [u] + proxy.organization.ancestors(unit_id=u["id"])
                            if a["kind"] != "department"])
              for u in proxy.organization.list_units(limit=5000)}
    expected = expected_counts(items, chains)
    assert all(expected.values()), expected  # every kind of event really happens
    assert expected["supervision_escalated"] > expected["report_overdue"] / 10
    plan = demo_deeds.schedule(items, START, END)
    totals = Counter()
    day = START
    while day <= END:
        for action in plan.get(day, []):
            item = action[1]
            if action[0] == "report":
                proxy.deeds.submit_report(item_id=item["id"], progress=50, text="进展",
                                          period=action[2], submitted_on=day.isoformat())
            else:
                proxy.deeds.complete_item(item_id=item["id"], completed_on=day.isoformat(),
                                          summary="办结")
        # Both replicas are asked for the same day at once; the work is done once.
        replies = [proxy.deeds.tick.call_async(as_of=day.isoformat()) for _ in range(2)]
        for reply in replies:
            totals.update({k: v for k, v in reply.result().items() if isinstance(v, int)})
        if day.day == 28:
            check_track_invariant(proxy)
        day += timedelta(days=1)
    assert {k: totals[k] for k in expected} == dict(expected)
    # Replaying the whole year again changes nothing.
    day = START
    while day <= END:
        again = proxy.deeds.tick(as_of=day.isoformat())
        assert not any(v for v in again.values() if isinstance(v, int)), (day, again)
        day += timedelta(days=7) if day.day < 20 else timedelta(days=1)
    seen = sub.collect(sum(expected.values()) + 2000, timeout=20)
    eventlet.sleep(1)
    by_type = Counter(m["body"]["type"].split(".", 1)[1] for m in seen)
    ids = [m["body"]["id"] for m in seen]
    assert len(ids) == len(set(ids)), "an event was published twice"
    for kind, count in expected.items():
        assert by_type[kind] == count, kind


def check_track_invariant(proxy):
    ledger = proxy.deeds.ledger(limit=5000)
    open_orders = {o["item_id"] for o in proxy.deeds.list_supervision(status="open",
                                                                      limit=5000)}
    for row in ledger:
        assert row["track"] in rules.TRACKS
        expected = rules.track(row["status"], row["id"] in open_orders)
        assert row["track"] == expected, row
    tracks = Counter(row["track"] for row in ledger)
    assert sum(tracks.values()) == len(ledger)
    # The database's track filter and paging agree with the rows' own tracks.
    for name in rules.TRACKS:
        assert proxy.deeds.ledger(track=name, limit=5000) == [
            row for row in ledger if row["track"] == name], name
    pages = [proxy.deeds.ledger(limit=40, offset=offset)
             for offset in range(0, len(ledger) + 40, 40)]
    assert [row for page in pages for row in page] == ledger
