"""The day's periodic work of a service (``tick``), run by its hourly timer without gaps.

Every service's ``tick(as_of)`` is idempotent and records the day it completed
(:func:`begin_day`). The timer (:class:`DailyTimer`) runs, oldest first, every day from the
one after the last completed day up to today, each in its own transaction, at most
``TICK_CATCH_UP_DAYS`` (31) days per firing: after downtime no day's reminders are skipped,
and a long gap is caught up over a few firings rather than in one long transaction. A last
completed day after today (an operator replayed ahead) leaves nothing to do.
"""

import logging
from datetime import timedelta

from nameko.timer import timer
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from gonghui.clock import lock_periodic_work, today
from gonghui.tables import tick_progress

log = logging.getLogger(__name__)

DEFAULT_CATCH_UP_DAYS = 31


def begin_day(session, name, day):
    """Start the periodic work ``name`` for ``day`` in the session's transaction: take the
    lock that serialises replicas, and record ``day`` as completed (kept if a later day is
    already recorded) — it commits with the work or not at all."""
    lock_periodic_work(session, name)
    statement = insert(tick_progress).values(name=name, completed_on=day)
    session.execute(statement.on_conflict_do_update(
        index_elements=[tick_progress.c.name],
        set_={"completed_on": func.greatest(tick_progress.c.completed_on,
                                            statement.excluded.completed_on),
              "updated_at": func.now()}))


def last_completed(session, name):
    return session.scalar(select(tick_progress.c.completed_on)
                          .where(tick_progress.c.name == name))


def days_to_run(last, as_of, limit=DEFAULT_CATCH_UP_DAYS):
    """The days the timer runs: from the day after ``last`` to ``as_of`` (the oldest
    ``limit`` of them), today again when today is done (new data may owe work), nothing
    when ``last`` is later than today; only today when nothing was ever completed."""
    if last is None or last == as_of:
        return [as_of]
    if last > as_of:
        return []
    count = min((as_of - last).days, limit)
    return [last + timedelta(days=n) for n in range(1, count + 1)]


class DailyTimer:
    """Mixin of a service class with ``db`` and ``_tick(as_of)``: the hourly timer that
    catches up the days since the last completed one. ``tick_name`` names the work and its
    lock (``"<service>.tick"``)."""

    tick_name = None

    @timer(interval=3600)
    def daily_tick(self):
        limit = int(self.config.get("TICK_CATCH_UP_DAYS", DEFAULT_CATCH_UP_DAYS))
        days = days_to_run(last_completed(self.db, self.tick_name), today(), limit)
        self.db.rollback()  # the look-up's transaction ends before the first day's begins
        for day in days:
            self._tick(day)
            self.db.commit()
        if len(days) > 1:
            log.info("%s caught up %d days to %s", self.tick_name, len(days), days[-1])
