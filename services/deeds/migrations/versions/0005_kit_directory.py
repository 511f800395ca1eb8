"""The kit's read model of the union tree (gonghui.directory) replaces deeds' own: units,
unions and members move over; role assignments (no first day known) come with the resync
from organization that the upgrade asks for.

Deeds' old tables had the kit's names: they are renamed out of the way first (with their
indexes and primary keys, whose names survive a table rename), then emptied into the new
tables and dropped. What the old tables could not say (a unit's or union's closing day, a
member's leaving day) is today until the resync corrects it; stamps stay NULL ("older than
any event").

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from gonghui import directory

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_TABLES = ("directory_units", "directory_unions", "directory_members", "directory_roles")


def _key(name):
    return sa.Column(name, sa.Integer(), primary_key=True, autoincrement=False)


# Deeds' own tables as revision 0001 made them (what a downgrade brings back).
_OLD_LAYOUT = sa.MetaData()
sa.Table("directory_units", _OLD_LAYOUT, _key("unit_id"),
         sa.Column("name", sa.String(length=200), nullable=False),
         sa.Column("parent_id", sa.Integer(), index=True),
         sa.Column("closed", sa.Boolean(), nullable=False))
sa.Table("directory_unions", _OLD_LAYOUT, _key("union_id"),
         sa.Column("unit_id", sa.Integer(), nullable=False, index=True),
         sa.Column("level", sa.String(length=30), nullable=False),
         sa.Column("closed", sa.Boolean(), nullable=False))
sa.Table("directory_members", _OLD_LAYOUT, _key("member_id"),
         sa.Column("name", sa.String(length=100), nullable=False),
         sa.Column("unit_id", sa.Integer(), nullable=False, index=True),
         sa.Column("left", sa.Boolean(), nullable=False))
sa.Table("directory_roles", _OLD_LAYOUT, _key("member_id"), _key("union_id"),
         sa.Column("role", sa.String(length=30), primary_key=True),
         sa.Column("active", sa.Boolean(), nullable=False))


def _move_aside(bind, table, prefix):
    """Rename the table and its indexes (primary key included) with ``prefix``."""
    indexes = bind.execute(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = "
                                   "current_schema() AND tablename = :t"), {"t": table})
    for (index,) in indexes.all():
        op.execute(f'ALTER INDEX "{index}" RENAME TO "{prefix}{index}"')
    op.rename_table(table, f"{prefix}{table}")


def upgrade():
    bind = op.get_bind()
    for table in OLD_TABLES:
        _move_aside(bind, table, "old_")
    held_rows = any(bind.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM old_{table})"))
                    for table in OLD_TABLES)
    directory.create_tables(bind, resync_needed=held_rows)
    op.execute("INSERT INTO directory_units (unit_id, name, parent_id, closed_on) "
               "SELECT unit_id, name, parent_id, CASE WHEN closed THEN CURRENT_DATE END "
               "FROM old_directory_units")
    op.execute("INSERT INTO directory_unions (union_id, unit_id, level, closed_on) "
               "SELECT union_id, unit_id, level, CASE WHEN closed THEN CURRENT_DATE END "
               "FROM old_directory_unions")
    op.execute("INSERT INTO directory_members (member_id, name, unit_id, left_on) "
               'SELECT member_id, name, unit_id, CASE WHEN "left" THEN CURRENT_DATE END '
               "FROM old_directory_members")
    for table in OLD_TABLES:
        op.drop_table(f"old_{table}")


def downgrade():
    """Back to deeds' own layout; the roles held today come back as active."""
    bind = op.get_bind()
    for table in OLD_TABLES:
        _move_aside(bind, table, "new_")
    _OLD_LAYOUT.create_all(bind)
    op.execute("INSERT INTO directory_units (unit_id, name, parent_id, closed) "
               "SELECT unit_id, coalesce(name, '#' || unit_id), parent_id, "
               "closed_on IS NOT NULL AND closed_on <= CURRENT_DATE FROM new_directory_units")
    op.execute("INSERT INTO directory_unions (union_id, unit_id, level, closed) "
               "SELECT union_id, unit_id, level, "
               "closed_on IS NOT NULL AND closed_on <= CURRENT_DATE FROM new_directory_unions")
    op.execute('INSERT INTO directory_members (member_id, name, unit_id, "left") '
               "SELECT member_id, name, unit_id, "
               "left_on IS NOT NULL AND left_on <= CURRENT_DATE FROM new_directory_members")
    op.execute("INSERT INTO directory_roles (member_id, union_id, role, active) "
               "SELECT member_id, union_id, role, bool_or(starts_on <= CURRENT_DATE AND "
               "(ends_on IS NULL OR ends_on > CURRENT_DATE)) FROM new_directory_roles "
               "GROUP BY member_id, union_id, role")
    for table in OLD_TABLES:
        op.drop_table(f"new_{table}")
    op.drop_table("directory_sync")
