"""Cadre training (培训: 走出去, 请进来), and the gatherings that set work to do: field visits
(沉下去: symposium 座谈, visit 走访, heart-to-heart talk 谈心谈话) with their follow-up
actions, and meetings (workers' congress 职代会, seminar, half-year review) with their tasks.
A visit and a meeting are recorded by one function, ``record``, told what differs by their
``Gathering``; both kinds of work set are action items (``ActionItem``), closable, and a
visit's follow-up still open after its due date is reminded once by the day's tick.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

from dataclasses import dataclass

from gonghui.actor import SYSTEM_TICK
from gonghui.errors import get_or_not_found
from gonghui.paging import slice_page
from services.organization import events, members, payloads, queries, rules
from services.organization.models import (
    ActionItem,
    ActionItemNotice,
    FieldVisit,
    Meeting,
    Training,
    Unit,
)

# ----------------------------------------------------------------- trainings


def record_training(work, title, kind, provider, organiser_unit_id, starts_on, ends_on, hours,
                    attendee_ids):
    rules.check_training_dates(starts_on, ends_on)
    get_or_not_found(work.db, Unit, organiser_unit_id, "unit")
    attendee_ids = sorted(set(attendee_ids))
    members.require_members(work.db, attendee_ids, "attendee_ids")
    training = Training(title=title, kind=kind, provider=provider,
                        organiser_unit_id=organiser_unit_id, starts_on=starts_on,
                        ends_on=ends_on, hours=hours, attendee_ids=attendee_ids)
    work.db.add(training)
    work.db.flush()
    work.emit(events.TRAINING_RECORDED, payloads.training(training), ("training", training.id))
    return training


def list_trainings(session, year, kind, member_id, limit, offset):
    rows = queries.trainings(session, year, kind)
    if member_id:  # attendees are a JSON list: filtered here
        rows = [t for t in rows if member_id in t.attendee_ids]
    return slice_page(rows, limit, offset)


# ----------------------------------------------------------------- field visits and meetings


@dataclass(frozen=True)
class Gathering:
    """What differs between a field visit and a meeting: their model, the names of their
    columns and the keys of their output and event."""

    model: type
    source_type: str  # of its action items, and its aggregate type in the outbox
    day: str  # the column of its date
    people: str  # the column (and argument) of who took part
    details: tuple  # its own columns besides kind, unit, date and people
    told: tuple  # the columns its event tells of, in the event's order
    items: str  # the key of its action items in its output
    id_key: str  # the key of its id in its event
    item_ids_key: str  # the key of its action items' ids in its event
    event: object


FIELD_VISIT = Gathering(FieldVisit, "field_visit", day="visited_on", people="visitor_ids",
                        details=("findings",), told=("kind", "visited_on", "findings"),
                        items="actions", id_key="visit_id", item_ids_key="action_item_ids",
                        event=events.FIELD_VISIT_RECORDED)
MEETING = Gathering(Meeting, "meeting", day="held_on", people="attendee_ids",
                    details=("title",), told=("kind", "title", "held_on"), items="tasks",
                    id_key="meeting_id", item_ids_key="task_ids",
                    event=events.MEETING_RECORDED)


def record(work, gathering, unit_id, kind, day, people, details, items):
    """Record a ``gathering`` (``FIELD_VISIT`` or ``MEETING``) of ``kind`` at the unit, with
    who took part, its ``details`` (its own columns) and the action items it set, each owned
    by an open unit with a due date."""
    place = get_or_not_found(work.db, Unit, unit_id, "unit")
    people = sorted(set(people))
    members.require_members(work.db, people, gathering.people)
    row = gathering.model(kind=kind, unit_id=place.id,
                          **{gathering.day: day, gathering.people: people}, **details)
    work.db.add(row)
    work.db.flush()
    created = add_action_items(work, gathering.source_type, row.id, items)
    work.emit(gathering.event, payloads.gathering_recorded(gathering, row, place, created),
              (gathering.source_type, row.id))
    return gathering_out(work.db, gathering, row)


def gathering_out(session, gathering, row):
    columns = ("id", "kind", "unit_id", gathering.day, gathering.people, *gathering.details)
    return {**{c: getattr(row, c) for c in columns},
            gathering.items: queries.action_items_of(session, gathering.source_type, row.id)}


def list_gatherings(session, gathering, unit_id, kind, limit, offset):
    return queries.gatherings(session, gathering.model, gathering.day, unit_id, kind, limit,
                              offset).map(lambda row: gathering_out(session, gathering, row))


# ----------------------------------------------------------------- action items


def add_action_items(work, source_type, source_id, items):
    created = []
    for new in items:
        owner = queries.open_unit(work.db, new["owner_unit_id"])
        item = ActionItem(source_type=source_type, source_id=source_id,
                          description=new["description"], owner_unit_id=owner.id,
                          due_on=new["due_on"])
        work.db.add(item)
        work.db.flush()
        work.emit(events.ACTION_ITEM_CREATED, payloads.action_item(work.db, item),
                  ("action_item", item.id))
        created.append(item)
    return created


def close_action_item(work, action_item_id, closing_note, closed_on):
    item = get_or_not_found(work.db, ActionItem, action_item_id, "action_item")
    rules.check_not_ended("action_item", action_item_id, item.closed_on)
    item.closed_on, item.closing_note = closed_on, closing_note
    work.emit(events.ACTION_ITEM_CLOSED, payloads.action_item(work.db, item),
              ("action_item", item.id))
    return item


def remind_overdue_follow_ups(work, as_of):
    """Remind each field visit's follow-up action open past its due date, once: to its
    owner unit, flagged to the union above (``follow_up_overdue``). Meetings' tasks are not
    chased. Returns how many were reminded."""
    open_items = queries.open_follow_ups(work.db, as_of)
    sent = queries.notices_sent(work.db, ActionItemNotice, ActionItemNotice.action_item_id,
                                [i.id for i, _ in open_items])
    count = 0
    for item, visit in open_items:
        for kind in rules.follow_up_notices_due(item.due_on, as_of, sent.get(item.id, set())):
            work.db.add(ActionItemNotice(action_item_id=item.id, kind=kind, sent_for=as_of))
            chain = queries.union_chain(work.db, item.owner_unit_id)
            parent_unit = chain[1][0] if len(chain) > 1 else None
            work.emit(events.FOLLOW_UP_OVERDUE,
                      payloads.follow_up_overdue(work.db, item, visit, parent_unit, as_of),
                      ("action_item", item.id), actor=SYSTEM_TICK,
                      changes={"notice": kind, "as_of": as_of.isoformat()})
            count += 1
    return count
