"""Shared by the services' bad-input tests: which RPC methods a service has (each test's
table must cover them all), and a snapshot of its database to show nothing was written."""

import inspect

from sqlalchemy import create_engine, text


def rpc_methods(service_cls):
    return sorted(name for name, member in inspect.getmembers(service_cls)
                  if hasattr(member, "rpc_spec"))


def database_snapshot(url, **contents):
    """The row count of every table, and the rows each of ``contents`` (name -> SQL)
    selects, to catch an update that changes no count."""
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY 1"))]
        snapshot = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in tables}
        snapshot.update({name: conn.execute(text(query)).all()
                         for name, query in contents.items()})
    engine.dispose()
    return snapshot
