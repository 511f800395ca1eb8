"""The questions notifications asks its database: lists and look-ups, no changes."""

from sqlalchemy import func, select

from gonghui.paging import select_page
from services.notifications.models import (
    Delivery,
    DeliveryAttempt,
    InboxItem,
    Rule,
    UnitRobot,
    WebhookSubscription,
)


def inbox_items(session, member_id, unread_only, limit, offset):
    """A member's inbox items, newest first."""
    query = select(InboxItem).where(InboxItem.member_id == member_id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    return select_page(session, query.order_by(InboxItem.id.desc()), limit, offset)


def unread(session, member_id):
    return session.scalar(select(func.count()).select_from(InboxItem).where(
        InboxItem.member_id == member_id, InboxItem.read_at.is_(None)))


def owned_items(session, member_id, item_ids):
    """Of ``item_ids``, those in the member's inbox."""
    return set(session.scalars(select(InboxItem.id).where(
        InboxItem.member_id == member_id, InboxItem.id.in_(item_ids))))


def rules(session, event_type, enabled):
    query = select(Rule).order_by(Rule.event_type, Rule.id)
    if event_type:
        query = query.where(Rule.event_type == event_type)
    if enabled is not None:
        query = query.where(Rule.enabled.is_(enabled))
    return list(session.scalars(query))


def rule(session, key):
    return session.scalar(select(Rule).where(Rule.key == key))


def robot(session, unit_id, kind):
    return session.scalar(select(UnitRobot).where(UnitRobot.unit_id == unit_id,
                                                  UnitRobot.kind == kind))


def robots(session, unit_id):
    query = select(UnitRobot).order_by(UnitRobot.unit_id, UnitRobot.kind)
    if unit_id:
        query = query.where(UnitRobot.unit_id == unit_id)
    return list(session.scalars(query))


def subscriptions(session, enabled):
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if enabled is not None:
        query = query.where(WebhookSubscription.enabled.is_(enabled))
    return list(session.scalars(query))


def deliveries(session, limit, offset, **equal):
    """The delivery log by id, filtered on the columns given (``status="dead"``; None: any)."""
    query = select(Delivery).order_by(Delivery.id)
    for name, value in equal.items():
        if value is not None:
            query = query.where(getattr(Delivery, name) == value)
    return select_page(session, query, limit, offset)


def attempts(session, delivery_id):
    return list(session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)))
