"""Dates as the union office sees them (China Standard Time), and the periodic-work lock."""

import zlib
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

CHINA = timezone(timedelta(hours=8), "CST")


def today():
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
