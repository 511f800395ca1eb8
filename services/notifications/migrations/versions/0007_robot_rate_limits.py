"""robots' rate limits: send buckets, per-robot and per-webhook overrides, merged messages

Revision ID: 0007
Revises: 0006

* ``send_buckets``: one token bucket per robot or webhook subscription (channel, target),
  shared by every replica (taken with a row lock in the sending transaction);
* ``unit_robots.rate_limit`` and ``webhook_subscriptions.rate_limit``: messages per rate
  window, overriding the default of their kind (NULL: the default);
* ``deliveries.message_id``: the message that carried the delivery (several deliveries to
  one robot share one merged message); ``deliveries.held_reason`` widens to text (it now
  says which robot and rate a delivery waited for).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "send_buckets",
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "target"))
    op.add_column("unit_robots", sa.Column("rate_limit", sa.Integer(), nullable=True))
    op.add_column("webhook_subscriptions", sa.Column("rate_limit", sa.Integer(), nullable=True))
    op.add_column("deliveries", sa.Column("message_id", postgresql.UUID(as_uuid=True),
                                          nullable=True))
    op.alter_column("deliveries", "held_reason", type_=sa.Text(),
                    existing_type=sa.String(length=20), existing_nullable=True)


def downgrade():
    op.execute("UPDATE deliveries SET held_reason = left(held_reason, 20)")
    op.alter_column("deliveries", "held_reason", type_=sa.String(length=20),
                    existing_type=sa.Text(), existing_nullable=True)
    op.drop_column("deliveries", "message_id")
    op.drop_column("webhook_subscriptions", "rate_limit")
    op.drop_column("unit_robots", "rate_limit")
    op.drop_table("send_buckets")
