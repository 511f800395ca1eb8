"""supervision_orders.cause: what was missed — the period's report, the planned completion,
or a non-conforming item's new deadline

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("supervision_orders", sa.Column("cause", sa.String(length=20), nullable=False,
                                                  server_default="report"))
    op.drop_constraint("supervision_orders_item_id_period_key", "supervision_orders")
    op.create_unique_constraint("supervision_orders_item_id_cause_period_key",
                                "supervision_orders", ["item_id", "cause", "period"])


def downgrade():
    op.drop_constraint("supervision_orders_item_id_cause_period_key", "supervision_orders")
    op.create_unique_constraint("supervision_orders_item_id_period_key", "supervision_orders",
                                ["item_id", "period"])
    op.drop_column("supervision_orders", "cause")
