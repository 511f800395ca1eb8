"""Building blocks of the schemas at every boundary."""

import functools
import re

from marshmallow import Schema, ValidationError, fields, pre_load, validate
from marshmallow.schema import SchemaMeta

from gonghui.clock import today


@functools.cache
def shared(schema_cls, **options):
    """One instance per schema class (and options), reused by every call: instantiating a
    marshmallow schema copies all its fields, which costs more than loading or dumping a
    small payload. Schemas keep no state between calls, so the instance is safe to share."""
    return schema_cls(**options)


# What no string argument may hold: a NUL byte (PostgreSQL's text cannot store it) or a lone
# surrogate (not Unicode: UTF-8 cannot encode it). Python strings never pair surrogates, so
# any code point in U+D800..U+DFFF is a lone one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text):
    """What makes ``text`` impossible to store or pass on (a phrase), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "a NUL byte" if found.group() == "\x00" else "a lone surrogate (not valid Unicode)"


def unstorable_text(value):
    """marshmallow-shaped errors of every string in ``value`` (nested in dicts and lists, dict
    keys included) that :func:`unstorable` refuses, or None: ``[message]`` for a string, or a
    dict (or list) of its keys' (indexes') errors. A bad key is reported on its dict (the key
    is not echoed back)."""
    if isinstance(value, str):
        problem = unstorable(value)
        return [f"must not contain {problem}"] if problem else None
    if isinstance(value, dict):
        for key in value:
            problem = unstorable(key) if isinstance(key, str) else None
            if problem:
                return [f"keys must not contain {problem}"]
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    errors = {key: found for key, item in items if (found := unstorable_text(item))}
    return errors or None


class Arguments(Schema):
    """Base of RPC argument schemas: unknown arguments are an error (marshmallow's RAISE), and
    no string anywhere in the arguments may hold a NUL byte or a lone surrogate.

    The check walks the raw payload before any field loads, so it covers every field of
    every service's schemas whatever its type (``fields.String``, ``Dict`` keys and values,
    lists of strings, nested schemas, ``Raw``) and the names of unknown arguments too."""

    @pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        errors = unstorable_text(data)
        if errors:
            raise ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


# The largest id a column can hold: PostgreSQL's integer, or bigint for the tables that grow
# by the million (deliveries, inbox items). A larger number is refused as bad input, not
# left to fail in the database.
MAX_ID, MAX_BIG_ID = 2**31 - 1, 2**63 - 1


def Id(big=False, **kwargs):  # noqa: N802 - reads like a field type
    return fields.Integer(strict=True, validate=validate.Range(
        min=1, max=MAX_BIG_ID if big else MAX_ID), **kwargs)


def Text(max_length=200, **kwargs):  # noqa: N802
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   validate.Regexp(r"\S", error="must not be blank")], **kwargs)


def OneOf(choices, **kwargs):  # noqa: N802
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def AsOf(**kwargs):  # noqa: N802
    """A date that defaults to today (China time) when omitted."""
    return fields.Date(load_default=today, **kwargs)


class _TotalLast(SchemaMeta):
    """Puts ``with_total`` after every other field of a :class:`Page` schema: arguments
    given by position follow the fields' order, and the flag came after the filters, so
    the filters keep the positions they had."""

    @classmethod
    def get_declared_fields(mcs, klass, cls_fields, inherited_fields, dict_cls=dict):  # noqa: N804
        declared = super().get_declared_fields(klass, cls_fields, inherited_fields, dict_cls)
        flag = declared.pop("with_total", None)
        if flag is not None:
            declared["with_total"] = flag
        return declared


class Page(Arguments, metaclass=_TotalLast):
    """The paging arguments of a list RPC (see :mod:`gonghui.paging`)."""

    limit = fields.Integer(strict=True, load_default=200, validate=validate.Range(min=1, max=5000))
    offset = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0))
    with_total = fields.Boolean(load_default=False, metadata={"description": (
        "true: answer `{\"items\": [...], \"total\": n}` instead of the list, `items` this "
        "page and `total` how many rows the same filters match in all")})


class Tick(Arguments):
    """``tick(as_of)``: the day whose periodic work to do, always named (replays give it)."""

    as_of = fields.Date(required=True)
