"""tick_progress (the kit's record of the last day whose periodic work completed)

Revision ID: 0002
Revises: 0001
"""
from gonghui.migrations import create_kit_table, drop_kit_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    create_kit_table("tick_progress")


def downgrade():
    drop_kit_table("tick_progress")
