"""Alembic helpers shared by every service's migrations."""

import os
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gonghui.tables import KIT_METADATA

# The kit's tables as every service's first migration made them; a table the kit gained
# later is created by a migration of its own in each service (``create_kit_table``).
FIRST_KIT_TABLES = ("outbox", "inbox", "audit_log")


def create_kit_tables():
    """Called from a service's first migration: outbox, inbox and audit tables."""
    KIT_METADATA.create_all(op.get_bind(),
                            tables=[KIT_METADATA.tables[n] for n in FIRST_KIT_TABLES])


def create_kit_table(name):
    """Called from a later migration when the kit gains a table."""
    KIT_METADATA.tables[name].create(op.get_bind())


def drop_kit_table(name):
    KIT_METADATA.tables[name].drop(op.get_bind())


def drop_kit_tables():
    KIT_METADATA.drop_all(op.get_bind(),
                          tables=[KIT_METADATA.tables[n] for n in FIRST_KIT_TABLES])


def alembic_config(service_name, database_url):
    package_dir = Path(__file__).resolve().parent.parent / "services" / service_name
    config = Config()
    config.set_main_option("script_location", str(package_dir / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["service_name"] = service_name
    return config


def ensure_database(database_url):
    """Create the database named in the URL if it does not exist (needs CREATEDB)."""
    url = make_url(database_url)
    admin = create_engine(url.set(database=os.environ.get("GONGHUI_ADMIN_DB", "postgres")),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": url.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def migrate(service_name, database_url, revision="head"):
    ensure_database(database_url)
    command.upgrade(alembic_config(service_name, database_url), revision)


def run_env(target_metadata, *more_metadata):
    """Body of every service's ``migrations/env.py``: its models' metadata, the kit's, and
    any more it keeps (the read model of the tree, :mod:`gonghui.directory`)."""
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    metadata = [target_metadata, KIT_METADATA, *more_metadata]
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"),
                          target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
