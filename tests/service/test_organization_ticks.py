"""Two years of daily ticks replayed: each term reminder exactly once, repeats change
nothing, a plain AMQP subscriber sees each event once, two replicas change no count."""

from collections import Counter
from datetime import date, timedelta

import eventlet

from deploy.demo.organization import load_demo
from gonghui.actor import Actor
from gonghui.clock import date_range
from services.organization.service import OrganizationService

START, END = date(2025, 1, 1), date(2026, 12, 31)


def expected_notices(terms):
    """Independently of the rules module: which (term, kind) fall in the replayed range."""
    expected = set()
    for term in terms:
        ends = date.fromisoformat(term["ends_on"])
        windows = {"expiring_90": (ends - timedelta(days=90), ends - timedelta(days=31)),
                   "expiring_30": (ends - timedelta(days=30), ends),
                   "expired": (ends + timedelta(days=1), date.max)}
        for kind, (first, last) in windows.items():
            if first <= END and last >= START:
                expected.add((term["id"], kind))
    return expected


def test_two_years_of_ticks_send_each_term_reminder_once(start_service, rpc, subscribe):
    start_service(OrganizationService)
    start_service(OrganizationService)  # a second replica: ticks must still count once
    expiring = subscribe("organization.events", "term_expiring")
    expired = subscribe("organization.events", "term_expired")
    with rpc() as proxy:
        load_demo(proxy)
        org = proxy.organization
        terms = [org.current_term(unit_id=u["id"]) for u in org.list_units(limit=5000)
                 if u["kind"] != "team" and u["code"] != "XNY-XMB"]
    expected = expected_notices(terms)
    assert len(expected) >= 10  # the demo's staggered terms fall due in these years
    with rpc(actor=Actor("operator", "replay")) as proxy:
        totals = Counter()
        for day in date_range(START, END):
            # Both replicas get the same day at once; the advisory lock serialises them.
            first = proxy.organization.tick.call_async(as_of=day.isoformat())
            second = proxy.organization.tick.call_async(as_of=day.isoformat())
            for reply in (first, second):
                result = reply.result()
                totals.update({k: result[k] for k in ("term_expiring", "term_expired")})
        # Replaying the whole range again emits nothing new.
        for day in date_range(START, END):
            result = proxy.organization.tick(as_of=day.isoformat())
            assert result["term_expiring"] == result["term_expired"] == 0
    n_expiring = len([k for k in expected if k[1] != "expired"])
    n_expired = len([k for k in expected if k[1] == "expired"])
    assert totals == Counter(term_expiring=n_expiring, term_expired=n_expired)
    seen = expiring.collect(n_expiring) + expired.collect(n_expired)
    eventlet.sleep(1)
    kinds = Counter()
    for message in seen:
        data = message["body"]["data"]
        kind = "expired" if message["routing_key"] == "term_expired" else (
            "expiring_90" if data["days_left"] > 30 else "expiring_30")
        kinds[(data["term_id"], kind)] += 1
        assert message["body"]["actor"] == {"kind": "system", "id": "tick"}
        assert data["recipient_member_ids"], "the union's officers are named"
    assert set(kinds) == expected
    assert set(kinds.values()) == {1}
