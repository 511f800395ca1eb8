"""Building blocks of the schemas at every boundary."""

import functools

from marshmallow import Schema, fields, validate

from gonghui.clock import today


@functools.cache
def shared(schema_cls, **options):
    """One instance per schema class (and options), reused by every call: instantiating a
    marshmallow schema copies all its fields, which costs more than loading or dumping a
    small payload. Schemas keep no state between calls, so the instance is safe to share."""
    return schema_cls(**options)


class Arguments(Schema):
    """Base of RPC argument schemas: unknown arguments are an error (marshmallow's RAISE)."""


def Id(**kwargs):  # noqa: N802 - reads like a field type
    return fields.Integer(strict=True, validate=validate.Range(min=1), **kwargs)


def Text(max_length=200, **kwargs):  # noqa: N802
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   validate.Regexp(r"\S", error="must not be blank")], **kwargs)


def OneOf(choices, **kwargs):  # noqa: N802
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def AsOf(**kwargs):  # noqa: N802
    """A date that defaults to today (China time) when omitted."""
    return fields.Date(load_default=today, **kwargs)


class Page(Arguments):
    limit = fields.Integer(strict=True, load_default=200, validate=validate.Range(min=1, max=5000))
    offset = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0))


class Tick(Arguments):
    """``tick(as_of)``: the day whose periodic work to do, always named (replays give it)."""

    as_of = fields.Date(required=True)
