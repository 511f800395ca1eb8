"""The services refuse what the actor's kind may not do (defence in depth behind the
gateway's policy): a member's or an auditor's actor cannot run an office's method; a member
acts for themselves only through the methods that say so."""

import pytest

from gonghui.actor import OFFICE_KINDS, Actor
from gonghui.errors import Forbidden
from services.organization.service import OrganizationService

UNIT = {"code": "K1", "name": "测试公司", "kind": "company", "domain": "测试",
        "established_on": "2021-01-01"}


def test_office_methods_refuse_members_and_auditors(start_service, rpc):
    start_service(OrganizationService)
    for kind in ("member", "auditor"):
        with rpc(actor=Actor(kind, "E1")) as proxy, pytest.raises(Forbidden) as refused:
            proxy.organization.create_unit(**UNIT)
        assert refused.value.details == {"actor": [f"kind must be one of {list(OFFICE_KINDS)}"]}
    with rpc(actor=Actor("officer", "E1")) as proxy:
        assert proxy.organization.create_unit(**UNIT)["code"] == "K1"
    with rpc(actor=Actor("auditor", "E1")) as proxy:  # reads stay open to an auditor
        assert [u["code"] for u in proxy.organization.list_units()] == ["K1"]

