"""The generated documents (docs/asyncapi.yaml, docs/rpc.md, docs/architecture.md,
docs/openapi.json) are up to date and tell the truth: every event type has its channel and
envelope schema, real envelopes conform to it, every RPC method is documented with its
arguments and the actors it takes, and the OpenAPI document is the gateway's."""

import json
import re
import uuid
from datetime import UTC, date, datetime

import pytest
import yaml

from deploy import docs
from deploy.services import SERVICES
from gonghui.actor import Actor
from gonghui.events import CATALOG, EnvelopeSchema, build_envelope

try:
    import jsonschema
except ImportError:  # not a dependency: docs.schema_errors does the checking then
    jsonschema = None

ENVELOPE_FIELDS = sorted(EnvelopeSchema().fields)
OFFICER = Actor("officer", "E001")


@pytest.fixture(scope="module")
def document():
    return docs.asyncapi_document()


@pytest.fixture(scope="module")
def rpc_markdown():
    return docs.rpc_reference()


def conformance_errors(value, schema):
    found = docs.schema_errors(value, schema)
    if jsonschema is not None:
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
        found += [f"jsonschema: {e.message}" for e in validator.iter_errors(value)]
    return found


# ------------------------------------------------------------------ (a) staleness


def test_committed_documents_are_up_to_date():
    stale = docs.check_documents()
    assert not stale, (f"stale generated document(s): {[str(p) for p in stale]}; "
                       f"regenerate with `{docs.REGENERATE}` and commit the result")


def test_generation_is_deterministic(document, rpc_markdown):
    assert docs.asyncapi_document() == document
    assert docs.rpc_reference() == rpc_markdown


def test_check_names_stale_and_missing_files(tmp_path):
    assert sorted(docs.check_documents(tmp_path)) == sorted(
        [tmp_path / path for path in (docs.ASYNCAPI_PATH, docs.RPC_PATH, docs.ARCHITECTURE_PATH,
                                       docs.OPENAPI_PATH)])
    docs.write_documents(tmp_path)
    assert docs.check_documents(tmp_path) == []
    (tmp_path / docs.RPC_PATH).write_text("edited by hand\n", encoding="utf-8")
    assert docs.check_documents(tmp_path) == [tmp_path / docs.RPC_PATH]


def test_cli_check_exits_1_with_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    assert docs.main(["check"]) == 1
    err = capsys.readouterr().err
    assert "asyncapi.yaml" in err and "rpc.md" in err and docs.REGENERATE in err
    assert docs.main(["write"]) == 0
    assert docs.main(["check"]) == 0


def test_committed_yaml_is_the_document(document):
    with open(docs.ROOT / docs.ASYNCAPI_PATH, encoding="utf-8") as fh:
        assert yaml.safe_load(fh) == document


# ------------------------------------------------------------------ (b) channels and schemas


def test_every_event_type_has_a_channel(document):
    docs.load_event_catalog()
    assert CATALOG, "no event type declared"
    expected = {f"{d.exchange}/{d.name}": d for d in CATALOG.values()}
    assert set(document["channels"]) == set(expected)
    assert set(document["components"]["messages"]) == set(CATALOG)
    for name, declared in expected.items():
        channel = document["channels"][name]
        amqp = channel["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"] == {"name": declared.exchange, "type": "topic",
                                    "durable": True, "autoDelete": False, "vhost": "gonghui"}
        assert amqp["x-routing-key"] == declared.name
        operation = channel["subscribe"]
        assert operation["bindings"]["amqp"]["cc"] == [declared.name]
        assert operation["message"] == {"$ref": f"#/components/messages/{declared.type}"}


def test_every_payload_requires_the_envelope_fields(document):
    for event_type, declared in CATALOG.items():
        payload = document["components"]["messages"][event_type]["payload"]
        assert sorted(payload["required"]) == ENVELOPE_FIELDS, event_type
        assert sorted(payload["properties"]) == ENVELOPE_FIELDS, event_type
        assert payload["additionalProperties"] is False
        props = payload["properties"]
        assert props["type"]["const"] == event_type
        assert props["version"]["const"] == declared.version
        assert props["producer"]["const"] == declared.producer
        data = props["data"]["$ref"].removeprefix(docs.SCHEMA_REF)
        assert data in document["components"]["schemas"]

        schema = docs.envelope_json_schema(event_type, document)
        assert "$ref" not in repr(schema)
        required = {n for n, f in declared.schema().fields.items() if f.required}
        assert set(schema["properties"]["data"].get("required", [])) == required
        assert set(schema["properties"]["data"]["properties"]) == set(declared.schema().fields)


def test_formats_enums_nullables_and_nesting_are_converted(document):
    schemas = document["components"]["schemas"]
    envelope = schemas["Envelope"]["properties"]
    assert envelope["id"]["format"] == "uuid"
    assert envelope["occurred_at"]["format"] == "date-time"
    member = schemas["organization.MemberData"]["properties"]
    assert member["joined_on"] == {"type": "string", "format": "date"}
    assert member["email"]["type"] == ["string", "null"]
    election = schemas["organization.ElectionData"]["properties"]
    assert election["committee"]["type"] == "array"
    assert election["committee"]["items"] == {
        "$ref": "#/components/schemas/organization.CommitteeSeat"}
    reminder = schemas["organization.TermReminderData"]["properties"]
    assert reminder["recipient_member_ids"] == {"type": "array", "items": {"type": "integer"}}


def test_json_schema_conversion_of_argument_schemas():
    from services.organization import schemas as s

    converter = docs.SchemaConverter()
    converter.ref(s.RecordElection)
    converter.ref(s.AddMember)
    converter.ref(s.EscalationQuery)
    converted = converter.schemas()
    election = converted["organization.RecordElection"]
    assert sorted(election["required"]) == ["committee", "held_on", "term_ends_on",
                                            "term_starts_on", "unit_id"]
    assert election["properties"]["committee"]["minItems"] == 1
    assert election["properties"]["committee"]["maxItems"] == 60
    assert converted["organization.Seat"]["properties"]["role"]["enum"] == [
        "chair", "vice_chair", "committee_member"]
    member = converted["organization.AddMember"]["properties"]
    assert member["email"]["format"] == "email"
    assert member["mobile"]["pattern"] == r"^1[3-9]\d{9}$"
    assert member["name"]["maxLength"] == 100
    assert member["unit_id"]["minimum"] == 1
    levels = converted["organization.EscalationQuery"]["properties"]["levels_up"]
    assert (levels["minimum"], levels["maximum"], levels["default"]) == (1, 5, 1)


# ------------------------------------------------------------------ (c) real envelopes


def _examples():
    from services.organization import events as ev

    day = date(2025, 3, 1)
    unit = {"unit_id": 7, "unit_name": "检修车间"}
    return [
        (ev.UNIT_CREATED, {**unit, "code": "C07", "kind": "workshop", "domain": "生产",
                           "parent_id": 1, "parent_name": "新型能源公司",
                           "established_on": day}),
        (ev.UNIT_CREATED, {**unit, "code": "C01", "kind": "company", "domain": None,
                           "parent_id": None, "parent_name": None, "established_on": None}),
        (ev.MEMBER_JOINED, {**unit, "member_id": 3, "employee_no": "E003", "name": "李娜",
                            "gender": "female", "email": "lina@example.com", "mobile": None,
                            "wecom_id": None, "joined_on": day, "left_on": None}),
        (ev.ELECTION_RECORDED, {**unit, "union_id": 2, "union_name": "检修车间分会",
                                "term_id": 5, "number": 2, "starts_on": day,
                                "ends_on": date(2030, 2, 28), "election_id": 1,
                                "held_on": day, "closed_term_id": 4, "committee": [
                                    {"member_id": 3, "member_name": "李娜", "role": "chair"}]}),
        (ev.TERM_EXPIRING, {**unit, "union_id": 2, "union_name": "检修车间分会", "term_id": 5,
                            "number": 2, "starts_on": day, "ends_on": date(2030, 2, 28),
                            "days_left": 30, "as_of": date(2030, 1, 29),
                            "recipient_member_ids": [3, 9], "parent_unit_id": None}),
        (ev.REGULATION_ISSUED, {"regulation_id": 1, "title": "工会经费管理办法",
                                "category": "rule", "status": "issued", "issuing_unit_id": 1,
                                "issuing_unit_name": "新型能源公司", "version": 1,
                                "effective_on": day, "change_summary": None}),
    ]


@pytest.mark.parametrize("index", range(len(_examples())))
def test_real_envelopes_conform(document, index):
    declared, data = _examples()[index]
    envelope = build_envelope(declared, data, OFFICER)
    schema = docs.envelope_json_schema(declared.type, document)
    assert conformance_errors(envelope, schema) == []
    assert docs.envelope_errors(envelope, document) == []


def test_broken_envelopes_are_caught(document):
    declared, data = _examples()[2]
    good = build_envelope(declared, data, OFFICER, occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
                          event_id=uuid.UUID(int=1))
    schema = docs.envelope_json_schema(declared.type, document)
    broken = {
        "missing data field": {**good, "data": {k: v for k, v in good["data"].items()
                                                if k != "member_id"}},
        "wrong version": {**good, "version": 2},
        "other type": {**good, "type": "organization.member_left"},
        "bad date": {**good, "data": {**good["data"], "joined_on": "01/03/2025"}},
        "naive time": {**good, "occurred_at": "2025-03-01T08:00:00"},
        "bad id": {**good, "id": "not-a-uuid"},
        "null where not nullable": {**good, "data": {**good["data"], "name": None}},
        "string for integer": {**good, "data": {**good["data"], "member_id": "3"}},
        "extra envelope field": {**good, "extra": 1},
        "actor without id": {**good, "actor": {"kind": "officer"}},
    }
    for case, envelope in broken.items():
        assert conformance_errors(envelope, schema), case
    # Event data is open: a field added later does not break an older consumer's schema.
    assert conformance_errors({**good, "data": {**good["data"], "new_field": 1}}, schema) == []
    assert docs.envelope_errors({**good, "type": "organization.nothing"}, document)


# ------------------------------------------------------------------ (d) the RPC reference


def _sections(markdown):
    parts = re.split(r"^### `([a-z_]+\.[a-z_0-9]+)`$", markdown, flags=re.M)
    return {parts[i]: parts[i + 1].split("\n### ")[0] for i in range(1, len(parts), 2)}


def test_every_rpc_method_is_documented_with_its_arguments(rpc_markdown):
    sections = _sections(rpc_markdown)
    services = docs.discover_services()
    assert [name for name, _ in services] == [s.name for s in SERVICES]
    documented = 0
    for service, cls in services:
        methods = docs.rpc_methods(cls)
        assert "health" in dict(methods), "inherited methods are documented too"
        for name, spec in methods:
            key = f"{service}.{name}"
            assert key in sections, f"{key} missing from rpc.md"
            section = sections[key]
            if spec.args is None:
                assert "**Arguments**: none." in section
            else:
                for arg, field in spec.args().fields.items():
                    if field.dump_only:
                        continue
                    assert re.search(rf"^\| \d+ \| `{arg}` \|", section, re.M), (key, arg)
            writes = re.findall(r"^\*\*Writes\*\*: (yes|no)", section, re.M)
            assert writes == (["yes"] if spec.writes else ["no"]), key
            assert section.count("**Result**") == 1, key
            assert "`ValidationError`" in section
            for error in spec.errors:
                assert f"`{error.__name__}`" in section, (key, error)
            documented += 1
    assert len(sections) == documented


def test_rpc_reference_details(rpc_markdown):
    sections = _sections(rpc_markdown)
    add_member = sections["organization.add_member"]
    assert "| `gender` | string | required | one of `female`, `male` |" in add_member
    assert "default: today (China time)" in add_member
    assert "`Forbidden`" in add_member
    assert "list of [`UnitOut`]" in sections["organization.list_units"]
    assert "list of [`Seat`](#organization-input-seat)" in sections["organization.record_election"]
    assert '<a id="organization-input-seat"></a>' in rpc_markdown
    assert 'context_data={"actor": "officer:E001"}' in rpc_markdown


# ------------------------------------------------------------------ tables that hold together

_DELIMITER_ROW = re.compile(r"^\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?$")


def table_cells(row):
    """The cells of a GFM table row: split on every pipe a backslash does not escape (GFM
    takes ``\\|`` as a literal pipe wherever it stands, in code spans too)."""
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return re.split(r"(?<!\\)\|", inner)


def table_rows_off_width(lines):
    """``[(line number, header cells, row cells, row)]`` of every table row whose number of
    cells differs from its header's, or that does not start and end with a pipe (a cell with
    a line break ends the table there and leaves the rest of the row as stray text)."""
    found, tables = [], 0
    for i, line in enumerate(lines):
        if i == 0 or not line.startswith("|") or not _DELIMITER_ROW.match(line):
            continue
        tables += 1
        width = len(table_cells(lines[i - 1]))
        j = i
        while j < len(lines) and lines[j].strip():
            row = lines[j]
            cells = len(table_cells(row))
            if cells != width or not (row.startswith("|") and row.endswith("|")):
                found.append((j + 1, width, cells, row))
            j += 1
    return found, tables


def test_the_table_check_sees_broken_rows():
    table = ["| a | b |", "|---|---|", "| `x\\|y` | z |", "| one | two | three |",
             "| cut", "off |"]
    assert [n for n, *_ in table_rows_off_width(table)[0]] == [4, 5, 6]


def test_every_table_row_of_rpc_md_has_as_many_cells_as_its_header():
    text = (docs.ROOT / docs.RPC_PATH).read_text(encoding="utf-8")
    assert "\r" not in text
    broken, tables = table_rows_off_width(text.split("\n"))
    assert tables > 100, "the tables were not found"
    assert broken == []


def test_no_description_can_break_a_table_row():
    """Pipes, newlines (also ``\\r\\n``, U+2028) and a Decimal range in a field's metadata
    give one row of as many cells as its header, the bounds among the constraints."""
    from marshmallow import fields, validate

    from gonghui.schemas import Arguments

    class AwkwardArguments(Arguments):
        amount = fields.Decimal(places=2, required=True, validate=validate.Range(0, 10**11),
                                metadata={"description": "yuan | 元\nline two\r\nthree\u2028four"})
        code = fields.String(validate=validate.Regexp(r"^(a|b)\\$"),
                             metadata={"description": "ends with a backslash \\"})

    converter = docs.SchemaConverter()
    name = converter.ref(AwkwardArguments)["$ref"].rpartition("/")[2]
    components = converter.schemas()
    lines = docs._input_table(AwkwardArguments, components[name],
                              docs._Shapes("test", components))
    assert len(lines) == 4 and all(len(line.splitlines()) == 1 for line in lines)
    assert table_rows_off_width(lines) == ([], 1)
    amount = table_cells(lines[2])
    assert amount[4].strip() == "0 ≤ value ≤ 100000000000"
    assert amount[5].strip() == "yuan \\| 元 line two three four"


def test_the_architecture_page_draws_every_service_and_every_flow():
    from deploy.broker import discover_handlers

    page = docs.architecture()
    diagram = page.split("```mermaid", 1)[1].split("```", 1)[0]
    for spec in SERVICES:
        assert f"    {spec.name}[{spec.name}]" in diagram
    for handler in discover_handlers():
        assert f"    {handler.source} -- " in diagram and f"--> {handler.service}" in diagram
        assert f"`{handler.event}`" in page
    assert "deeds -. RPC .-> organization" in diagram


def test_each_rpc_that_checks_its_actor_names_the_kinds_it_takes(rpc_markdown):
    sections = _sections(rpc_markdown)
    checked = 0
    for service, cls in docs.discover_services():
        for name, spec in docs.rpc_methods(cls):
            [writes] = re.findall(r"^\*\*Writes\*\*: .*$", sections[f"{service}.{name}"], re.M)
            if spec.writes or spec.actors:
                kinds = ", ".join(f"`{kind}`" for kind in spec.actors)
                assert f"of kind {kinds}, else `Forbidden`." in writes, (service, name)
                checked += 1
            else:
                assert "no actor needed" in writes, (service, name)
    assert checked > 50
    assert "of kind `operator`, else" in sections["gateway.grant_access"]
    assert "read only); needs an actor" in sections["gateway.accounts"]
    assert ("of kind `officer`, `admin`, `operator`, `system`, `service`, `member`"
            in sections["activities.sign_up"])


def test_the_openapi_document_is_the_one_the_gateway_serves():
    from services.gateway.openapi import openapi_path
    from services.gateway.routes import ROUTES

    committed = json.loads((docs.ROOT / docs.OPENAPI_PATH).read_text(encoding="utf-8"))
    assert committed["openapi"] == "3.1.0" and committed["servers"] == [{"url": "/"}]
    assert {(method.upper(), path) for path, ops in committed["paths"].items()
            for method in ops} == {(r.method, openapi_path(r.rule)) for r in ROUTES}
    assert committed == docs.openapi_document()


def test_the_gateway_is_drawn_as_publishing_nothing():
    page = docs.architecture()
    [row] = [line for line in page.splitlines() if line.startswith("| `gateway` |")]
    assert row.split(" | ")[2] == "—"
    assert "gateway -. RPC .-> organization" in page
    assert "organization -- " in page and "--> gateway" in page
