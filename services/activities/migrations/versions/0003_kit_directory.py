"""The kit's read model of the union tree (gonghui.directory) replaces activities' own
(``dir_units``, ``dir_unions``, ``dir_members``, ``dir_roles``).

Units, unions and members move over with their stamps (a unit's id becomes ``unit_id``, a
member's ``member_id``); role assignments move when their union and first day are known
(the kit keys them by member, union, role and first day). Activities never kept members'
e-mail, mobile or WeCom id, and roles known only from its old resync have no first day:
when the old tables held such rows, the upgrade marks the read model for a resync from
organization (the kit's timer runs it once).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from gonghui import directory

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNIT_COLUMNS = ("code, name, kind, parent_id, established_on, closed_on, "
                "info_at, name_at, parent_at, closed_at")
UNION_COLUMNS = "union_id, unit_id, level, name, established_on, closed_on, stamp"
MEMBER_COLUMNS = "employee_no, name, gender, unit_id, joined_on, left_on, stamp"
ROLE_COLUMNS = "member_id, union_id, unit_id, role, starts_on, ends_on, stamp"


def _exists(bind, sql):
    return bool(bind.scalar(sa.text(f"SELECT EXISTS ({sql})")))


def upgrade():
    bind = op.get_bind()
    unmovable = (_exists(bind, "SELECT 1 FROM dir_members")
                 or _exists(bind, "SELECT 1 FROM dir_roles "
                                  "WHERE union_id IS NULL OR starts_on IS NULL"))
    directory.create_tables(bind, resync_needed=unmovable)
    op.execute(f"INSERT INTO directory_units (unit_id, {UNIT_COLUMNS}) "
               f"SELECT id, {UNIT_COLUMNS} FROM dir_units")
    op.execute(f"INSERT INTO directory_unions ({UNION_COLUMNS}) "
               f"SELECT {UNION_COLUMNS} FROM dir_unions")
    op.execute(f"INSERT INTO directory_members (member_id, {MEMBER_COLUMNS}) "
               f"SELECT id, {MEMBER_COLUMNS} FROM dir_members")
    op.execute(f"INSERT INTO directory_roles ({ROLE_COLUMNS}) SELECT {ROLE_COLUMNS} "
               "FROM dir_roles WHERE union_id IS NOT NULL AND starts_on IS NOT NULL "
               "ON CONFLICT DO NOTHING")
    for table in ("dir_units", "dir_unions", "dir_members", "dir_roles"):
        op.drop_table(table)


def _stamp():
    return sa.Column("stamp", sa.DateTime(timezone=True), nullable=False)


def downgrade():
    """Back to activities' own tables; of a role's assignments, the latest is kept."""
    op.create_table("dir_units",
                    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("code", sa.String(length=40), nullable=True),
                    sa.Column("name", sa.String(length=200), nullable=True),
                    sa.Column("kind", sa.String(length=30), nullable=True),
                    sa.Column("parent_id", sa.Integer(), nullable=True),
                    sa.Column("established_on", sa.Date(), nullable=True),
                    sa.Column("closed_on", sa.Date(), nullable=True),
                    *[sa.Column(f"{group}_at", sa.DateTime(timezone=True), nullable=True)
                      for group in ("info", "name", "parent", "closed")],
                    sa.PrimaryKeyConstraint("id"))
    op.create_index(op.f("ix_dir_units_parent_id"), "dir_units", ["parent_id"])
    op.create_table("dir_unions",
                    sa.Column("union_id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("level", sa.String(length=30), nullable=False),
                    sa.Column("name", sa.String(length=200), nullable=True),
                    sa.Column("established_on", sa.Date(), nullable=True),
                    sa.Column("closed_on", sa.Date(), nullable=True),
                    _stamp(),
                    sa.PrimaryKeyConstraint("union_id"))
    op.create_index(op.f("ix_dir_unions_unit_id"), "dir_unions", ["unit_id"])
    op.create_table("dir_members",
                    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("employee_no", sa.String(length=40), nullable=False),
                    sa.Column("name", sa.String(length=100), nullable=False),
                    sa.Column("gender", sa.String(length=10), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("joined_on", sa.Date(), nullable=False),
                    sa.Column("left_on", sa.Date(), nullable=True),
                    _stamp(),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index(op.f("ix_dir_members_employee_no"), "dir_members", ["employee_no"])
    op.create_index(op.f("ix_dir_members_unit_id"), "dir_members", ["unit_id"])
    op.create_table("dir_roles",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("member_id", sa.Integer(), nullable=False),
                    sa.Column("unit_id", sa.Integer(), nullable=False),
                    sa.Column("role", sa.String(length=30), nullable=False),
                    sa.Column("union_id", sa.Integer(), nullable=True),
                    sa.Column("starts_on", sa.Date(), nullable=True),
                    sa.Column("ends_on", sa.Date(), nullable=True),
                    _stamp(),
                    sa.PrimaryKeyConstraint("id"),
                    sa.UniqueConstraint("member_id", "unit_id", "role"))
    op.create_index(op.f("ix_dir_roles_unit_id"), "dir_roles", ["unit_id"])
    # The old tables required what the kit's may lack: a stamp of NULL ("older than any
    # event") becomes the epoch, a member's missing details empty.
    op.execute(f"INSERT INTO dir_units (id, {UNIT_COLUMNS}) "
               f"SELECT unit_id, {UNIT_COLUMNS} FROM directory_units")
    op.execute(f"INSERT INTO dir_unions ({UNION_COLUMNS}) "
               "SELECT union_id, unit_id, level, name, established_on, closed_on, "
               "coalesce(stamp, 'epoch') FROM directory_unions")
    op.execute(f"INSERT INTO dir_members (id, {MEMBER_COLUMNS}) "
               "SELECT member_id, coalesce(employee_no, ''), name, coalesce(gender, ''), "
               "unit_id, coalesce(joined_on, 'epoch'), left_on, coalesce(stamp, 'epoch') "
               "FROM directory_members")
    op.execute(f"INSERT INTO dir_roles ({ROLE_COLUMNS}) "
               "SELECT DISTINCT ON (member_id, unit_id, role) member_id, union_id, unit_id, "
               "role, starts_on, ends_on, coalesce(stamp, 'epoch') FROM directory_roles "
               "ORDER BY member_id, unit_id, role, starts_on DESC")
    directory.drop_tables(op.get_bind())
