"""Reference documents generated from the code: the events (AsyncAPI), the RPC methods, the
architecture and the HTTP API (OpenAPI).

* ``docs/asyncapi.yaml``: an AsyncAPI 2.6.0 description of every event type in
  :data:`gonghui.events.CATALOG` - exchange, routing key and the JSON Schema of its envelope;
* ``docs/rpc.md``: every RPC method of every service in :data:`deploy.services.SERVICES` - what
  it does, whether it needs an actor and of which kinds, its arguments, its result and the
  errors it raises;
* ``docs/architecture.md``: the services, who consumes what, who calls whom;
* ``docs/openapi.json``: the gateway's OpenAPI 3.1 document, as it serves it at
  ``/api/v1/openapi.json`` (``services.gateway.openapi.document`` of its route tables).

Schemas are converted from marshmallow with apispec's ``MarshmallowPlugin`` (OpenAPI 3.1
flavour, i.e. plain JSON Schema: ``allow_none`` becomes ``type: [..., "null"]``). The output is
deterministic, so ``check`` (and ``tests/rules/test_docs.py``) can tell a stale document.

Command line::

    python -m deploy.docs write    # regenerate every document in docs/
    python -m deploy.docs check    # exit 1, naming the stale files, if they are out of date

:func:`envelope_json_schema` gives the self-contained JSON Schema of one event type's envelope,
and :func:`schema_errors` / :func:`envelope_errors` check a value against it (a small validator
for the keywords these documents use, so that tests need no extra dependency).
"""

import argparse
import copy
import importlib
import inspect
import json
import re
import sys
import tomllib
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import marshmallow
import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from deploy.services import SERVICES, VHOST
from gonghui import errors as gonghui_errors
from gonghui.clock import today
from gonghui.events import CATALOG, EnvelopeSchema

ROOT = Path(__file__).resolve().parent.parent  # where the documents are written and checked
ASYNCAPI_PATH = Path("docs") / "asyncapi.yaml"
RPC_PATH = Path("docs") / "rpc.md"
ARCHITECTURE_PATH = Path("docs") / "architecture.md"
OPENAPI_PATH = Path("docs") / "openapi.json"
REGENERATE = "python -m deploy.docs write"

ASYNCAPI_VERSION = "2.6.0"
AMQP_BINDING_VERSION = "0.2.0"
LOCAL_BROKER = "127.0.0.1:5672"  # deploy/nameko.yaml's default AMQP_URI
SCHEMA_REF = "#/components/schemas/"
MESSAGE_REF = "#/components/messages/"

ENVELOPE_FIELDS = {
    "id": "Unique id of this event (a UUID), also the AMQP ``message_id``. The same event can "
          "be delivered more than once: remember the ids you have handled and skip repeats.",
    "type": "``<producer>.<event name>``, also the AMQP ``type`` property.",
    "version": "Version of the ``data`` schema of this event type; a breaking change of the "
               "data makes a new version.",
    "occurred_at": "When the change was made (ISO 8601, with its UTC offset).",
    "producer": "The service that made the change and publishes the event.",
    "actor": "Who made the change: ``kind`` (member, officer, admin, auditor, operator, "
             "system, service) and ``id``.",
    "data": "The event's own data; its schema depends on ``type`` and ``version``.",
}

INFO_DESCRIPTION = f"""\
Every change a Gonghui service makes is published as an event, once its transaction has
committed (a transactional outbox relays it to the broker with publisher confirms).

**Envelope.** Every message body is one JSON object (``application/json``, UTF-8):
``{{id, type, version, occurred_at, producer, actor, data}}``. ``type`` is
``<producer>.<event name>``; ``data`` is the event's own payload, described per message below;
``version`` is the version of that payload's schema. Fields may be added to ``data`` without a
new version: ignore the ones you do not know.

**Delivery is at least once.** A message can arrive twice (a relay crash between publishing
and marking the row published, a consumer crash before its ack). Deduplicate by the envelope
``id`` (also the AMQP ``message_id`` property): record it in the same transaction as your
effects and skip ids already recorded. Events of one aggregate (a unit, a member, ...) leave
the producer in commit order; retries on the consumer side can reorder them.

**Exchanges and routing keys.** Each service publishes to its own durable topic exchange
``<producer>.events`` (e.g. ``organization.events``) with the bare event name as routing key
(e.g. ``unit_created``): the channels below are named ``<exchange>/<routing key>``. Messages are
persistent (delivery mode 2).

**Subscribing with a plain AMQP client.** Connect to the broker's vhost ``{VHOST}`` (the
``downstream`` user is made for this), declare your own durable queue named
``downstream.<your name>``, bind it to ``<producer>.events`` with the routing key of each event
you want (or ``#`` for all of them), consume with manual acknowledgement, and ack once your
effects are durable. Do not declare the event exchanges (they exist already; declare them
passively if at all). Nameko services subscribe with ``gonghui.entrypoints.event_handler``,
which validates the envelope, deduplicates by id and retries with backoff."""

ERROR_FALLBACK_DOCS = {
    "NotFound": "A record the call names does not exist.",
    "Forbidden": "No actor, or an unknown kind of actor, in the call's context "
                 "(``nameko.actor``).",
}


# ------------------------------------------------------------------ discovery


def _import_optional(module_name):
    """Import a service's module; ``None`` if the module itself does not exist (yet)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            print(f"deploy.docs: warning: {module_name} not found; skipped", file=sys.stderr)
            return None
        raise


def load_event_catalog(specs=None):
    """Import every service's events module so that CATALOG holds every event type (a
    service that publishes no events, the gateway, has none)."""
    for spec in SERVICES if specs is None else specs:
        if spec.publishes_events:
            _import_optional(f"services.{spec.name}.events")
    return CATALOG


def service_class(module, service_name):
    """The class of ``module`` whose ``name`` attribute is the service's name."""
    candidates = [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if getattr(obj, "name", None) == service_name]
    own = [c for c in candidates if c.__module__ == module.__name__]
    if own or candidates:
        return (own or candidates)[0]
    raise LookupError(f"{module.__name__} has no class with name = {service_name!r}")


def rpc_methods(cls):
    """``[(name, RpcSpec)]`` of a service class, sorted by name (inherited ones included)."""
    return sorted((name, member.rpc_spec) for name, member in inspect.getmembers(cls)
                  if getattr(member, "rpc_spec", None) is not None)


def discover_services(specs=None):
    """``[(service name, service class)]`` of the services whose module exists."""
    found = []
    for spec in SERVICES if specs is None else specs:
        module = _import_optional(spec.module)
        if module is not None:
            found.append((spec.name, service_class(module, spec.name)))
    return found


# ------------------------------------------------------------------ marshmallow -> JSON Schema


def schema_class(schema):
    return schema if isinstance(schema, type) else type(schema)


def schema_name(schema):
    """Component name of a schema: its class name (without a ``Schema`` suffix), prefixed with
    the service for schemas defined in ``services.<name>``: ``organization.UnitData``."""
    cls = schema_class(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    parts = cls.__module__.split(".")
    if parts[0] == "services" and len(parts) > 1:
        return f"{parts[1]}.{name}"
    return name


class SchemaConverter:
    """Collects marshmallow schemas as JSON Schema components, nested schemas as ``$ref``."""

    def __init__(self):
        self._classes = {}
        plugin = MarshmallowPlugin(schema_name_resolver=self._resolve)
        self.spec = APISpec("gonghui", "1", "3.1.0", plugins=[plugin])

    def _resolve(self, schema):
        cls = schema_class(schema)
        name = schema_name(cls)
        known = self._classes.setdefault(name, cls)
        if known is not cls:
            raise ValueError(f"two schemas would be documented as {name!r}: "
                             f"{known.__module__}.{known.__qualname__} and "
                             f"{cls.__module__}.{cls.__qualname__}")
        return name

    def ref(self, schema):
        """Register a schema (and what it nests); return ``{"$ref": ...}`` to it."""
        name = self._resolve(schema)
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, schema=schema_class(schema))
        return {"$ref": SCHEMA_REF + name}

    @property
    def classes(self):
        """``{name: schema class}`` of every schema met so far."""
        return dict(self._classes)

    def schemas(self):
        """``{name: JSON Schema}``, sorted by name, as plain JSON values."""
        converted = _plain(self.spec.to_dict().get("components", {}).get("schemas", {}))
        return {name: converted[name] for name in sorted(converted)}


def _json_number(value):
    """apispec copies a validator's bounds as they are: a ``Range`` of a ``Decimal`` field
    gives ``Decimal`` bounds, written as JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON: {value!r}")


def _plain(value):
    return json.loads(json.dumps(value, ensure_ascii=False, default=_json_number))


def _ref_name(ref):
    if not ref.startswith(SCHEMA_REF):
        raise ValueError(f"unexpected $ref {ref!r}")
    return ref[len(SCHEMA_REF):]


def inline_refs(schema, components, _seen=()):
    """A copy of ``schema`` with every ``$ref`` to ``components`` replaced by its target."""
    if isinstance(schema, list):
        return [inline_refs(item, components, _seen) for item in schema]
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        if name in _seen:
            raise ValueError(f"recursive schema {name!r} cannot be inlined")
        target = inline_refs(components[name], components, _seen + (name,))
        return {**target, **{k: inline_refs(v, components, _seen)
                             for k, v in schema.items() if k != "$ref"}}
    return {k: inline_refs(v, components, _seen) for k, v in schema.items()}


def _open_object(schema):
    """Event data: a consumer must accept fields it does not know (they may be added)."""
    if schema.get("additionalProperties") is False:
        schema = {k: v for k, v in schema.items() if k != "additionalProperties"}
    return schema


# ------------------------------------------------------------------ AsyncAPI


def _project_version():
    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError):
        from importlib.metadata import version

        return version("gonghui")


def _rst_to_markdown(text):
    return text.replace("``", "`")


def _message_payload(declared, envelope, data_ref):
    properties = {}
    for name, prop in envelope["properties"].items():
        if name == "type":
            prop = {"type": "string", "const": declared.type}
        elif name == "version":
            prop = {"type": "integer", "const": declared.version}
        elif name == "producer":
            prop = {"type": "string", "const": declared.producer}
        elif name == "data":
            prop = dict(data_ref)
        properties[name] = _described(prop, ENVELOPE_FIELDS[name])
    return {"type": "object", "properties": properties, "required": list(envelope["required"]),
            "additionalProperties": False}


def _described(prop, text):
    """A property with its description; a ``$ref`` takes no siblings, so it keeps none (its
    target's description stands)."""
    if "$ref" in prop:
        return {"$ref": prop["$ref"]}
    return {**prop, "description": _rst_to_markdown(text)}


def _operation_id(declared):
    return f"receive_{declared.producer}_{declared.name}"


def asyncapi_document():
    """The AsyncAPI 2.6.0 document of every event type (as a dict ready for YAML)."""
    catalog = load_event_catalog()
    converter = SchemaConverter()
    envelope_name = _ref_name(converter.ref(EnvelopeSchema)["$ref"])
    event_types = [catalog[key] for key in sorted(catalog)]
    data_refs = {d.type: converter.ref(d.schema) for d in event_types}
    converted = converter.schemas()
    # The envelope and what it nests are closed (an envelope with an unknown field is refused);
    # event data is open: fields may be added to it without a new version.
    envelope_props = converted[envelope_name]["properties"]
    envelope_nested = {_ref_name(p["$ref"]): field for field, p in envelope_props.items()
                       if "$ref" in p}
    schemas = {}
    for name, schema in converted.items():
        if name == envelope_name:
            schema = {**schema, "properties": {
                field: _described(prop, ENVELOPE_FIELDS[field])
                for field, prop in schema["properties"].items()}}
        elif name in envelope_nested:
            schema = {**schema, "description": _rst_to_markdown(
                ENVELOPE_FIELDS[envelope_nested[name]])}
        else:
            schema = _open_object(schema)
        schemas[name] = schema
    envelope = schemas[envelope_name]

    channels, messages = {}, {}
    for declared in event_types:
        messages[declared.type] = {
            "messageId": declared.type,
            "name": declared.name,
            "title": declared.type,
            "summary": declared.description,
            "contentType": "application/json",
            "tags": [{"name": declared.producer}],
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": declared.type,
                                  "bindingVersion": AMQP_BINDING_VERSION}},
            "payload": _message_payload(declared, envelope, data_refs[declared.type]),
        }
        channels[f"{declared.exchange}/{declared.name}"] = {
            "description": f"`{declared.type}` (version {declared.version}): "
                           f"{declared.description} Published to the topic exchange "
                           f"`{declared.exchange}` with routing key `{declared.name}`.",
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": declared.exchange, "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": VHOST},
                "x-routing-key": declared.name,
                "bindingVersion": AMQP_BINDING_VERSION,
            }},
            "subscribe": {
                "operationId": _operation_id(declared),
                "summary": declared.description,
                "tags": [{"name": declared.producer}],
                "bindings": {"amqp": {"cc": [declared.name], "deliveryMode": 2,
                                      "ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
                "message": {"$ref": MESSAGE_REF + declared.type},
            },
        }
    producers = sorted({d.producer for d in event_types})
    return _plain({
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:gonghui:events",
        "info": {
            "title": "Gonghui events",
            "version": _project_version(),
            "description": _rst_to_markdown(INFO_DESCRIPTION),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "url": f"{LOCAL_BROKER}/{VHOST}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": f"The local RabbitMQ broker (vhost `{VHOST}`), as in "
                               "deploy/nameko.yaml's default AMQP_URI.",
                "security": [{"amqpUser": []}],
            },
        },
        "channels": channels,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "amqpUser": {
                    "type": "userPassword",
                    "description": "A broker user of the vhost: one per service, `operator`, "
                                   "and `downstream` for plain subscribers (it may read the "
                                   "`*.events` exchanges and use its own `downstream.*` "
                                   "queues).",
                },
            },
        },
        "tags": [{"name": p, "description": f"Events published by the {p} service."}
                 for p in producers],
    })


def envelope_json_schema(event_type, document=None):
    """The self-contained JSON Schema (draft 7, no ``$ref``) of the envelope of one event type,
    e.g. ``envelope_json_schema("organization.unit_created")``."""
    document = asyncapi_document() if document is None else document
    messages = document["components"]["messages"]
    if event_type not in messages:
        raise KeyError(f"unknown event type {event_type!r}; known: {sorted(messages)}")
    return inline_refs(messages[event_type]["payload"], document["components"]["schemas"])


# ------------------------------------------------------------------ a small validator

_ANNOTATIONS = {"description", "title", "default", "readOnly", "writeOnly", "examples",
                "example", "deprecated", "$comment"}
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_KEYWORDS = {"type", "const", "enum", "allOf", "anyOf", "oneOf", "properties", "required",
             "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength",
             "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _format_ok(fmt, value):
    try:
        if fmt == "date":
            return bool(_DATE.match(value)) and date.fromisoformat(value) is not None
        if fmt == "date-time":
            return "T" in value and datetime.fromisoformat(value).tzinfo is not None
        if fmt == "uuid":
            return str(uuid.UUID(value)) == value.lower()
        if fmt == "email":
            return bool(_EMAIL.match(value))
    except ValueError:
        return False
    return True  # as in JSON Schema, a format the validator does not know is not asserted


def schema_errors(value, schema, path="$"):
    """Messages of every way ``value`` breaks ``schema`` (empty: it conforms).

    Covers the JSON Schema keywords these documents use (type, const, enum, properties,
    required, additionalProperties, items, anyOf/allOf/oneOf, bounds of numbers, strings and
    arrays, pattern, formats date, date-time, uuid, email; other formats are not asserted);
    any other keyword raises NotImplementedError rather than being ignored. ``$ref`` must be
    inlined first (:func:`envelope_json_schema` does).
    """
    found = []
    for key in schema:
        if key in _ANNOTATIONS or key in _KEYWORDS:
            continue
        raise NotImplementedError(f"{path}: keyword {key!r} is not supported")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{path}: {value!r} is not of type {' or '.join(types)}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            matching = [not schema_errors(value, sub, path) for sub in schema[keyword]]
            ok = {"allOf": all(matching), "anyOf": any(matching),
                  "oneOf": sum(matching) == 1}[keyword]
            if not ok:
                found.append(f"{path}: does not match {keyword} of its schemas")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}: {name!r} is required")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += schema_errors(item, properties[name], f"{path}.{name}")
            elif extra is False:
                found.append(f"{path}: unexpected property {name!r}")
            elif isinstance(extra, dict):
                found += schema_errors(item, extra, f"{path}.{name}")
    if isinstance(value, list):
        if "items" in schema:
            for i, item in enumerate(value):
                found += schema_errors(item, schema["items"], f"{path}[{i}]")
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{path}: more than {schema['maxItems']} items")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r} does not match {schema['pattern']!r}")
        if "format" in schema and not _format_ok(schema["format"], value):
            found.append(f"{path}: {value!r} is not a valid {schema['format']}")
    if _TYPES["number"](value):
        for keyword, broken in (("minimum", lambda v, b: v < b), ("maximum", lambda v, b: v > b),
                                ("exclusiveMinimum", lambda v, b: v <= b),
                                ("exclusiveMaximum", lambda v, b: v >= b)):
            if keyword in schema and broken(value, schema[keyword]):
                found.append(f"{path}: {value!r} breaks {keyword} {schema[keyword]!r}")
    return found


def envelope_errors(envelope, document=None):
    """Messages of every way an envelope (a decoded message body) breaks the published
    schema of its own ``type``; empty when it conforms."""
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    document = asyncapi_document() if document is None else document
    if event_type not in document["components"]["messages"]:
        return [f"$.type: {event_type!r} is not a published event type"]
    return schema_errors(envelope, envelope_json_schema(event_type, document))


# ------------------------------------------------------------------ RPC reference


def _cell(text):
    """A table cell that cannot break its row: every kind of line break (a docstring's or a
    description's newline, ``\\r``, U+2028 ...) becomes a space, and a pipe is escaped (GFM
    takes ``\\|`` as a literal pipe, in code spans too, whatever precedes it)."""
    return " ".join(str(text).splitlines()).replace("|", "\\|")


def _row(cells):
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _code(text):
    return f"`{text}`"


def _first_paragraph(doc):
    text = inspect.cleandoc(doc or "")
    return " ".join(text.split("\n\n")[0].split()) if text else ""


def _anchor(*parts):
    return "-".join(re.sub(r"[^a-z0-9_]+", "-", p.lower()) for p in parts)


def _short_name(name):
    return name.rpartition(".")[2]


class _Shapes:
    """Object types (nested schemas, results) used by one service's methods."""

    def __init__(self, service, components):
        self.service = service
        self.components = components
        self.inputs, self.outputs = set(), set()

    def link(self, name, kind):
        (self.inputs if kind == "input" else self.outputs).add(name)
        return f"[`{_short_name(name)}`](#{_anchor(self.service, kind, _short_name(name))})"

    def type_of(self, prop, kind):
        if "$ref" in prop:
            return self.link(_ref_name(prop["$ref"]), kind)
        if "anyOf" in prop:
            return " or ".join(self.type_of(p, kind) for p in prop["anyOf"])
        types = prop.get("type", "any")
        types = types if isinstance(types, list) else [types]
        base = [t for t in types if t != "null"] or ["null"]
        names = []
        for t in base:
            if t == "array":
                names.append("list of " + self.type_of(prop.get("items", {}), kind))
            elif "format" in prop:
                names.append(f"{t} ({prop['format']})")
            else:
                names.append(t)
        text = " or ".join(names)
        return text + " or null" if "null" in types and base != ["null"] else text


def _constraints(prop):
    parts = []
    enum = [v for v in prop.get("enum", []) if v is not None]
    if enum:
        parts.append("one of " + ", ".join(_code(v) for v in enum))
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and high is not None:
        parts.append(f"{low} ≤ value ≤ {high}")
    elif low is not None:
        parts.append(f"≥ {low}")
    elif high is not None:
        parts.append(f"≤ {high}")
    if "exclusiveMinimum" in prop:
        parts.append(f"> {prop['exclusiveMinimum']}")
    if "exclusiveMaximum" in prop:
        parts.append(f"< {prop['exclusiveMaximum']}")
    for unit, lo_key, hi_key in (("characters", "minLength", "maxLength"),
                                 ("items", "minItems", "maxItems")):
        lo, hi = prop.get(lo_key), prop.get(hi_key)
        if lo is not None and hi is not None:
            parts.append(f"{lo}–{hi} {unit}")
        elif lo is not None:
            parts.append(f"at least {lo} {unit if lo != 1 else unit[:-1]}")
        elif hi is not None:
            parts.append(f"at most {hi} {unit if hi != 1 else unit[:-1]}")
    pattern = prop.get("pattern")
    if pattern == r"\S":
        parts.append("not blank")
    elif pattern:
        parts.append(f"matches {_code(pattern)}")
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        inner = _constraints(prop["items"])
        if inner:
            parts.append(f"each: {inner}")
    return "; ".join(parts)


def _default(field):
    default = field.load_default
    if default is marshmallow.missing:
        return "required" if field.required else "optional"
    if callable(default):
        if default is today:
            return "default: today (China time)"
        if default in (list, dict):
            return f"default: {_code(json.dumps(default()))}"
        return f"default: {_code(getattr(default, '__name__', repr(default)) + '()')}"
    return f"default: {_code(json.dumps(default, ensure_ascii=False, default=str))}"


def _input_table(schema_cls, component, shapes):
    fields = [(n, f) for n, f in schema_cls().fields.items() if not f.dump_only]
    props = component.get("properties", {})
    rows = [(n, shapes.type_of(props[n], "input"), _default(f), _constraints(props[n]),
             props[n].get("description", "")) for n, f in fields]
    with_description = any(r[4] for r in rows)
    head = ["#", "name", "type", "required / default", "constraints"]
    head += ["description"] if with_description else []
    lines = [_row(head), "|" + "---|" * len(head)]
    for i, (name, type_, default, constraints, description) in enumerate(rows, 1):
        cells = [str(i), _code(name), type_, default, constraints]
        cells += [description] if with_description else []
        lines.append(_row(cells))
    return lines


def _output_table(component, shapes):
    props = {n: p for n, p in component.get("properties", {}).items() if not p.get("writeOnly")}
    with_description = any(p.get("description") for p in props.values())
    head = ["field", "type"] + (["description"] if with_description else [])
    lines = [_row(head), "|" + "---|" * len(head)]
    for name, prop in props.items():
        cells = [_code(name), shapes.type_of(prop, "output")]
        cells += [prop.get("description", "")] if with_description else []
        lines.append(_row(cells))
    return lines


def _error_line(exc_cls):
    doc = exc_cls.__doc__ if "__doc__" in vars(exc_cls) else None
    text = _first_paragraph(doc) or ERROR_FALLBACK_DOCS.get(exc_cls.__name__, "")
    code = getattr(exc_cls, "code", None)
    label = f"`{exc_cls.__name__}`" + (f" (`{code}`)" if code else "")
    return f"{label}: {_rst_to_markdown(text)}".rstrip(": ")


def _method_errors(spec):
    classes = list(dict.fromkeys((gonghui_errors.ValidationError,) + tuple(spec.errors)))
    if (spec.writes or spec.actors) and gonghui_errors.Forbidden not in classes:
        classes.append(gonghui_errors.Forbidden)
    return classes


def _method_section(service, name, spec, components, shapes, converter):
    lines = [f'<a id="{_anchor(service, name)}"></a>', "", f"### `{service}.{name}`", ""]
    summary = _first_paragraph(spec.doc)
    if summary:
        lines += [_rst_to_markdown(summary), ""]
    kinds = ", ".join(f"`{kind}`" for kind in spec.actors)
    if spec.writes:
        lines += ["**Writes**: yes; needs an actor in the call's context (`nameko.actor` = "
                  f"`kind:id`) of kind {kinds}, else `Forbidden`.", ""]
    elif spec.actors:
        lines += ["**Writes**: no (read only); needs an actor in the call's context of kind "
                  f"{kinds}, else `Forbidden`.", ""]
    else:
        lines += ["**Writes**: no (read only, no actor needed).", ""]
    if spec.args is None:
        lines += ["**Arguments**: none.", ""]
    else:
        arg_name = _ref_name(converter.ref(spec.args)["$ref"])
        lines += ["**Arguments** (by keyword, or by position in this order; unknown "
                  "arguments are refused):", ""]
        lines += _input_table(spec.args, components[arg_name], shapes) + [""]
    if spec.result is None:
        lines += ["**Result**: not declared by a schema (JSON, see the description).", ""]
    else:
        ref = converter.ref(spec.result)
        shape = shapes.type_of(ref, "output")
        lines += [f"**Result**: {'list of ' + shape if spec.many else shape}.", ""]
    lines += ["**Errors**:", ""]
    lines += [f"- {_error_line(e)}" for e in _method_errors(spec)] + [""]
    return lines


def _shape_sections(service, shapes, components, classes):
    lines = []
    seen_inputs, seen_outputs = set(), set()
    # Rendering a table can link further shapes: repeat until nothing new turns up.
    while shapes.inputs - seen_inputs or shapes.outputs - seen_outputs:
        for kind, pending, seen in (("input", shapes.inputs, seen_inputs),
                                    ("output", shapes.outputs, seen_outputs)):
            for name in sorted(pending - seen):
                seen.add(name)
                short = _short_name(name)
                title = "argument object" if kind == "input" else "result object"
                doc = _first_paragraph(classes[name].__doc__)
                block = [f'<a id="{_anchor(service, kind, short)}"></a>', "",
                         f"#### `{short}` ({title})", ""]
                block += [_rst_to_markdown(doc), ""] if doc else []
                if kind == "input":
                    block += _input_table(classes[name], components[name], shapes)
                else:
                    block += _output_table(components[name], shapes)
                lines.append((kind, name, block + [""]))
    ordered = sorted(lines, key=lambda item: (item[0] != "input", _short_name(item[1])))
    return [line for _, _, block in ordered for line in block]


RPC_INTRO = """\
# Gonghui RPC reference

Generated from the services' code by `python -m deploy.docs write`: do not edit by hand.

## Calling a service

Every method is a nameko RPC method, called as `<service>.<method>` over the broker's
`nameko-rpc` exchange (vhost `gonghui`), with JSON arguments and a JSON result. Arguments are
given by keyword (or by position, in the order of the arguments table); they are validated
before anything runs: dates are `YYYY-MM-DD` strings, integers must be JSON integers.

Methods that **write** need to know who acts: the call's context data carries the actor as
`kind:id` (nameko sends it as the AMQP header `nameko.actor`; kinds: member, officer, admin,
auditor, operator, system, service), or the call fails with `Forbidden` before anything is
written. Each writing method names the kinds it takes: by default the offices' and the
platform's (officer, admin, operator, system, service), so a member's or an auditor's actor
is refused; the acts a member does for themselves take `member` too, and check that the
member named is the actor. The gateway passes the person it authenticated (`member`,
`officer`, `admin` or `auditor` with their employee number) or `service:token-<id>` for an
API token. The change is recorded in the audit trail under that actor, and announced by
events (see `docs/asyncapi.yaml`). Read-only methods need no actor, except the few that say
which kinds they take (personal data, the gateway's operators' section).

From Python (a script, a test, another program), with `gonghui.rpc_client.cluster_rpc`, which
sets the actor and a reply timeout (10 s by default):

```python
import gonghui.errors  # noqa: F401 - registers the typed errors, see below
from gonghui.rpc_client import cluster_rpc

with cluster_rpc("amqp://operator:<password>@127.0.0.1:5672/gonghui",
                 actor="officer:E001", timeout=10) as rpc:
    unit = rpc.organization.create_unit(code="C01", name="新型能源公司", kind="company")
    units = rpc.organization.list_units(limit=50)
```

which is nameko's own standalone proxy with the actor in its context data:

```python
from nameko.standalone.rpc import ClusterRpcProxy

config = {"AMQP_URI": "amqp://operator:<password>@127.0.0.1:5672/gonghui"}
with ClusterRpcProxy(config, context_data={"actor": "officer:E001"}, timeout=10) as rpc:
    rpc.organization.get_unit(unit_id=1)
```

In `nameko shell --broker amqp://operator:<password>@127.0.0.1:5672/gonghui`, `n.rpc` has no
actor and no timeout: use it for reads (`n.rpc.organization.get_unit(unit_id=1)`), and
`cluster_rpc(n.config["AMQP_URI"], actor="officer:E001")` as above for writes.

**Timeouts.** A standalone proxy raises `nameko.exceptions.RpcTimeout` when no reply comes in
time; inside a service, `gonghui.rpc_client.ServiceRpc` raises `ServiceTimeout` after the
`RPC_TIMEOUT` setting (10 s). A timeout does not mean the call failed: a write may still
commit. Check (for instance by reading it back) before you repeat it.

## Errors

A method either commits all its changes (with their events) and then replies, or rolls back
and raises. The errors it raises on purpose are typed: they are registered with nameko's
remote-error registry, so a caller that has imported `gonghui.errors` gets the same class back
(not a generic `RemoteError`), with `exc.message` and `exc.details` (`exc.fields` for a
`ValidationError`: field name to list of messages, e.g.
`{"unit_id": ["Missing data for required field."]}`). Any other failure reaches the caller as
`nameko.exceptions.RemoteError`.
"""


def rpc_reference():
    """The Markdown reference of every RPC method of every service."""
    services = discover_services()
    lines = RPC_INTRO.splitlines() + [""]
    lines += ["| error | code | meaning |", "|---|---|---|"]
    error_classes = [c for _, c in inspect.getmembers(gonghui_errors, inspect.isclass)
                     if issubclass(c, gonghui_errors.GonghuiError)
                     and c is not gonghui_errors.GonghuiError]
    for cls in sorted(error_classes, key=lambda c: c.__name__):
        meaning = _error_line(cls).partition(": ")[2]
        lines.append(_row([_code(cls.__name__), _code(cls.code), meaning]))
    lines += ["", "Every method can raise `ValidationError`; writing methods `Forbidden` "
              "as well.", ""]
    lines += ["## Services", ""]
    lines += [f"- [`{name}`](#{_anchor('service', name)})" for name, _ in services] + [""]

    for service, cls in services:
        converter = SchemaConverter()
        methods = rpc_methods(cls)
        for _, spec in methods:
            for schema in (spec.args, spec.result):
                if schema is not None:
                    converter.ref(schema)
        components = converter.schemas()
        classes = converter.classes
        shapes = _Shapes(service, components)
        lines += [f'<a id="{_anchor("service", service)}"></a>', "",
                  f"## Service `{service}`", ""]
        doc = _first_paragraph(inspect.getmodule(cls).__doc__)
        if doc:
            lines += [_rst_to_markdown(doc), ""]
        lines += [f"{len(methods)} methods (RPC queue `rpc-{service}`):", ""]
        for name, spec in methods:
            mark = " (writes)" if spec.writes else ""
            lines.append(f"- [`{name}`](#{_anchor(service, name)}){mark}")
        lines.append("")
        for name, spec in methods:
            lines += _method_section(service, name, spec, components, shapes, converter)
        shape_lines = _shape_sections(service, shapes, components, classes)
        if shape_lines:
            lines += [f"### Objects used by `{service}`", ""] + shape_lines
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ files and command line


class _Dumper(yaml.SafeDumper):
    """``yaml.safe_dump``, with multi-line strings as literal blocks (readable Markdown)."""


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_asyncapi():
    return yaml.dump(asyncapi_document(), Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     width=100)


ARCHITECTURE_TEXT = """\
## What each piece is

- **The kit** (`gonghui/`): what every service stands on — the database session per worker,
  the outbox and its relay, idempotent event handlers with retries and dead letters, the
  audit trail, the clock and working-day calendar, the daily timer, the schema base. It
  imports no service.
- **A service** (`services/<name>/`): `service.py` lists its entrypoints, `rules.py` its
  rules in plain Python, `models.py` and `migrations/` its own database, `schemas.py` its RPC
  arguments and results, `events.py` its **event contract** (the only module another
  service may import).
- **The gateway** (`services/gateway/`): the HTTP door for people and other systems
  (`/api/v1/`, its OpenAPI document `docs/openapi.json`). It owns no domain data, only
  accounts, sessions and API tokens; it authenticates each request, lets one policy decide by
  role and by place in the union tree (404 outside the caller's subtree), and calls the
  services by RPC with the authenticated actor and a timeout. It publishes no events.
- **Deployment** (`deploy/`): the one list of services (`services.py`), the local runner,
  the CLI (`gonghui`), the broker definitions, compose and Kubernetes manifests, the demo
  loaders and this generator.

## The path of a change

1. An RPC (or a timer's `tick`) changes rows, and in the same transaction writes its event
   to the service's `outbox` table and the change to `audit_log`.
2. The commit happens before the reply leaves; then the relay publishes the outbox rows to
   `<service>.events` (topic exchange, routing key = event name) with publisher confirms, in
   commit order, and marks them published.
3. Every consumer has one durable quorum queue per event type it handles; its handler
   records the event id in its `inbox` table with its effects, so a repeat changes nothing;
   a failure is retried through `<consumer>.retry`, then dead-lettered to `<queue>.dlq`.

## The read model of the union tree

Organization owns the tree. Deeds, activities, notifications and the gateway each keep the
same read model of it in their own database: the kit's `gonghui/directory.py` (tables
`directory_units`, `directory_unions`, `directory_members`, `directory_roles`), fed by
organization's `unit_*`, `union_*`, `member_*` and `role_*` events through one set of
handlers that keep, per group of columns, the time of the change that wrote it (events of
different types arrive on different queues, in any order), and rebuilt on demand page by
page from `organization.directory_snapshot` (`resync_directory`). Each answers
`directory_status`, counted as `organization.directory_status` counts its own tables. So
they answer "who are the officers of the union above this unit" while organization is
down; the kit's `union_chain` and `officers` give that answer one meaning everywhere. The
gateway reads it at every request: who the caller is in the union (a member of which unit,
an officer of which unions today) and the units above the one a request names.

## The path of a request

1. A browser (session cookie, CSRF token on writes) or another system (a bearer API token)
   calls `/api/v1/...` on the gateway; the route tables say which RPC serves it, for whom it
   is, and how the unit and the member it concerns are found.
2. The policy decides from the caller's grants and offices and the target's place in the
   tree: allowed (with the actor kind the services are told), or 401, 403, or 404 outside
   the caller's subtree; a member's own acts carry their own member id (naming another
   member is refused).
3. The RPC runs with that actor; the service checks the actor's kind again (defence in
   depth) and records it in the audit trail. Every error is a problem document (RFC 9457);
   a service that does not answer in time is a 503.
"""


def _mermaid_id(name):
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def architecture():
    """docs/architecture.md: the services, what each owns, the exchanges and who consumes
    what (from the handlers), the RPC calls between services (from their ``ServiceRpc``
    dependencies), with one Mermaid diagram."""
    from deploy.broker import discover_handlers
    from gonghui.rpc_client import ServiceRpc

    services = discover_services()
    specs = {spec.name: spec for spec in SERVICES}
    consumes = {}
    for handler in discover_handlers():
        consumes.setdefault((handler.source, handler.service), set()).add(handler.event)
    calls = sorted({(name, member.target_service) for name, cls in services
                    for _, member in inspect.getmembers(cls)
                    if isinstance(member, ServiceRpc)})
    lines = ["# Architecture", "",
             f"Generated from the services' code by `{REGENERATE}`: do not edit by hand.", "",
             "```mermaid", "flowchart LR"]
    lines += [f"    {_mermaid_id(name)}[{name}]" for name, _ in services]
    lines += [f"    {_mermaid_id(name)}_db[({name} db)]" for name, _ in services]
    lines += [f"    {_mermaid_id(name)} --- {_mermaid_id(name)}_db" for name, _ in services]
    for (source, consumer), names in sorted(consumes.items()):
        lines.append(f"    {_mermaid_id(source)} -- {len(names)} event types --> "
                     f"{_mermaid_id(consumer)}")
    for caller, target in calls:
        lines.append(f"    {_mermaid_id(caller)} -. RPC .-> {_mermaid_id(target)}")
    lines += ["```", "", "Solid arrows: events through `<producer>.events`; dotted: RPC calls "
              "(each with a timeout).", "", "## Services", "",
              _row(["service", "what it owns", "publishes to", "calls by RPC"]),
              _row(["---"] * 4)]
    for name, cls in services:
        module = sys.modules[cls.__module__]
        owns = _rst_to_markdown(_first_paragraph(module.__doc__ or cls.__doc__ or ""))
        targets = ", ".join(f"`{t}`" for c, t in calls if c == name) or "—"
        publishes = f"`{name}.events`" if specs[name].publishes_events else "—"
        lines.append(_row([f"`{name}`", owns, publishes, targets]))
    lines += ["", "## Who consumes what", "",
              _row(["producer", "consumer", "event types"]), _row(["---"] * 3)]
    for (source, consumer), names in sorted(consumes.items()):
        lines.append(_row([f"`{source}`", f"`{consumer}`",
                           ", ".join(f"`{n}`" for n in sorted(names))]))
    return "\n".join(lines) + "\n\n" + ARCHITECTURE_TEXT


def openapi_document():
    """The gateway's OpenAPI document, as it serves it (no ``PUBLIC_URL``: server ``/``)."""
    from services.gateway.openapi import document
    from services.gateway.routes import ROUTES

    return document(ROUTES)


def render_openapi():
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def documents():
    """``{relative path: text}`` of every generated document."""
    return {ASYNCAPI_PATH: render_asyncapi(), RPC_PATH: rpc_reference(),
            ARCHITECTURE_PATH: architecture(), OPENAPI_PATH: render_openapi()}


def write_documents(root=None):
    """Write every document under ``root`` (the repository); returns the paths written."""
    root = ROOT if root is None else root
    written = []
    for relative, text in documents().items():
        path = Path(root) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_documents(root=None):
    """Paths (under ``root``, the repository) of the documents missing or out of date."""
    root = ROOT if root is None else root
    stale = []
    for relative, text in documents().items():
        path = Path(root) / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    if args.command == "write":
        for path in write_documents():
            print(f"wrote {path}")
        return 0
    stale = check_documents()
    if stale:
        for path in stale:
            print(f"{path} is out of date", file=sys.stderr)
        print(f"regenerate with `{REGENERATE}`", file=sys.stderr)
        return 1
    names = (ASYNCAPI_PATH, RPC_PATH, ARCHITECTURE_PATH, OPENAPI_PATH)
    print(", ".join(map(str, names)) + " are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
