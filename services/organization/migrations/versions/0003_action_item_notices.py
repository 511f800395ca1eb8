"""action_item_notices (each overdue follow-up action reminded once)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "action_item_notices",
        sa.Column("action_item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sent_for", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["action_item_id"], ["action_items.id"]),
        sa.PrimaryKeyConstraint("action_item_id", "kind"),
    )


def downgrade():
    op.drop_table("action_item_notices")
