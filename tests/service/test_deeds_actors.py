"""Deeds takes the member from the actor the gateway authenticated, not from the arguments:
a member's actor (``member:<employee number>``) votes, objects and submits ideas only as
that member (refused, nothing written, otherwise); the offices' methods refuse a member's
actor altogether."""

import pytest

from gonghui.actor import Actor
from gonghui.errors import Conflict, Forbidden
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.bad_input import database_snapshot
from tests.support.deeds_helpers import load_union


def snapshot(url):
    return database_snapshot(url, votes="SELECT item_id, member_id, score FROM "
                             "satisfaction_votes ORDER BY id", objections="SELECT item_id, "
                             "member_id FROM objections ORDER BY id", ideas="SELECT "
                             "submitter_member_id, submitter_unit_id FROM ideas ORDER BY id",
                             reports="SELECT item_id, period FROM reports ORDER BY id")


@pytest.fixture
def world(start_service, rpc, databases, monkeypatch):
    """An item completed in the second quarter of 2021, on the notice open from 1 July, and
    two plain members of the same unit; deeds' business date is 2 July 2021."""
    monkeypatch.setenv("GONGHUI_TODAY", "2021-07-02")
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_union(proxy)
        units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
        jjfd = units["XNY-JJFD"]
        # the demo's officers are a unit's first five members: the last two hold no office
        plain = sorted(proxy.organization.list_members(unit_id=jjfd, subtree=False, limit=50),
                       key=lambda m: m["employee_no"])[-2:]
        deeds = proxy.deeds
        party = deeds.create_list(level="party_committee", year=2021, unit_id=units["XNY"],
                                  title="党委实事清单")
        done, open_item = (deeds.create_item(
            list_id=party["id"], title=title, focus_area="conditions", batch="warm_heart",
            owner_unit_id=jjfd, planned_completion="2021-11-30", created_on="2021-01-10")
            for title in ("倒班宿舍热水改造", "职工食堂提质"))
        deeds.complete_item(item_id=done["id"], completed_on="2021-06-10", summary="完工")
        deeds.tick(as_of="2021-07-01")
        notice = deeds.list_notices()[0]
        yield {"proxy": proxy, "a": plain[1], "b": plain[0], "unit": jjfd,
               "other_unit": units["XNY-SMGF"], "item": done, "open_item": open_item,
               "notice": notice, "url": databases["deeds"]}


def test_a_member_votes_objects_and_proposes_only_as_themselves(world, rpc):
    a, b, item, notice = world["a"], world["b"], world["item"], world["notice"]
    before = snapshot(world["url"])
    idea = {"title": "夜班热餐", "description": "一线倒班职工夜班无热餐",
            "focus_area": "conditions", "submitted_on": "2021-07-02"}
    with rpc(actor=Actor("member", a["employee_no"])) as as_a:
        deeds = as_a.deeds
        refused = [
            lambda: deeds.vote_satisfaction(item_id=item["id"], member_id=b["id"], score=1,
                                            voted_on="2021-07-02"),
            lambda: deeds.raise_objection(notice_id=notice["id"], item_id=item["id"],
                                          member_id=b["id"], reason="不属实",
                                          raised_on="2021-07-02"),
            lambda: deeds.submit_idea(**idea, submitter_member_id=b["id"]),
            lambda: deeds.submit_idea(**idea),  # an idea of no member: not a member's to make
            lambda: deeds.submit_idea(**idea, submitter_member_id=a["id"],
                                      submitter_unit_id=world["other_unit"]),
            # As themselves, but dated by themselves: a member's act is dated today.
            lambda: deeds.vote_satisfaction(item_id=item["id"], member_id=a["id"], score=1,
                                            voted_on="2021-06-30"),
            lambda: deeds.raise_objection(notice_id=notice["id"], item_id=item["id"],
                                          member_id=a["id"], reason="不属实",
                                          raised_on="2021-07-01"),
            lambda: deeds.submit_idea(**{**idea, "submitted_on": "2021-03-31"},
                                      submitter_member_id=a["id"]),
        ]
        for call in refused:
            with pytest.raises(Forbidden):
                call()
        assert snapshot(world["url"]) == before
        # As themselves: one vote, counted once; an objection; an idea from their unit.
        assert deeds.vote_satisfaction(item_id=item["id"], member_id=a["id"], score=4,
                                       voted_on="2021-07-02")["member_id"] == a["id"]
        with pytest.raises(Conflict):
            deeds.vote_satisfaction(item_id=item["id"], member_id=a["id"], score=5,
                                    voted_on="2021-07-02")
        objection = deeds.raise_objection(notice_id=notice["id"], item_id=item["id"],
                                          member_id=a["id"], reason="二号楼热水仍不稳定")
        assert objection["raised_on"] == "2021-07-02"  # no date given: today
        assert (objection["member_id"], objection["owner_unit_id"]) == (a["id"], world["unit"])
        mine = deeds.submit_idea(**idea, submitter_member_id=a["id"])
        assert (mine["submitter_member_id"], mine["submitter_unit_id"]) == (a["id"],
                                                                           world["unit"])
        # The offices' methods refuse a member's actor.
        for call in (lambda: deeds.submit_report(item_id=world["open_item"]["id"], progress=50,
                                                 text="进展", period="2021-07",
                                                 submitted_on="2021-07-20"),
                     lambda: deeds.review_objection(objection_id=objection["id"], upheld=True,
                                                    note="属实", new_deadline="2021-09-30")):
            with pytest.raises(Forbidden):
                call()
    after = snapshot(world["url"])
    assert after["votes"] == [(item["id"], a["id"], 4)]
    assert after["reports"] == before["reports"]
    # An officer may still record a member's vote or objection (a paper form, say), of an
    # earlier day.
    with rpc() as officer:
        officer.deeds.vote_satisfaction(item_id=item["id"], member_id=b["id"], score=3,
                                        voted_on="2021-07-01")
    assert len(snapshot(world["url"])["votes"]) == 2
