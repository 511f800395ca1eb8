from deploy.demo.organization import load_demo
from services.deeds.service import DeedsService
from services.organization.service import OrganizationService
from tests.support.deeds_helpers import wait_for_directory


def test_deeds_smoke(start_service, rpc):
    start_service(OrganizationService)
    start_service(DeedsService)
    with rpc() as proxy:
        load_demo(proxy)
        wait_for_directory(proxy)
        counts = proxy.deeds.directory_status()
        assert counts["units"] == 14, counts
        deeds = proxy.deeds
        lst = deeds.create_list(level="grassroots", year=2021, unit_id=2, title="基层实事")
        item = deeds.create_item(list_id=lst["id"], title="爱心母婴室", focus_area="conditions",
                                 batch="warm_heart", owner_unit_id=3, responsible_member_id=10,
                                 planned_completion="2021-06-30", created_on="2021-01-10")
        assert item["track"] == "on_track"
        result = deeds.tick(as_of="2021-02-22")
        assert result["report_due"] == 1, result
        result = deeds.tick(as_of="2021-02-26")
        assert result["report_overdue"] == 1 and result["supervision_issued"] == 1, result
        assert deeds.get_item(item_id=item["id"])["track"] == "under_supervision"
        deeds.submit_report(item_id=item["id"], progress=30, text="进展", period="2021-02",
                            submitted_on="2021-02-27")
        assert deeds.get_item(item_id=item["id"])["track"] == "on_track"
        deeds.complete_item(item_id=item["id"], completed_on="2021-06-20", summary="建成")
        r = deeds.tick(as_of="2021-07-01")
        assert r["notice_published"] == 1, r
        notice = deeds.list_notices()[0]
        html = deeds.render_notice(notice_id=notice["id"])
        pdf = deeds.render_notice(notice_id=notice["id"], file_format="pdf")
        assert html["content_base64"] and pdf["content_base64"]
        r = deeds.tick(as_of="2021-07-09")
        assert r["notice_closed"] == 1 and r["evaluation_published"] == 1, r
        ledger = deeds.export_ledger(year=2021)
        assert ledger["rows"] == 1
