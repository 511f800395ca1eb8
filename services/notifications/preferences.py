"""Members' preferences: language, channels per kind of notice, quiet hours and the daily
digest (what fan-out and the dispatcher read, ``rules.schedule``).

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.actor()`` and
``work.emit(declared, data, aggregate)``.
"""

from datetime import UTC, datetime, time

from gonghui import directory
from services.notifications import events
from services.notifications.inbox import require_own
from services.notifications.models import Preference


def defaults():
    """A member's preferences until they choose: the rules' channels, no quiet hours, no
    digest."""
    return {"language": "zh", "channels": {}, "quiet_start": None, "quiet_end": None,
            "digest": False, "digest_hour": 18}


def _hhmm(value):
    return value.strftime("%H:%M") if value else None


def preferences_out(member_id, pref):
    """A member's preferences (the defaults when none were set), as RPCs and events give
    them."""
    if pref is None:
        return {"member_id": member_id, **defaults()}
    return {"member_id": member_id, "language": pref.language, "channels": pref.channels,
            "quiet_start": _hhmm(pref.quiet_start), "quiet_end": _hhmm(pref.quiet_end),
            "digest": pref.digest, "digest_hour": pref.digest_hour}


def get_preferences(work, member_id):
    require_own(work, member_id)
    directory.member(work.db, member_id)
    return preferences_out(member_id, work.db.get(Preference, member_id))


def set_preferences(work, member_id, changes):
    """Apply ``changes``; channels chosen for some kinds of notice keep the other kinds'."""
    require_own(work, member_id)
    directory.member(work.db, member_id)
    pref = work.db.get(Preference, member_id)
    if pref is None:
        pref = Preference(member_id=member_id, **defaults())
        work.db.add(pref)
    for key in ("quiet_start", "quiet_end"):
        if key in changes:
            changes[key] = time.fromisoformat(changes[key]) if changes[key] else None
    if "channels" in changes:
        changes["channels"] = {**(pref.channels or {}), **changes["channels"]}
    for key, value in changes.items():
        setattr(pref, key, value)
    pref.updated_at = datetime.now(UTC)
    work.db.flush()
    out = preferences_out(member_id, pref)
    work.emit(events.PREFERENCES_CHANGED, out, ("member", member_id))
    return out
