"""Shared by the services' bad-input tests: which RPC methods a service has (each test's
table must cover them all), a snapshot of its database to show nothing was written, and
the check that strings holding a NUL byte or a lone surrogate are refused field by field."""

import inspect

import pytest
from sqlalchemy import create_engine, text

from gonghui.errors import ValidationError


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


NUL, LONE_SURROGATE = "\x00", "\ud800"


def assert_unstorable_text_refused(proxy, cases):
    """Each ``(method, arguments, path)`` is answered with a ``ValidationError`` whose field
    messages, followed down ``path`` (argument name, then keys or list indexes as strings:
    the errors crossed JSON), say the string must not contain what it held. The cases hold
    a NUL byte and a lone surrogate between them."""
    held = repr([arguments for _, arguments, _ in cases])  # repr escapes both
    assert repr(NUL)[1:-1] in held and repr(LONE_SURROGATE)[1:-1] in held, "cover both kinds"
    for method, arguments, path in cases:
        with pytest.raises(ValidationError) as info:
            getattr(proxy, method)(**arguments)
        found = info.value.fields
        for key in path:
            assert isinstance(found, dict) and key in found, (method, path, info.value.fields)
            found = found[key]
        assert found and all("must not contain" in m for m in found), (method, found)
