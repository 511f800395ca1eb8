"""default rules: an idea's submitter hears of every move of the deed made from it

Revision ID: 0003
Revises: 0002

The new default rules reach a database migrated before them (a replica's start adds missing
defaults too; this revision does it without one). ``item_completed.submitter`` is keyed by
the completion day instead of once per item, so that an item found non-conforming and
completed again is told again; a period an operator changed is left as it is.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from services.notifications.defaults import DEFAULT_RULES

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_RULES = ("report_submitted.submitter", "supervision_issued.submitter",
             "supervision_escalated.submitter", "supervision_closed.submitter",
             "notice_published.submitter", "notice_closed.submitter",
             "objection_reviewed.submitter", "evaluation_published.submitter")
COMPLETED = "item_completed.submitter"

rules = sa.table("rules", sa.column("key"), sa.column("event_type"),
                 sa.column("audience", postgresql.JSONB), sa.column("channels", postgresql.JSONB),
                 sa.column("template"), sa.column("urgency"), sa.column("kind"),
                 sa.column("subject"), sa.column("period"), sa.column("description"))


def _set_period(old, new):
    op.execute(rules.update().where(rules.c.key == COMPLETED, rules.c.period == old)
               .values(period=new))


def upgrade():
    rows = [r for r in DEFAULT_RULES if r["key"] in NEW_RULES]
    if rows:
        op.execute(postgresql.insert(rules).values(rows)
                   .on_conflict_do_nothing(index_elements=["key"]))
    _set_period("completed", "{completed_on}")


def downgrade():
    op.execute(rules.delete().where(rules.c.key.in_(NEW_RULES)))
    _set_period("{completed_on}", "completed")
