"""A quarterly notice opened late (the service was down, or its first tick of the quarter
came late) still gives members its full window of working days from the day it opens, and
the quarter's evaluation waits for that window to close."""

from datetime import date

from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import load_union


def test_a_late_notice_keeps_its_full_window(start_service, rpc, subscribe):
    start_service(OrganizationService)
    start_service(DeedsService)
    published = subscribe("deeds.events", "notice_published")
    with rpc() as proxy:
        load_union(proxy)
        deeds = proxy.deeds
        lst = deeds.create_list(level="grassroots", year=2021, unit_id=2, title="基层实事")
        item = deeds.create_item(list_id=lst["id"], title="爱心母婴室", focus_area="conditions",
                                 batch="warm_heart", owner_unit_id=3, responsible_member_id=10,
                                 planned_completion="2021-06-30", created_on="2021-06-01")
        deeds.complete_item(item_id=item["id"], completed_on="2021-06-20", summary="建成")
        # Due to open on 1 July (5 working days, to 7 July); the first tick comes on 20 July.
        assert deeds.tick(as_of="2021-07-20")["notice_published"] == 1
        (notice,) = deeds.list_notices()
        assert (notice["opens_on"], notice["closes_on"]) == ("2021-07-20", "2021-07-26")
        assert published.collect(1)[0]["body"]["data"]["closes_on"] == "2021-07-26"
        # the last day of the window still takes an objection
        deeds.raise_objection(notice_id=notice["id"], item_id=item["id"], member_id=11,
                              reason="公示内容与实际不符", raised_on="2021-07-26")
        assert deeds.tick(as_of="2021-07-26")["evaluation_published"] == 0
        after = deeds.tick(as_of="2021-07-27")
        assert after["notice_closed"] == 1 and after["evaluation_published"] == 1
        assert date.fromisoformat(deeds.get_notice(notice_id=notice["id"])["closes_on"]) \
            == date(2021, 7, 26)
