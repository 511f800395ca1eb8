"""The demo of the article's "552" programme, loaded through the real services."""

from collections import Counter

import pytest
from nameko.testing.services import entrypoint_hook

from deploy.demo import deeds as demo_deeds
from services.deeds import rules
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import load_union


@pytest.fixture
def demo(start_service, rpc):
    start_service(OrganizationService)
    deeds = start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        yield proxy, deeds


@pytest.fixture
def proxy(demo):
    return demo[0]


def test_demo_follows_the_article(proxy):
    result = demo_deeds.load_demo(proxy)
    assert result["created"] and result["items"] == 108
    ledger = proxy.deeds.ledger(year=2021, limit=5000)
    levels = Counter(row["level"] for row in ledger)
    # the article's 34 and 74, and the item grown from the accepted golden idea (grassroots)
    assert levels == {"party_committee": 34, "grassroots": 75}
    assert sum(1 for row in ledger if row["idea_id"]) == 1
    # printed as the office reads it: the party committee's list first, then unit by unit
    assert [row["level"] for row in ledger] == ["party_committee"] * 34 + ["grassroots"] * 75
    grassroots_units = [row["owner_unit_id"] for row in ledger[34:]]
    assert grassroots_units == sorted(grassroots_units)
    assert set(Counter(row["batch"] for row in ledger)) == {
        "strengthening", "talent", "warm_heart", "care", "foundation"}
    assert len(set(row["focus_area"] for row in ledger)) == 5
    tracks = Counter(row["track"] for row in ledger)
    assert sum(tracks.values()) == len(ledger)
    assert set(tracks) == set(rules.TRACKS), tracks  # every track of the article is shown
    non_conforming = [row for row in ledger if row["track"] == "non_conforming"]
    assert len(non_conforming) == 2 and all(row["feedback"] for row in non_conforming)
    # one by a member's objection, upheld; one found on review
    assert sorted(row["feedback"][:4] for row in non_conforming) == ["经核实异", "验收发现"]
    assert proxy.deeds.export_ledger(year=2021)["objections"] == 1
    causes = Counter(o["cause"] for o in proxy.deeds.list_supervision(limit=5000))
    assert causes["report"] > 0 and causes["completion"] > 0 and causes["rework"] == 1, causes
    assert len(proxy.deeds.list_notices()) == 2  # Q1 and Q2 of 2021 by the article's date
    assert proxy.deeds.get_evaluation(year=2021, quarter=2)["ranking"]
    ideas = proxy.deeds.list_ideas()
    assert {i["status"] for i in ideas} == {"accepted", "declined"}
    ranked = proxy.deeds.compare_commitments(year=2021)
    assert [c["rank"] for c in ranked] == [1, 2, 3, 4, 5]
    assert Counter(c["owner_kind"] for c in ranked) == {"unit": 3, "member": 2}
    assert demo_deeds.load_demo(proxy) == {"created": False}


def test_the_demo_stack_stays_at_the_articles_date(demo, monkeypatch, subscribe):
    """The demo stack's business date is the article's (GONGHUI_TODAY, set by `gonghui up`):
    its hourly timer, however often it fires, changes nothing in the demo."""
    proxy, deeds = demo
    demo_deeds.load_demo(proxy)
    before = proxy.deeds.ledger(year=2021, limit=5000)
    orders = proxy.deeds.list_supervision(limit=5000)
    events = subscribe("deeds.events")
    monkeypatch.setenv("GONGHUI_TODAY", demo_deeds.ARTICLE_DATE.isoformat())
    with entrypoint_hook(deeds, "daily_tick") as daily_tick:
        daily_tick()
        daily_tick()
    assert proxy.deeds.ledger(year=2021, limit=5000) == before
    assert proxy.deeds.list_supervision(limit=5000) == orders
    assert [m["routing_key"] for m in events.collect(0, timeout=1)] == []
