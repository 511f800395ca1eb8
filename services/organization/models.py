"""Persistence of the organization service (SQLAlchemy 2 models).

Business units form the company's tree; a unit may have a union (工会) — company union,
grassroots union (基层工会) or union group (工会小组) — or none yet, which is what coverage
measures. The union tree follows the unit tree: a union's parent is the union of its nearest
ancestor unit that has one.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


class Unit(Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    domain: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    established_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class Union(Model):
    __tablename__ = "unions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    level: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    established_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class Member(Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(20))
    wecom_id: Mapped[str | None] = mapped_column(String(100))
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class Term(Model):
    """A union committee's term of office (届)."""

    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("union_id", "number"),)


class TermNotice(Model):
    """One row per reminder sent about a term, so each goes out exactly once."""

    __tablename__ = "term_notices"

    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    sent_for: Mapped[date] = mapped_column(Date)


class Election(Model):
    """A change of term (换届选举)."""

    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    closed_term_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"))
    new_term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    notes: Mapped[str | None] = mapped_column(Text)


class RoleAssignment(Model):
    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    term_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class Training(Model):
    """Cadre training: external (走出去), internal online / offline (请进来)."""

    __tablename__ = "trainings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    provider: Mapped[str | None] = mapped_column(String(200))
    organiser_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[int] = mapped_column(Integer)
    attendee_ids: Mapped[list] = mapped_column(JSON)


class FieldVisit(Model):
    """Going down to the grassroots (沉下去): symposium, visit, heart-to-heart talk."""

    __tablename__ = "field_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    visitor_ids: Mapped[list] = mapped_column(JSON)
    findings: Mapped[str] = mapped_column(Text)


class Meeting(Model):
    """A meeting that sets the union's work: workers' congress (职代会), seminar, review."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    attendee_ids: Mapped[list] = mapped_column(JSON)


class ActionItem(Model):
    """A follow-up action of a field visit or a task set by a meeting; closable."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer, index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closing_note: Mapped[str | None] = mapped_column(Text)


class ActionItemNotice(Model):
    """One row per reminder sent about a follow-up action, so each goes out exactly once."""

    __tablename__ = "action_item_notices"

    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"),
                                                primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    sent_for: Mapped[date] = mapped_column(Date)


class Regulation(Model):
    """A regulation or work document (制度), e.g. the year's work points (工作要点)."""

    __tablename__ = "regulations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    repealed_on: Mapped[date | None] = mapped_column(Date)


class RegulationVersion(Model):
    __tablename__ = "regulation_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    regulation_id: Mapped[int] = mapped_column(ForeignKey("regulations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    effective_on: Mapped[date | None] = mapped_column(Date)
    change_summary: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("regulation_id", "number"),)
