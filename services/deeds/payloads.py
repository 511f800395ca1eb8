"""The data of deeds' events (see ``events.py``, the contract), with the names consumers
need from the read model of the tree (``work.lookup``) so they act without calling back.

Each builder takes ``work``, the worker's service instance, read through ``work.db`` and
``work.lookup`` only."""

from services.deeds import queries, rules
from services.deeds.models import DeedList


def item_ref(work, item):
    lookup = work.lookup
    return {"item_id": item.id, "item_title": item.title, "level": item.level,
            "focus_area": item.focus_area, "batch": item.batch,
            "owner_unit_id": item.owner_unit_id,
            "owner_unit_name": lookup.unit_name(item.owner_unit_id),
            "responsible_member_id": item.responsible_member_id,
            "responsible_member_name": lookup.member_name(item.responsible_member_id),
            "idea_id": item.idea_id, "idea_submitter_member_id": lookup.idea_submitter(
                item.idea_id)}


def item_data(work, item):
    deed_list = work.db.get(DeedList, item.list_id)
    return {**item_ref(work, item), "list_id": item.list_id, "year": deed_list.year,
            "planned_completion": item.planned_completion, "parent_item_id": item.parent_id,
            "status": item.status, "progress": item.progress,
            "track": rules.track(item.status, queries.has_open_supervision(work.db, item.id))}


def idea_data(work, idea):
    lookup = work.lookup
    return {"idea_id": idea.id, "title": idea.title, "focus_area": idea.focus_area,
            "status": idea.status, "submitter_member_id": idea.submitter_member_id,
            "submitter_name": lookup.member_name(idea.submitter_member_id),
            "submitter_unit_id": idea.submitter_unit_id,
            "submitter_unit_name": lookup.unit_name(idea.submitter_unit_id),
            "reason": idea.reason, "item_id": idea.item_id}


def order_data(work, order, item, recipients):
    """A supervision order's event; ``recipients``: the people it names directly."""
    lookup = work.lookup
    return {**item_ref(work, item), "order_id": order.id, "period": order.period,
            "cause": order.cause, "reason": order.reason,
            "supervising_unit_id": order.supervising_unit_id,
            "supervising_unit_name": lookup.unit_name(order.supervising_unit_id),
            "deadline": order.deadline, "escalation_level": order.escalation_level,
            "escalated_to_unit_id": order.escalated_to_unit_id,
            "escalated_to_unit_name": (lookup.unit_name(order.escalated_to_unit_id)
                                       if order.escalated_to_unit_id else None),
            "recipient_member_ids": recipients, "status": order.status,
            "closed_by": order.closed_by}


def objection_data(work, objection, item):
    return {**item_ref(work, item), "notice_id": objection.notice_id,
            "objection_id": objection.id, "member_id": objection.member_id,
            "reason": objection.reason, "status": objection.status}


def notice_data(work, notice):
    items = queries.items_of_notice(work.db, notice)
    noticed = [i for i in items if i.status == "noticed"]
    # An open notice concerns all its items; a closed one those it publicly noticed.
    concerned = items if notice.status == "open" else noticed
    return {"notice_id": notice.id, "year": notice.year, "quarter": notice.quarter,
            "opens_on": notice.opens_on, "closes_on": notice.closes_on,
            "item_ids": notice.item_ids,
            "noticed_item_ids": sorted(i.id for i in noticed),
            "non_conforming_item_ids": sorted(i.id for i in items
                                              if i.status == "non_conforming"),
            "idea_submitter_member_ids": sorted(
                {work.lookup.idea_submitter(i.idea_id) for i in concerned} - {None})}


def commitment_data(work, commitment):
    lookup = work.lookup
    return {"commitment_id": commitment.id, "owner_kind": commitment.owner_kind,
            "owner_unit_id": commitment.owner_unit_id,
            "owner_unit_name": lookup.unit_name(commitment.owner_unit_id),
            "owner_member_id": commitment.owner_member_id,
            "owner_member_name": lookup.member_name(commitment.owner_member_id),
            "title": commitment.title, "metric": commitment.metric,
            "target": commitment.target, "achieved": commitment.achieved,
            "starts_on": commitment.starts_on, "ends_on": commitment.ends_on}
