"""The demo of the article's "552" programme, loaded through the real services."""

from collections import Counter

import pytest

from deploy import demo_deeds
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.deeds_helpers import load_union


@pytest.fixture
def proxy(start_service, rpc):
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        yield proxy


def test_demo_follows_the_article(proxy):
    result = demo_deeds.load_demo(proxy)
    assert result["created"] and result["items"] == 108
    ledger = proxy.deeds.ledger(year=2021, limit=5000)
    levels = Counter(row["level"] for row in ledger)
    assert levels == {"party_committee": 35, "grassroots": 74}  # 34 + the accepted idea
    # printed as the office reads it: the party committee's list first, then unit by unit
    assert [row["level"] for row in ledger] == ["party_committee"] * 35 + ["grassroots"] * 74
    grassroots_units = [row["owner_unit_id"] for row in ledger[35:]]
    assert grassroots_units == sorted(grassroots_units)
    assert set(Counter(row["batch"] for row in ledger)) == {
        "strengthening", "talent", "warm_heart", "care", "foundation"}
    assert len(set(row["focus_area"] for row in ledger)) == 5
    tracks = Counter(row["track"] for row in ledger)
    assert sum(tracks.values()) == len(ledger)
    assert tracks["under_supervision"] > 0 and tracks["publicly_noticed"] > 0
    assert len(proxy.deeds.list_notices()) == 2  # Q1 and Q2 of 2021 by the article's date
    assert proxy.deeds.get_evaluation(year=2021, quarter=2)["ranking"]
    ideas = proxy.deeds.list_ideas()
    assert {i["status"] for i in ideas} == {"accepted", "declined"}
    ranked = proxy.deeds.compare_commitments(year=2021)
    assert [c["rank"] for c in ranked] == [1, 2, 3]
    assert demo_deeds.load_demo(proxy) == {"created": False}
