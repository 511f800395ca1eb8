from services.organization.service import OrganizationService


def test_create_unit_emits_event(start_service, rpc, subscribe):
    sub = subscribe("organization.events")
    start_service(OrganizationService)
    with rpc() as proxy:
        unit = proxy.organization.create_unit(code="C01", name="新型能源公司", kind="company")
        assert unit["id"] == 1
    got = sub.collect(1)
    assert [m["body"]["type"] for m in got] == ["organization.unit_created"]
