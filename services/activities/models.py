"""Persistence of the activities service (SQLAlchemy 2 models).

What this service owns: campaigns and their goals, activities with sign-ups and attendance,
recurring schedules with participation, facilities, check-ups, the reminders already sent.
The read model of organization's union tree, which audience rules, officer checks and
coverage read, is the kit's (``gonghui.directory``: its own tables in this database).

Attendance and participation rows repeat the unit, kind, campaign and date they belong to,
so that the figures are a scan of one table (see bench/ACTIVITIES.md).
"""

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


# ------------------------------------------------------------------ campaigns and goals


class Campaign(Model):
    """An all-staff campaign of a year: health (全民健康), fitness (全民健身), reading
    (全民阅读), or one an office adds."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    organiser_unit_id: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())

    __table_args__ = (UniqueConstraint("code", "year"),)


class Goal(Model):
    __tablename__ = "campaign_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    metric: Mapped[str] = mapped_column(String(40))
    target: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    params: Mapped[dict] = mapped_column(JSON)


# ------------------------------------------------------------------ facilities


class Facility(Model):
    """Sports venue, staff library (职工书屋), reading corner (读书角) or mobile bookshelf
    (流动书架) of a unit."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    capacity: Mapped[int | None] = mapped_column(Integer)
    opened_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closing_reason: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------ activities


class Activity(Model):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    topic: Mapped[str | None] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    organiser_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    held_on: Mapped[date] = mapped_column(Date, index=True)  # China date of starts_at
    place: Mapped[str | None] = mapped_column(String(200))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    capacity: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20))
    audience_unit_id: Mapped[int | None] = mapped_column(Integer)
    audience_role: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    amount_raised: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    next_seq: Mapped[int] = mapped_column(Integer, default=0)  # arrival order of sign-ups


class Signup(Model):
    """A member's sign-up; ``seq`` is its place in arrival order, which decides who is
    confirmed and who is next on the waiting list."""

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    signed_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("activity_id", "member_id"),
                      Index("ix_signups_activity_status_seq", "activity_id", "status", "seq"))


class Attendance(Model):
    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[int] = mapped_column(Integer)
    member_unit_id: Mapped[int] = mapped_column(Integer)
    organiser_unit_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    __table_args__ = (
        UniqueConstraint("activity_id", "member_id"),
        # The figures filter by a subtree's unit ids and a period: unit first, so a subtree
        # is one index range per unit; covering, so the heap is not read (bench/ACTIVITIES.md).
        Index("ix_attendance_organiser_period", "organiser_unit_id", "held_on",
              postgresql_include=["campaign_id", "kind", "activity_id", "member_id"]),
        Index("ix_attendance_member_unit_period", "member_unit_id", "held_on",
              postgresql_include=["member_id"]),
    )


# ------------------------------------------------------------------ recurring activities


class RecurringSchedule(Model):
    """A unit's recurring activity: daily workplace exercise (工间操) or a weekly reading
    club; it meets on working days only."""

    __tablename__ = "recurring_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[int | None] = mapped_column(Integer)
    time_of_day: Mapped[time | None] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))


class Participation(Model):
    __tablename__ = "participations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("recurring_schedules.id"))
    held_on: Mapped[date] = mapped_column(Date)
    member_id: Mapped[int] = mapped_column(Integer)
    member_unit_id: Mapped[int] = mapped_column(Integer)
    organiser_unit_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    __table_args__ = (
        UniqueConstraint("schedule_id", "held_on", "member_id"),
        Index("ix_participations_organiser_period", "organiser_unit_id", "held_on",
              postgresql_include=["schedule_id", "kind", "member_id"]),
        Index("ix_participations_member_unit_period", "member_unit_id", "held_on",
              postgresql_include=["member_id"]),
    )


# ------------------------------------------------------------------ check-ups


class Checkup(Model):
    """A member's annual health check-up (健康体检): when and by whom, never what it found."""

    __tablename__ = "checkups"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    checked_on: Mapped[date] = mapped_column(Date, index=True)
    provider: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("member_id", "year"),)


# ------------------------------------------------------------------ reminders sent


class UpcomingNotice(Model):
    """The reminder the working day before an activity, sent once."""

    __tablename__ = "upcoming_notices"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    sent_for: Mapped[date] = mapped_column(Date)
    recipients: Mapped[int] = mapped_column(Integer)


class CheckupReminder(Model):
    """A member reminded of a missing check-up, once a year."""

    __tablename__ = "checkup_reminders"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_for: Mapped[date] = mapped_column(Date)
