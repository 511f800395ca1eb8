"""The kit's read model of the union tree (gonghui.directory) replaces notifications' own
(``dir_units``, ``dir_unions``, ``dir_members``, ``dir_roles``).

Every row moves: a unit's ``event_at`` becomes the stamp of each of its column groups, a
union's and a member's their stamp; what notifications never kept (units' and unions' first
days, members' gender and joining day) is left NULL, meaning "not known" (the next event of
that row fills it in). Role assignments were already keyed by member, union, role and first
day as the kit keys them; they carry no stamp (NULL: older than any event). Nothing is lost,
so no resync from organization is asked for.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from gonghui import directory

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UNIT_STAMPS = ("info_at", "name_at", "parent_at", "closed_at")
ROLE_COLUMNS = "member_id, union_id, unit_id, role, starts_on, ends_on"


def upgrade():
    directory.create_tables(op.get_bind(), resync_needed=False)
    op.execute(f"INSERT INTO directory_units (unit_id, code, name, kind, parent_id, closed_on, "
               f"{', '.join(UNIT_STAMPS)}) SELECT unit_id, code, name, kind, parent_id, "
               f"closed_on, {', '.join(['event_at'] * len(UNIT_STAMPS))} FROM dir_units")
    op.execute("INSERT INTO directory_unions (union_id, unit_id, level, name, closed_on, stamp) "
               "SELECT union_id, unit_id, level, name, closed_on, event_at FROM dir_unions")
    op.execute("INSERT INTO directory_members (member_id, employee_no, name, unit_id, email, "
               "mobile, wecom_id, left_on, stamp) SELECT member_id, employee_no, name, "
               "unit_id, email, mobile, wecom_id, left_on, event_at FROM dir_members")
    op.execute(f"INSERT INTO directory_roles ({ROLE_COLUMNS}) "
               f"SELECT {ROLE_COLUMNS} FROM dir_roles")
    for table in ("dir_units", "dir_unions", "dir_members", "dir_roles"):
        op.drop_table(table)


def _event_at():
    return sa.Column("event_at", sa.DateTime(timezone=True), nullable=True)


def downgrade():
    """Back to notifications' own tables (as revision 0001 made them); a unit's stamp is the
    latest of its groups', and a name the kit did not know is written empty."""
    op.create_table("dir_units",
                    sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("code", sa.String(length=40), nullable=True),
                    sa.Column("name", sa.String(length=200), nullable=False),
                    sa.Column("kind", sa.String(length=30), nullable=True),
                    sa.Column("parent_id", sa.Integer(), nullable=True),
                    sa.Column("closed_on", sa.Date(), nullable=True),
                    _event_at(),
                    sa.PrimaryKeyConstraint("unit_id"))
    op.create_index(op.f("ix_dir_units_parent_id"), "dir_units", ["parent_id"])
    op.create_table("dir_unions",
                    sa.Column("union_id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("level", sa.String(length=30), nullable=False),
                    sa.Column("name", sa.String(length=200), nullable=False),
                    sa.Column("closed_on", sa.Date(), nullable=True),
                    _event_at(),
                    sa.PrimaryKeyConstraint("union_id"))
    op.create_index(op.f("ix_dir_unions_unit_id"), "dir_unions", ["unit_id"])
    op.create_table("dir_members",
                    sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("employee_no", sa.String(length=40), nullable=True),
                    sa.Column("name", sa.String(length=100), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("email", sa.String(length=200), nullable=True),
                    sa.Column("mobile", sa.String(length=20), nullable=True),
                    sa.Column("wecom_id", sa.String(length=100), nullable=True),
                    sa.Column("left_on", sa.Date(), nullable=True),
                    _event_at(),
                    sa.PrimaryKeyConstraint("member_id"))
    op.create_index(op.f("ix_dir_members_unit_id"), "dir_members", ["unit_id"])
    op.create_table("dir_roles",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("member_id", sa.Integer(), nullable=False),
                    sa.Column("union_id", sa.Integer(), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("role", sa.String(length=30), nullable=False),
                    sa.Column("starts_on", sa.Date(), nullable=False),
                    sa.Column("ends_on", sa.Date(), nullable=True),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("member_id", "union_id", "role", "starts_on"))
    op.create_index(op.f("ix_dir_roles_member_id"), "dir_roles", ["member_id"])
    op.create_index(op.f("ix_dir_roles_union_id"), "dir_roles", ["union_id"])
    op.execute("INSERT INTO dir_units (unit_id, code, name, kind, parent_id, closed_on, "
               "event_at) SELECT unit_id, code, coalesce(name, ''), kind, parent_id, "
               f"closed_on, greatest({', '.join(UNIT_STAMPS)}) FROM directory_units")
    op.execute("INSERT INTO dir_unions (union_id, unit_id, level, name, closed_on, event_at) "
               "SELECT union_id, unit_id, level, coalesce(name, ''), closed_on, stamp "
               "FROM directory_unions")
    op.execute("INSERT INTO dir_members (member_id, employee_no, name, unit_id, email, mobile, "
               "wecom_id, left_on, event_at) SELECT member_id, employee_no, name, unit_id, "
               "email, mobile, wecom_id, left_on, stamp FROM directory_members")
    op.execute(f"INSERT INTO dir_roles ({ROLE_COLUMNS}) "
               f"SELECT {ROLE_COLUMNS} FROM directory_roles")
    directory.drop_tables(op.get_bind())
