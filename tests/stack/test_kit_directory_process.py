"""A consumer of organization's events in its own process, as an operator runs it: deeds
(`nameko run`) keeps its read model of the tree from organization's events, validates each
against organization's contract, and dead-letters one that breaks it, changing nothing."""

import time
from datetime import date

from kombu import Connection

from gonghui.actor import Actor
from gonghui.amqp import ConfirmingPublisher
from gonghui.events import build_envelope
from services.organization import events as org_events
from services.organization.service import OrganizationService
from tests.support.processes import ServiceProcess


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_consumer_in_its_own_process_validates_and_dead_letters(
        amqp_uri, databases, start_service, rpc):
    start_service(OrganizationService)
    deeds = ServiceProcess("services.deeds.service", amqp_uri, databases["deeds"],
                           EVENT_RETRY_BASE_SECONDS=0.05)
    deeds.start()
    try:
        with rpc() as proxy:
            unit = proxy.organization.create_unit(code="P", name="进程测试公司", kind="company")
            member = proxy.organization.add_member(employee_no="P001", name="张伟",
                                                   gender="male", unit_id=unit["id"])
            wait_for(lambda: proxy.deeds.directory_status()["members"] == 1, 30,
                     "deeds to apply member_joined")

            # As organization would publish it, but its data breaks the contract: a member
            # with no employee number and a unit id that is not a number.
            good = build_envelope(org_events.MEMBER_JOINED, {
                "unit_id": unit["id"], "unit_name": unit["name"], "member_id": 999,
                "employee_no": "P999", "name": "坏事件", "gender": "female",
                "joined_on": date(2026, 1, 5)}, Actor("system", "test"))
            bad = {**good, "data": {**good["data"], "unit_id": "three"}}
            del bad["data"]["employee_no"]
            publisher = ConfirmingPublisher(amqp_uri)
            try:
                publisher.publish("organization.events", "member_joined", bad,
                                  {"message_id": bad["id"]})
            finally:
                publisher.close()

            dlq = "evt-organization-member_joined--deeds.on_member_joined.dlq"
            with Connection(amqp_uri) as conn:
                parked = conn.SimpleQueue(dlq)

                def dead_lettered():
                    try:
                        return parked.get(timeout=0.5)
                    except parked.Empty:
                        return None

                message = wait_for(dead_lettered, 30, "the malformed event in the DLQ")
                assert message.payload["id"] == bad["id"]
                error = message.headers["x-gonghui-error"]
                assert "invalid organization.member_joined data" in error
                assert "employee_no" in error and "unit_id" in error
                assert message.headers["x-gonghui-attempts"] == 1  # poison: no retries
                message.ack()
                parked.close()
            status = proxy.deeds.directory_status()
            assert status["members"] == 1 and status["current_members"] == 1
            assert member["id"] != 999
    finally:
        deeds.stop()
