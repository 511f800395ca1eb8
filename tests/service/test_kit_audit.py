"""The audit trail is readable in every service: ``audit_history(entity_type, entity_id,
limit, offset)``, written once in the kit and inherited, gives an entity's history (who,
when, what changed) newest first and paged; marking the inbox read and rebuilding a read
model of the tree leave their rows too. Over the real broker and databases."""

from datetime import datetime

import pytest

from gonghui.actor import Actor
from gonghui.audit import AuditEntrypoints
from gonghui.errors import ValidationError
from services.activities.service import ActivitiesService
from services.deeds.service import DeedsService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.conftest import OFFICER
from tests.support.deeds_helpers import wait_for_directory
from tests.support.notifications import wait_for
from tests.support.small_tree import build_tree, inbox, wait_for_notifications_directory

SERVICES = (OrganizationService, DeedsService, NotificationsService, ActivitiesService)
ADMIN = Actor("admin", "A0002")


def test_every_service_inherits_the_one_audit_history():
    for service_cls in SERVICES:
        assert service_cls.audit_history is AuditEntrypoints.audit_history, service_cls.name
        assert "audit_history" not in vars(service_cls)


def test_a_units_history_shows_create_and_rename_newest_first_and_pages(start_service, rpc):
    start_service(OrganizationService)
    with rpc() as proxy:
        org = proxy.organization
        unit = org.create_unit(code="XNY", name="新能源公司", kind="company")
        other = org.create_unit(code="SMGF", name="神木光伏电站", kind="plant",
                                parent_id=unit["id"])
    with rpc(actor=ADMIN) as proxy:
        proxy.organization.rename_unit(unit_id=unit["id"], name="陕煤新型能源公司")
        org = proxy.organization
        history = org.audit_history(entity_type="unit", entity_id=unit["id"])
        assert (history["entity_type"], history["entity_id"], history["total"]) == (
            "unit", str(unit["id"]), 2)
        renamed, created = history["entries"]
        assert renamed["action"] == "organization.unit_renamed"
        assert renamed["actor"] == {"kind": "admin", "id": "A0002"}
        assert renamed["changes"] == {"name": ["新能源公司", "陕煤新型能源公司"]}
        assert created["action"] == "organization.unit_created"
        assert created["actor"] == {"kind": OFFICER.kind, "id": OFFICER.id}
        assert created["changes"]["unit_name"] == "新能源公司"
        assert created["changes"]["code"] == "XNY" and created["changes"]["kind"] == "company"
        assert renamed["event_id"] and created["event_id"] and renamed["id"] > created["id"]
        assert (datetime.fromisoformat(renamed["occurred_at"])
                >= datetime.fromisoformat(created["occurred_at"]))

        # Paged: one at a time, newest first; past the end, nothing (the total stays).
        def page(limit, offset):
            found = org.audit_history("unit", str(unit["id"]), limit, offset)  # positional
            return found["total"], [e["action"] for e in found["entries"]]

        assert page(1, 0) == (2, ["organization.unit_renamed"])
        assert page(1, 1) == (2, ["organization.unit_created"])
        assert page(5, 2) == (2, [])
        # Another entity's history is its own; an unknown one is empty, not an error.
        assert [e["action"] for e in org.audit_history(
            entity_type="unit", entity_id=other["id"])["entries"]] == [
            "organization.unit_created"]
        assert org.audit_history(entity_type="unit", entity_id=99999)["entries"] == []
        for bad, field in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                           ({"offset": -1}, "offset"), ({"entity_type": "Unit"}, "entity_type"),
                           ({"entity_id": ""}, "entity_id"), ({"entity_id": True}, "entity_id"),
                           ({"entity_id": "x" * 61}, "entity_id")):
            with pytest.raises(ValidationError) as info:
                org.audit_history(**{"entity_type": "unit", "entity_id": unit["id"], **bad})
            assert field in info.value.fields


def test_mark_read_and_every_resync_leave_an_audit_row(start_service, rpc,
                                                        notifications_config):  # noqa: F811
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(NotificationsService, **notifications_config)
    start_service(ActivitiesService)
    with rpc() as proxy:
        units, people = build_tree(proxy.organization)
        wait_for_directory(proxy)
        notif = proxy.notifications
        wait_for_notifications_directory(notif)
        # Two notices for a member: a regulation issued to the plant (every member sees it)
        # and another one.
        for title in ("职工休息室管理办法", "倒班宿舍管理办法"):
            regulation = proxy.organization.draft_regulation(
                title=title, category="management_rule", issuing_unit_id=units["SMGF"],
                body="……")
            proxy.organization.issue_regulation(regulation_id=regulation["id"],
                                                effective_on="2021-05-01")
        member = people["zhao"]
        employee_no = proxy.organization.get_member(member_id=member)["employee_no"]
        items = wait_for(lambda: len(inbox(notif, member, "organization.regulation_issued"))
                         == 2 and inbox(notif, member, "organization.regulation_issued"), 20,
                         "the member's two notices")
    as_member = Actor("member", employee_no)  # a member's actor is their employee number
    with rpc(actor=as_member) as proxy:
        notif = proxy.notifications
        assert notif.mark_read(member_id=member, item_ids=[items[1]["id"]])["marked"] == 1
        assert notif.mark_read(member_id=member, all=True)["marked"] == 1
        history = notif.audit_history(entity_type="inbox", entity_id=member)
        assert history["total"] == 2
        assert [(e["action"], e["actor"], e["changes"]) for e in history["entries"]] == [
            ("notifications.inbox_read", as_member.as_dict(),
             {"item_ids": [items[0]["id"]], "all": True}),
            ("notifications.inbox_read", as_member.as_dict(),
             {"item_ids": [items[1]["id"]], "all": False})]
        assert [e["event_id"] for e in history["entries"]] == [None, None]  # no event

    operator = Actor("operator", "ops1")
    with rpc(actor=operator) as proxy:
        for service in ("deeds", "notifications", "activities"):
            getattr(proxy, service).resync_directory()
            [entry] = getattr(proxy, service).audit_history(
                entity_type="directory", entity_id="organization")["entries"]
            assert entry["action"] == f"{service}.directory_resynced", service
            assert entry["actor"] == operator.as_dict()
            assert entry["changes"]["members"] == len(people), service
