"""The in-app inbox: "sending" is an insert, in the same transaction that marks the
delivery sent, so it happens exactly once."""

from sqlalchemy import insert

from services.notifications.models import InboxItem


def deliver(session, rows):
    """Write one inbox item per delivery row. The rows are locked and pending, so none has
    an item yet (the unique delivery_id would refuse a second one)."""
    if not rows:
        return
    session.execute(insert(InboxItem.__table__), [
        {"delivery_id": r.id, "member_id": r.member_id, "kind": r.kind, "urgency": r.urgency,
         "event_type": r.event_type, "title": r.title, "body": r.body, "link": r.link}
        for r in rows])
