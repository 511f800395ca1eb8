"""Dates as the union office sees them (China Standard Time), and the periodic-work lock.

``today()`` is the business date every rule and timer uses. A stack can be given a fixed
business date with the environment variable ``GONGHUI_TODAY`` (ISO date): the demo stack
stands at the source article's date this way, so its hourly timers keep ticking a day the
demo already replayed instead of pushing 2021's data into the real calendar.
"""

import os
import zlib
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

CHINA = timezone(timedelta(hours=8), "CST")


def today():
    fixed = os.environ.get("GONGHUI_TODAY")
    if fixed:
        return date.fromisoformat(fixed)
    return datetime.now(CHINA).date()


def parse_date(value):
    return value if isinstance(value, date) else date.fromisoformat(value)


def date_range(start, end):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def lock_periodic_work(session, name):
    """Take a transaction-scoped advisory lock so that ``tick`` running in several replicas
    at once does the day's work once: the second waits, then finds it already done."""
    session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(name.encode()))))
