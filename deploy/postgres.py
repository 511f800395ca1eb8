"""One PostgreSQL login role and one database per service, owned by that role.

The role is named after the service and can connect only to its own database (CONNECT is
revoked from PUBLIC), so a service cannot read another's data. Idempotent: running it again
only resets the password (and the ownership) to what it is given.

``python -m deploy.postgres ensure <service>`` reads GONGHUI_PG_ADMIN_URL (default: the local
postgres superuser) and ``<SERVICE>_DB_PASSWORD``.
"""

import os
import re
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _names(service):
    if not _NAME.match(service):
        raise ValueError(f"invalid service name {service!r}")
    return service, f"gonghui_{service}"


def database_url(service, password, host="127.0.0.1", port=5432):
    """SQLAlchemy URL of the service's own database as its own role (password URL-encoded)."""
    role, database = _names(service)
    return URL.create("postgresql+psycopg2", username=role, password=password, host=host,
                      port=int(port), database=database).render_as_string(hide_password=False)


def ensure_service_database(admin_url, service, password):
    """Create (or update) role ``<service>`` and database ``gonghui_<service>``."""
    role, database = _names(service)
    if not password:
        raise ValueError(f"empty password for database role {role}")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created = []
    try:
        with engine.connect() as conn:
            # identifiers are validated above; the password is a bound literal (psycopg2
            # interpolates it client-side, quoted), never formatted into the statement
            if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                conn.execute(text(f'ALTER ROLE "{role}" LOGIN PASSWORD :p'), {"p": password})
            else:
                conn.execute(text(f'CREATE ROLE "{role}" LOGIN PASSWORD :p'), {"p": password})
                created.append(f"role {role}")
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                           {"d": database}):
                conn.execute(text(f'ALTER DATABASE "{database}" OWNER TO "{role}"'))
            else:
                conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{role}"'))
                created.append(f"database {database}")
            conn.execute(text(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC'))
            conn.execute(text(f'GRANT ALL ON DATABASE "{database}" TO "{role}"'))
    finally:
        engine.dispose()
    return created


def drop_service_database(admin_url, service):
    """Drop the database and the role (throwaway services in tests)."""
    role, database = _names(service)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    finally:
        engine.dispose()


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "ensure":
        print("usage: python -m deploy.postgres ensure <service>", file=sys.stderr)
        return 2
    from deploy import infra

    service = args[1]
    variable = f"{service.upper()}_DB_PASSWORD"
    password = os.environ.get(variable)
    if not password:
        print(f"missing environment variable {variable}", file=sys.stderr)
        return 2
    created = ensure_service_database(infra.PG_ADMIN_URL, service, password)
    print(f"{service}: " + (", ".join(f"created {c}" for c in created) or "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
