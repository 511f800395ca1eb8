"""Facilities: a unit's sports venues, staff libraries (职工书屋), reading corners (读书角) and
mobile bookshelves (流动书架), open from a day until they close.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)`` and ``work.actor()``.
"""

from gonghui import directory
from gonghui.errors import Conflict, get_or_not_found
from services.activities import events, payloads, queries, rules, tree
from services.activities.models import Facility


def open_on(session, facility_id, day):
    """The facility an activity or a schedule names, open on ``day``; None for None."""
    if facility_id is None:
        return None
    facility = get_or_not_found(session, Facility, facility_id, "facility")
    if not rules.active_on(facility.opened_on, facility.closed_on, day):
        raise Conflict(f"facility {facility_id} is not open on {day}",
                       {"facility_id": ["not open that day"]})
    return facility


def open_facility(work, unit_id, kind, name, location, capacity, opened_on):
    tree.open_unit(work.db, unit_id, opened_on)
    facility = Facility(unit_id=unit_id, kind=kind, name=name, location=location,
                        capacity=capacity, opened_on=opened_on, status="open")
    work.db.add(facility)
    work.db.flush()
    work.emit(events.FACILITY_OPENED, payloads.facility_data(work.db, facility),
              ("facility", facility.id))
    return facility


def close_facility(work, facility_id, closed_on, reason):
    facility = get_or_not_found(work.db, Facility, facility_id, "facility")
    rules.check_facility_step(facility.status, "close")
    if closed_on < facility.opened_on:
        raise Conflict("a facility cannot close before it opened",
                       {"closed_on": ["before opened_on"]})
    facility.status, facility.closed_on, facility.closing_reason = "closed", closed_on, reason
    work.emit(events.FACILITY_CLOSED, payloads.facility_data(work.db, facility, reason),
              ("facility", facility.id))
    return facility


def get_facility(work, facility_id):
    return get_or_not_found(work.db, Facility, facility_id, "facility")


def list_facilities(work, unit_id, kind, status, limit, offset):
    unit_ids = None
    if unit_id is not None:
        directory.unit(work.db, unit_id)
        unit_ids = directory.subtree_ids(work.db, unit_id)
    return queries.facilities(work.db, unit_ids, kind, status, limit, offset)
