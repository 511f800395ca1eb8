"""The kit's pure parts: no broker, no database."""

import logging
import uuid

import pytest
from marshmallow import Schema, fields

from gonghui.actor import Actor
from gonghui.entrypoints import PoisonEvent, load_arguments, parse_envelope
from gonghui.errors import Forbidden, ValidationError
from gonghui.events import EventType, InvalidEventData, build_envelope
from gonghui.logging import MaskPersonalData, mask_personal_data


class Data(Schema):
    unit_id = fields.Integer(required=True)
    name = fields.String(required=True)


DECLARED = EventType("probe", "thing_happened", Data, "test")


def test_envelope_has_the_designed_fields():
    env = build_envelope(DECLARED, {"unit_id": 3, "name": "x"}, Actor("officer", "E1"))
    assert set(env) == {"id", "type", "version", "occurred_at", "producer", "actor", "data"}
    assert env["type"] == "probe.thing_happened" and env["producer"] == "probe"
    assert env["actor"] == {"kind": "officer", "id": "E1"}
    uuid.UUID(env["id"])
    assert env["occurred_at"].endswith("+00:00")


def test_emitting_data_that_breaks_the_contract_is_refused():
    with pytest.raises(InvalidEventData):
        build_envelope(DECLARED, {"unit_id": 3}, Actor("system", "tick"))


def test_envelope_parsing_rejects_garbage_as_poison():
    with pytest.raises(PoisonEvent):
        parse_envelope({"hello": "world"})
    with pytest.raises(PoisonEvent):
        parse_envelope("not even a dict")


def test_arguments_positional_and_named_map_onto_schema_order():
    assert load_arguments(Data, (1, "a"), {}) == {"unit_id": 1, "name": "a"}
    assert load_arguments(Data, (), {"name": "a", "unit_id": 2}) == {"unit_id": 2, "name": "a"}


@pytest.mark.parametrize("args,kwargs,field", [
    ((), {"unit_id": "x", "name": "a"}, "unit_id"),
    ((), {"name": "a"}, "unit_id"),
    ((), {"unit_id": 1, "name": "a", "extra": 1}, "extra"),
    ((1,), {"unit_id": 1, "name": "a"}, "unit_id"),
])
def test_bad_arguments_raise_field_errors(args, kwargs, field):
    with pytest.raises(ValidationError) as info:
        load_arguments(Data, args, kwargs)
    assert field in info.value.fields


def test_actor_parsing():
    assert Actor.parse("member:E1001") == Actor("member", "E1001")
    for bad in (None, "", "nobody", "alien:1", "member:"):
        with pytest.raises(Forbidden):
            Actor.parse(bad)


def test_personal_data_is_masked_in_logs(caplog):
    assert mask_personal_data("call 13812345678 or a.b@example.com") == \
        "call 138****5678 or a***@example.com"
    logger = logging.getLogger("masking-test")
    handler_filter = MaskPersonalData()
    record = logger.makeRecord("x", logging.INFO, __file__, 1, "member %s phone %s", (
        "zhang@example.cn", "13900001111"), None)
    handler_filter.filter(record)
    assert record.getMessage() == "member z***@example.cn phone 139****1111"


def test_services_log_through_the_masking_filter(capsys):
    """The logging config every service runs with (deploy/nameko.yaml) masks personal data."""
    import logging.config
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "nameko.yaml")
                            .read_text())["LOGGING"]
    config["root"]["level"] = "INFO"  # the file reads it from the environment
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    logging.config.dictConfig(config)
    try:
        logging.getLogger("services.test").info("member 13912345678 wang@xny.example.cn")
        err = capsys.readouterr().err
        assert "139****5678" in err and "w***@xny.example.cn" in err
        assert "13912345678" not in err
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
