"""A request's arguments for the RPC its route calls: path values, then the query string
(each value turned into the type the RPC's schema declares, since a query string holds only
text) or the JSON body. The service validates them; the gateway only refuses what it
cannot read, with the same field-message shape (422)."""

import base64
import json

from marshmallow import fields

from gonghui.errors import ValidationError

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
PAGE_LIMIT, MAX_PAGE_LIMIT = 50, 500


def _one(field, text):
    if isinstance(field, fields.Boolean):
        lowered = text.lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise ValueError("true or false")
    if isinstance(field, fields.Integer):
        try:
            return int(text)
        except ValueError:
            raise ValueError("a whole number") from None
    if isinstance(field, fields.Float | fields.Decimal):
        try:
            return float(text)
        except ValueError:
            raise ValueError("a number") from None
    return text


def query_arguments(schema_cls, query):
    """The query string's values, typed by the schema's fields; names the schema does not
    declare are passed as text (the service refuses unknown arguments)."""
    declared = schema_cls().fields if schema_cls is not None else {}
    values, errors = {}, {}
    for name in query:
        field = declared.get(name)
        try:
            if isinstance(field, fields.List):
                items = [v for raw in query.getlist(name) for v in raw.split(",") if v != ""]
                values[name] = [_one(field.inner, v) for v in items]
            else:
                values[name] = _one(field, query.get(name)) if field is not None else query.get(
                    name)
        except ValueError as exc:
            errors[name] = [f"must be {exc}"]
    if errors:
        raise ValidationError("invalid query parameters", errors)
    return values


def body_arguments(request, schema_cls=None):
    """The JSON object of the body (empty body: no arguments); or a form upload
    (``multipart/form-data``): its fields typed by the schema, and its one file as
    ``content_base64`` (with ``file_format`` from the file's name when the form names none),
    so an office uploads its ``.xlsx`` or ``.csv`` as a browser sends it."""
    if request.mimetype == "multipart/form-data":
        return upload_arguments(request, schema_cls)
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype not in ("application/json", "application/merge-patch+json"):
        raise ValidationError("the body must be JSON",
                              {"_body": [f"Content-Type application/json, not {request.mimetype}"]})
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("the body is not valid JSON", {"_body": [str(exc)]}) from None
    if not isinstance(value, dict):
        raise ValidationError("the body must be a JSON object", {"_body": ["an object"]})
    return value


def page_arguments(query):
    """``limit`` and ``offset`` of a paged list."""
    errors, values = {}, {}
    for name, default, top in (("limit", PAGE_LIMIT, MAX_PAGE_LIMIT), ("offset", 0, None)):
        text = query.get(name)
        if text is None:
            values[name] = default
            continue
        try:
            value = int(text)
        except ValueError:
            errors[name] = ["must be a whole number"]
            continue
        if value < (1 if name == "limit" else 0) or (top is not None and value > top):
            errors[name] = [f"must be between {1 if name == 'limit' else 0} and {top}"
                            if top else "must not be negative"]
        values[name] = value
    if errors:
        raise ValidationError("invalid paging", errors)
    return values["limit"], values["offset"]


MAX_UPLOAD = 20 * 1024 * 1024  # bytes: an office's export of 100,000 members is ~5 MB


def upload_arguments(request, schema_cls):
    values = query_arguments(schema_cls, request.form)
    files = [f for f in request.files.values() if f.filename]
    if len(files) != 1:
        raise ValidationError("upload exactly one file", {"file": ["one file, .xlsx or .csv"]})
    upload = files[0]
    data = upload.read(MAX_UPLOAD + 1)
    if not data:
        raise ValidationError("the file is empty", {"file": ["empty"]})
    if len(data) > MAX_UPLOAD:
        raise ValidationError("the file is too large",
                              {"file": [f"at most {MAX_UPLOAD // (1024 * 1024)} MB"]})
    values["content_base64"] = base64.b64encode(data).decode("ascii")
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if "file_format" not in values and extension:
        values["file_format"] = extension
    return values
