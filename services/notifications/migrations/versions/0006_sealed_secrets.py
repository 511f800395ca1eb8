"""secrets at rest: webhook and robot secrets and robot URLs encrypted

Revision ID: 0006
Revises: 0005

The columns that hold a secret — ``webhook_subscriptions.url`` and ``.secret``,
``unit_robots.webhook_url`` (WeCom's and DingTalk's key is in its query) and ``.secret`` —
hold Fernet tokens from now on (``services/notifications/sealing.py``), sealed with the key
of the environment's ``SECRETS_KEY``. The upgrade seals the rows already there, the
downgrade opens them again; both need ``SECRETS_KEY`` when there are rows (and say so), none
when there are not. The column types stay ``text``.
"""
import sqlalchemy as sa
from alembic import op

from services.notifications import sealing

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SEALED = {"webhook_subscriptions": ("url", "secret"), "unit_robots": ("webhook_url", "secret")}


def _rewrite(change):
    bind = op.get_bind()
    ring = None
    for name, columns in SEALED.items():
        table = sa.table(name, sa.column("id"), *[sa.column(c) for c in columns])
        for row in bind.execute(sa.select(table)).all():
            if ring is None:
                ring = sealing.keyring(sealing.setting_of(None))
            values = {c: None if row._mapping[c] is None else change(row._mapping[c], ring)
                      for c in columns}
            bind.execute(table.update().where(table.c.id == row.id).values(**values))


def upgrade():
    _rewrite(sealing.seal)


def downgrade():
    _rewrite(sealing.unseal)
