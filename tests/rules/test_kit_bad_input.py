"""The kit's refusal of unstorable text, without a broker: the walk over a payload, the
errors it gives field by field, and that no RPC method can skip it."""

import pytest
from marshmallow import Schema, fields

from gonghui.entrypoints import load_arguments, rpc
from gonghui.errors import ValidationError
from gonghui.schemas import Arguments, unstorable_text
from tests.support.bad_input import LONE_SURROGATE, NUL


class Example(Arguments):
    name = fields.String()
    tags = fields.List(fields.String())
    extra = fields.Dict()
    raw = fields.Raw()


def test_every_string_in_the_payload_is_walked_and_named_by_its_path():
    payload = {"name": "ok", "tags": ["ok", f"b{NUL}d"], "raw": {"deep": [LONE_SURROGATE]},
               "extra": {f"k{NUL}": 1}}
    assert unstorable_text(payload) == {
        "tags": {1: ["must not contain a NUL byte"]},
        "raw": {"deep": {0: ["must not contain a lone surrogate (not valid Unicode)"]}},
        "extra": ["keys must not contain a NUL byte"]}
    assert unstorable_text({"name": "工会 \U0001f600", "tags": ["\t"], "raw": 1}) is None


def test_positional_arguments_and_argument_names_are_covered():
    with pytest.raises(ValidationError) as info:
        load_arguments(Example, (f"x{NUL}",), {})
    assert info.value.fields == {"name": ["must not contain a NUL byte"]}
    with pytest.raises(ValidationError) as info:
        load_arguments(Example, (), {f"na{LONE_SURROGATE}me": "x"})
    assert list(info.value.fields) == ["_schema"]
    assert load_arguments(Example, ("正常",), {}) == {"name": "正常"}


def test_an_rpc_argument_schema_must_derive_from_the_kits_base():
    class Plain(Schema):
        name = fields.String()

    with pytest.raises(TypeError, match="Arguments"):
        rpc(args=Plain)
