"""A small service used by the kit's tests: it consumes organization events and test
events through the shared kit, as the real consumers (deeds, notifications) will."""

from collections import Counter

from marshmallow import Schema, fields
from sqlalchemy import insert, text

from gonghui.entrypoints import event_handler, rpc
from gonghui.events import EventType
from gonghui.rpc_client import ServiceRpc
from gonghui.service import ServiceBase
from gonghui.tables import audit_log
from services.organization import events as org_events


class FlakyData(Schema):
    fail_times = fields.Integer(required=True)


# A test producer's contract: events that make the probe's handler fail N times. Not put in
# the catalog (``event_type``), which the published documents are generated from.
FLAKY = EventType("testsource", "flaky", FlakyData, "A test event: fail this many times.")

# Attempts per event id, to script handlers that fail a given number of times.
ATTEMPTS = Counter()


class ProbeService(ServiceBase):
    name = "probe"
    itself = ServiceRpc("probe")
    organization = ServiceRpc("organization")

    def _record(self, event, action):
        self.db.execute(insert(audit_log).values(
            actor_kind="service", actor_id="probe", action=action,
            entity_type=event.type, entity_id=str(event.id), changes={"data": str(event.data)}))

    @event_handler(org_events.UNIT_CREATED)
    def on_unit_created(self, event):
        self._record(event, "probe.seen")

    @event_handler(FLAKY)
    def on_flaky(self, event):
        ATTEMPTS[event.id] += 1
        if ATTEMPTS[event.id] <= event.data["fail_times"]:
            raise RuntimeError(f"scripted failure {ATTEMPTS[event.id]}")
        self._record(event, "probe.flaky_handled")

    @rpc()
    def sleep(self):
        """Holds a database connection for 0.2 s of server-side sleep."""
        self.db.execute(text("SELECT pg_sleep(0.2)"))
        return "slept"

    @rpc()
    def ask_slow_self(self):
        """Calls its own 0.2 s ``sleep``: with a shorter RPC_TIMEOUT it must time out."""
        return self.itself.sleep()

    @rpc()
    def organization_health(self):
        return self.organization.health()["status"]
