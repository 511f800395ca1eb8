"""default rule supervision_escalated: the officers of the union escalated to

Revision ID: 0005
Revises: 0004

Deeds no longer lists the officers of the union it escalates to (``recipient_member_ids`` is
empty): it names the union's unit (``escalated_to_unit_id``) and notifications resolves its
officers (the ``escalated_union_officers`` selector, chair and vice-chairs), where the
default rule reached the chair (``escalation_chair``) and the listed recipients. The seeded
rule is changed only where it still has that old default audience: a rule an operator
changed is left as it is.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEY = "supervision_escalated"
OLD = (["escalation_chair", "recipients"],
       "Escalation: the chair of the union it is escalated to (the parent union) and the "
       "listed recipients.")
NEW = (["escalated_union_officers"],
       "Escalation: the officers (chair and vice-chairs) of the union it is escalated to "
       "(the union above).")

rules = sa.table("rules", sa.column("key"), sa.column("audience", postgresql.JSONB),
                 sa.column("description"))


def _change(before, after):
    """``after`` where the rule has the ``before`` audience (its description too, unless an
    operator wrote another)."""
    op.execute(rules.update()
               .where(rules.c.key == KEY, rules.c.audience == before[0])
               .values(audience=after[0], description=sa.case(
                   (rules.c.description == before[1], after[1]),
                   else_=rules.c.description)))


def upgrade():
    _change(OLD, NEW)


def downgrade():
    _change(NEW, OLD)
