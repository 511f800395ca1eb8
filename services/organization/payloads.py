"""The data of organization's events (the schemas in ``events.py``), built from the rows they
tell of: ids *and* names, so a consumer acts without calling back."""

from services.organization import queries
from services.organization.models import Member, Union, Unit


def unit(session, row):
    parent = session.get(Unit, row.parent_id) if row.parent_id else None
    return {"unit_id": row.id, "unit_name": row.name, "code": row.code, "kind": row.kind,
            "domain": row.domain, "parent_id": row.parent_id,
            "parent_name": parent.name if parent else None,
            "established_on": row.established_on}


def unit_renamed(row, old_name):
    return {"unit_id": row.id, "unit_name": row.name, "old_name": old_name}


def unit_moved(row, old_parent_id, parent):
    return {"unit_id": row.id, "unit_name": row.name, "old_parent_id": old_parent_id,
            "new_parent_id": parent.id, "new_parent_name": parent.name}


def unit_closed(row):
    return {"unit_id": row.id, "unit_name": row.name, "closed_on": row.closed_on}


def union(session, row):
    owner = session.get(Unit, row.unit_id)
    _, parent = queries.parent_union(session, owner.id)
    return {"unit_id": owner.id, "unit_name": owner.name, "union_id": row.id,
            "union_name": row.name, "level": row.level,
            "parent_union_id": parent.id if parent else None,
            "established_on": row.established_on, "closed_on": row.closed_on}


def member(session, row):
    owner = session.get(Unit, row.unit_id)
    return {"member_id": row.id, "employee_no": row.employee_no, "name": row.name,
            "gender": row.gender, "unit_id": owner.id, "unit_name": owner.name,
            "email": row.email, "mobile": row.mobile, "wecom_id": row.wecom_id,
            "joined_on": row.joined_on, "left_on": row.left_on}


def role(session, assignment):
    holder = session.get(Member, assignment.member_id)
    held_in = session.get(Union, assignment.union_id)
    owner = session.get(Unit, held_in.unit_id)
    return {"unit_id": owner.id, "unit_name": owner.name, "member_id": holder.id,
            "member_name": holder.name, "union_id": held_in.id, "role": assignment.role,
            "term_id": assignment.term_id, "starts_on": assignment.starts_on,
            "ends_on": assignment.ends_on}


def term(session, row):
    held_by = session.get(Union, row.union_id)
    owner = session.get(Unit, held_by.unit_id)
    return {"unit_id": owner.id, "unit_name": owner.name, "union_id": held_by.id,
            "union_name": held_by.name, "term_id": row.id, "number": row.number,
            "starts_on": row.starts_on, "ends_on": row.ends_on}


def term_reminder(session, row, officers, parent_unit, as_of):
    """``term_expiring`` / ``term_expired``: to the union's ``officers``, and the unit of
    the union above."""
    return {**term(session, row), "days_left": (row.ends_on - as_of).days, "as_of": as_of,
            "recipient_member_ids": [m.id for _, m in officers],
            "parent_unit_id": parent_unit.id if parent_unit else None}


def election(session, row, new_term, seats):
    return {**term(session, new_term), "election_id": row.id, "held_on": row.held_on,
            "closed_term_id": row.closed_term_id, "committee": seats}


def training(row):
    return {"training_id": row.id, "title": row.title, "kind": row.kind,
            "organiser_unit_id": row.organiser_unit_id, "starts_on": row.starts_on,
            "ends_on": row.ends_on, "attendee_ids": row.attendee_ids}


def gathering_recorded(gathering, row, place, items):
    """``field_visit_recorded`` / ``meeting_recorded``: the id of the ``row``, its unit, the
    columns its ``gathering`` (a ``gatherings.Gathering``) tells of, its action items' ids."""
    return {gathering.id_key: row.id, "unit_id": place.id, "unit_name": place.name,
            **{name: getattr(row, name) for name in gathering.told},
            gathering.item_ids_key: [i.id for i in items]}


def action_item(session, item):
    owner = session.get(Unit, item.owner_unit_id)
    return {"action_item_id": item.id, "source_type": item.source_type,
            "source_id": item.source_id, "description": item.description,
            "owner_unit_id": owner.id, "owner_unit_name": owner.name,
            "due_on": item.due_on, "closed_on": item.closed_on,
            "closing_note": item.closing_note}


def follow_up_overdue(session, item, visit, parent_unit, as_of):
    """A field visit's follow-up past its due date: to its owner, flagged to the unit of
    the union above (``parent_unit``)."""
    visited = session.get(Unit, visit.unit_id)
    return {**action_item(session, item), "days_overdue": (as_of - item.due_on).days,
            "as_of": as_of, "visit_id": visit.id, "visit_kind": visit.kind,
            "visited_on": visit.visited_on, "visit_unit_id": visited.id,
            "visit_unit_name": visited.name,
            "parent_unit_id": parent_unit.id if parent_unit else None,
            "parent_unit_name": parent_unit.name if parent_unit else None}


def regulation(session, row, version):
    issuer = session.get(Unit, row.issuing_unit_id)
    return {"regulation_id": row.id, "title": row.title, "category": row.category,
            "status": row.status, "issuing_unit_id": issuer.id,
            "issuing_unit_name": issuer.name, "version": version.number,
            "effective_on": version.effective_on, "change_summary": version.change_summary}
