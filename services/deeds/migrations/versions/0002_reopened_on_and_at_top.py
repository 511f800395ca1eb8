"""items.reopened_on (no report owed for a period due before an item was sent back) and
supervision_orders.at_top (orders open at the top union, which the daily tick skips)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("items", sa.Column("reopened_on", sa.Date(), nullable=True))
    op.add_column("supervision_orders", sa.Column("at_top", sa.Boolean(), nullable=False,
                                                  server_default=sa.false()))
    op.create_index("ix_supervision_orders_escalating", "supervision_orders", ["deadline"],
                    postgresql_where=sa.text("status = 'open' AND NOT at_top"))


def downgrade():
    op.drop_index("ix_supervision_orders_escalating", table_name="supervision_orders")
    op.drop_column("supervision_orders", "at_top")
    op.drop_column("items", "reopened_on")
