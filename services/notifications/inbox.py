"""The in-app inbox as members read it: their items, the unread count, marking items read.
(Items are written by the dispatcher, ``channels/inbox.py``.)

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint) and ``work.actor()``.
"""

from datetime import UTC, datetime

from sqlalchemy import update

from gonghui.actor import require_self
from gonghui.directory import DirectoryMember
from gonghui.errors import NotFound
from gonghui.events import record_change
from services.notifications import queries
from services.notifications.models import InboxItem


def require_own(work, member_id):
    """A member actor reads and changes only their own inbox and preferences: the actor's
    id is the employee number (工号) the read model of the tree gives the member (an unknown
    member is nobody's own). Offices, the platform and auditors name any member."""
    actor = work.actor()
    if actor.kind == "member":
        known = work.db.get(DirectoryMember, member_id)
        require_self(actor, known.employee_no if known is not None else None)


def list_inbox(work, member_id, unread_only, limit, offset):
    require_own(work, member_id)
    return queries.inbox_items(work.db, member_id, unread_only, limit, offset)


def unread_count(work, member_id, marked=0):
    require_own(work, member_id)
    return {"member_id": member_id, "unread": queries.unread(work.db, member_id),
            "marked": marked}


def mark_read(work, member_id, item_ids, every):
    """Mark ``item_ids`` (all of them the member's, else ``NotFound``), or ``every`` unread
    item, read; the audit trail keeps which (no event: it is the member's own business)."""
    require_own(work, member_id)
    query = update(InboxItem).where(InboxItem.member_id == member_id,
                                    InboxItem.read_at.is_(None))
    if not every:
        missing = sorted(set(item_ids) - queries.owned_items(work.db, member_id, item_ids))
        if missing:
            raise NotFound("no such inbox items for this member",
                           {"item_ids": [f"item {i} not found" for i in missing]})
        query = query.where(InboxItem.id.in_(item_ids))
    marked = sorted(work.db.scalars(query.values(read_at=datetime.now(UTC))
                                    .returning(InboxItem.id)))
    record_change(work.db, work.actor(), "notifications.inbox_read", ("inbox", member_id),
                  {"item_ids": marked, "all": every})
    return unread_count(work, member_id, len(marked))
