"""The OpenAPI 3.1 document of the API, generated (apispec) from the route tables and the
marshmallow schemas they name: the services' own, so the document says what the services
validate. And a readable reference page, rendered here from the same document (no script,
no CDN: union intranets often have no internet)."""

import decimal
import functools
import html
import json
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from services.gateway.policy import (
    ADMIN,
    AUDIT,
    MEMBERS,
    OFFICE,
    PERSONAL,
    PUBLIC,
    SELF,
    SIGNED_IN,
)

TITLE = "Gonghui API"
VERSION = "1.0.0"
PROBLEM = "Problem"

AUDIENCE_TEXT = {
    OFFICE: "the union officers of the unit's subtree (and administrators; auditors read)",
    SELF: "the member themselves",
    PERSONAL: "the member, and the officers of the unions above them",
    MEMBERS: "every member (and officers, administrators, auditors)",
    ADMIN: "company-union administrators",
    AUDIT: "administrators and auditors",
    PUBLIC: "anyone, logged in or not",
    SIGNED_IN: "anyone logged in (a person or a token)",
}


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "per field, its messages (422)"})


def schema_name(schema):
    """Component names: ``<service>.<Schema>`` (services reuse class names), ``Body`` when
    the path's arguments are left out."""
    cls = schema if isinstance(schema, type) else type(schema)
    parts = cls.__module__.split(".")
    owner = parts[1] if parts[0] == "services" and len(parts) > 1 else parts[0]
    suffix = "Body" if not isinstance(schema, type) and schema.exclude else ""
    return f"{owner}.{cls.__name__}{suffix}"


def _decimal_as_string(self, field, ret=None, **kwargs):
    """A Decimal the services send as text (``as_string``) is a string in the document."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": ["string", "null"] if field.allow_none else "string",
                "format": "decimal"}
    return {}


def openapi_path(rule):
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def path_names(rule):
    return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)


def _path_parameter(rule, name):
    kind = "integer" if re.search(rf"<int:{name}>", rule) else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _problems(*statuses):
    return {str(status): {"description": text, "content": {
        "application/problem+json": {"schema": PROBLEM}}}
        for status, text in ((401, "not logged in"), (403, "not allowed"),
                             (404, "not found, or outside what the caller may see"),
                             (409, "conflicts with the current state"),
                             (422, "invalid arguments (the messages per field)"),
                             (429, "too many attempts"),
                             (503, "a service did not answer in time"))
        if status in statuses}


def _operation(plugin, route):
    names = path_names(route.path)
    operation = {
        "operationId": route.name, "tags": [route.tag or route.rpc.split(".")[0]],
        "summary": route.summary or route.name.replace("_", " "),
        "description": f"For {AUDIENCE_TEXT[route.audience]}. Calls `{route.rpc}`.",
        "parameters": [_path_parameter(route.path, n) for n in names],
    }
    if route.args is not None:
        if route.method in ("GET", "DELETE"):
            skip = set(names) | set(route.fixed) | {route.self_member, route.self_employee}
            if route.paged:
                skip |= {"limit", "offset", "with_total"}
            operation["parameters"] += [
                p for p in plugin.converter.schema2parameters(route.args, location="query")
                if p["name"] not in skip]
        else:
            exclude = tuple(n for n in (*names, *route.fixed, route.self_member,
                                        route.self_employee) if n and n in route.args().fields)
            body = route.args(exclude=exclude) if exclude else route.args
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": body}}}
            if "content_base64" in route.args().fields:
                operation["requestBody"]["content"]["multipart/form-data"] = {
                    "schema": _upload_form(route.args, exclude)}
    if route.paged:
        operation["parameters"] += [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                         "maximum": 500, "default": 50}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                          "default": 0}}]
    if route.method == "POST":
        operation["parameters"].append({"name": "Idempotency-Key", "in": "header",
                                        "required": False, "schema": {"type": "string",
                                                                      "maxLength": 200}})
    # Any route may refuse: a public one too (a wrong password, a write without its CSRF
    # token, the public notice when the union has not made it public).
    operation["responses"] = {**_success(route), **_problems(401, 403, 404, 409, 422, 429,
                                                             503)}
    return operation


def _upload_form(schema_cls, exclude):
    """A form upload of the same arguments: the file instead of ``content_base64``; the
    format taken from the file's name when the form does not say."""
    properties = {"file": {"type": "string", "format": "binary"}}
    for name, field in schema_cls().fields.items():
        if name in exclude or name == "content_base64" or field.dump_only:
            continue
        kind = ("boolean" if isinstance(field, fields.Boolean) else
                "integer" if isinstance(field, fields.Integer) else "string")
        properties[name] = {"type": kind}
        choices = getattr(getattr(field, "validate", None), "choices", None)
        for validator in field.validators:
            choices = getattr(validator, "choices", choices)
        if choices:
            properties[name]["enum"] = list(choices)
    required = ["file"] + [n for n, f in schema_cls().fields.items()
                           if f.required and n not in ("content_base64", "file_format")
                           and n not in exclude]
    return {"type": "object", "properties": properties, "required": required}


def _success(route):
    status = str(route.status)
    if route.content != "json":
        return {status: {"description": "the file", "content": {
            route.content: {"schema": {"type": "string", "format": "binary"}}}}}
    if route.result is None:
        return {status: {"description": "done"}} if route.status == 204 else {
            status: {"description": "done", "content": {"application/json": {"schema": {}}}}}
    item = route.result
    if route.paged:
        schema = {"type": "object",
                  "required": ["items", "total", "limit", "offset", "next_offset"],
                  "properties": {"items": {"type": "array", "items": item},
                                 "total": {"type": "integer", "minimum": 0, "description":
                                           "how many rows the same filters match in all"},
                                 "limit": {"type": "integer"}, "offset": {"type": "integer"},
                                 "next_offset": {"type": ["integer", "null"]}}}
    elif route.many:
        schema = {"type": "array", "items": item}
    else:
        schema = item
    return {status: {"description": "the answer", "content": {
        "application/json": {"schema": schema}}}}


@functools.cache
def _document(routes, server):
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.1.0", plugins=[plugin],
                   info={"description": "The HTTP API of Gonghui (工会): every route, who it is "
                         "for, and the schemas the services validate."},
                   servers=[{"url": server or "/"}])
    plugin.converter.add_attribute_function(_decimal_as_string)
    spec.components.schema(PROBLEM, schema=ProblemSchema)
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie",
                                                "name": "gonghui_session"})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    by_path = {}
    for route in routes:
        by_path.setdefault(openapi_path(route.rule), {})[route.method.lower()] = route
    for path_, operations in by_path.items():
        spec.path(path=path_, operations={
            method: {**_operation(plugin, route), **(
                {} if route.audience == PUBLIC else {"security": [{"session": []},
                                                                  {"token": []}]})}
            for method, route in operations.items()})
    # Schemas' bounds and defaults may be Decimals or dates: JSON's numbers and strings here.
    return json.loads(json.dumps(spec.to_dict(), default=_json_value))


def _json_value(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def document(routes, server=None):
    return _document(tuple(routes), server)


def reference_page(routes):
    """The reference as one HTML page, grouped by tag."""
    doc = document(routes)
    groups = {}
    for path_, operations in doc["paths"].items():
        for method, op in operations.items():
            groups.setdefault(op["tags"][0], []).append((method.upper(), path_, op))
    out = ["<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           f"<title>{TITLE}</title><style>body{{font-family:sans-serif;max-width:60rem;"
           "margin:auto;padding:1rem}code{background:#f4f4f4;padding:0 .2rem}"
           "h3{font-size:1rem;margin-bottom:.2rem}.m{font-weight:bold;width:4rem;"
           "display:inline-block}</style></head><body>",
           f"<h1>{TITLE} {VERSION}</h1><p>{html.escape(doc['info']['description'])} "
           "The machine-readable document: <a href='openapi.json'>openapi.json</a>. Errors "
           "are problem documents (RFC 9457).</p><nav>"]
    out += [f"<a href='#{html.escape(tag)}'>{html.escape(tag)}</a> " for tag in sorted(groups)]
    out.append("</nav>")
    for tag in sorted(groups):
        out.append(f"<h2 id='{html.escape(tag)}'>{html.escape(tag)}</h2>")
        for method, path_, op in sorted(groups[tag], key=lambda g: (g[1], g[0])):
            params = ", ".join(f"<code>{html.escape(p['name'])}</code>"
                               for p in op.get("parameters", []) if p["in"] == "query")
            out.append(f"<h3 id='{html.escape(op['operationId'])}'><span class='m'>{method}"
                       f"</span><code>{html.escape(path_)}</code></h3><p>"
                       f"{html.escape(op['summary'])}. {html.escape(op['description'])}"
                       + (f" Query: {params}." if params else "") + "</p>")
    out.append("</body></html>")
    return "".join(out)
