"""Persistence of the deeds service: golden ideas, deed lists and items, monthly reports,
supervision orders, public notices with objections, evaluations, commitments. The read model
of the union tree (for names and escalation) is the kit's, :mod:`gonghui.directory`."""

from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


# ---------------------------------------------------------------- the deed cycle


class Idea(Model):
    """A golden idea (金点子)."""

    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    focus_area: Mapped[str] = mapped_column(String(30))
    submitter_member_id: Mapped[int | None] = mapped_column(Integer)
    submitter_unit_id: Mapped[int] = mapped_column(Integer)
    submitted_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[int | None] = mapped_column(Integer)


class DeedList(Model):
    __tablename__ = "deed_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("level", "year", "unit_id"),)


class Item(Model):
    """A deed item (实事项目)."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("deed_lists.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(30))
    focus_area: Mapped[str] = mapped_column(String(30), index=True)
    batch: Mapped[str] = mapped_column(String(30), index=True)
    owner_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    responsible_member_id: Mapped[int | None] = mapped_column(Integer)
    planned_completion: Mapped[date] = mapped_column(Date)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    noticed_on: Mapped[date | None] = mapped_column(Date)
    feedback: Mapped[str | None] = mapped_column(Text)
    new_deadline: Mapped[date | None] = mapped_column(Date)
    # When it was last sent back (non-conforming): it owes no report due before that day.
    reopened_on: Mapped[date | None] = mapped_column(Date)
    idea_id: Mapped[int | None] = mapped_column(Integer)


class Report(Model):
    """A monthly progress report (月汇报)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    progress: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    attachment_ref: Mapped[str | None] = mapped_column(String(500))
    submitted_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    on_time: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("item_id", "period"),)


class ReminderSent(Model):
    """One row per report reminder, so each goes out exactly once."""

    __tablename__ = "reminders_sent"

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)


class SupervisionOrder(Model):
    """A supervision order (督办单)."""

    __tablename__ = "supervision_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    # what was missed (rules.ORDER_CAUSES): the period's report, the planned completion, or
    # the new deadline of a non-conforming item
    cause: Mapped[str] = mapped_column(String(20), default="report", server_default="report")
    reason: Mapped[str] = mapped_column(Text)
    supervising_unit_id: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to_unit_id: Mapped[int | None] = mapped_column(Integer)
    # Open at the top union with no union above: escalation has nowhere to go, so the
    # daily tick stops reading it (it stays open until reported or explained).
    at_top: Mapped[bool] = mapped_column(Boolean, default=False,
                                         server_default=false())
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(20))
    explanation: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("item_id", "cause", "period"),
        # What the daily escalation reads: open orders past their deadline, not at the top.
        Index("ix_supervision_orders_escalating", "deadline",
              postgresql_where=text("status = 'open' AND NOT at_top")),
    )


class Notice(Model):
    """A quarterly public notice (季公示)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    item_ids: Mapped[list] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("year", "quarter"),)


class Objection(Model):
    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    review_note: Mapped[str | None] = mapped_column(Text)


class SatisfactionVote(Model):
    __tablename__ = "satisfaction_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    voted_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("item_id", "member_id"),)


class Evaluation(Model):
    """A quarterly evaluation (季评价)."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    published_on: Mapped[date] = mapped_column(Date)
    weights: Mapped[dict] = mapped_column(JSON)
    ranking: Mapped[list] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("year", "quarter"),)


class Commitment(Model):
    """A public commitment (承诺) of a unit or a cadre."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(10))
    owner_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    owner_member_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(100))
    target: Mapped[float] = mapped_column(Float)
    achieved: Mapped[float] = mapped_column(Float, default=0.0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class CommitmentReport(Model):
    __tablename__ = "commitment_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[date] = mapped_column(Date)


class Setting(Model):
    """Operator-set values (evaluation weights) that must survive restarts."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
