"""HTTP entrypoints of every service, answering errors as JSON problem documents.

nameko's router answers an unknown path or method with an HTML page, and an entrypoint's
error with a bare text body. ``@http`` here is nameko's ``@http`` with three changes:

- every error is an RFC 9457 problem document (``application/problem+json``: ``type``,
  ``title``, ``status``, ``detail``; ``errors`` with the field messages of a 422), the
  unknown path (404) and the wrong method (405, with ``Allow``) included;
- the worker's database transaction is committed before the response leaves (as the kit's
  RPC does), so a client never sees success for a change that did not commit;
- the caller cannot set the call's context from its headers (nameko's web server takes
  none either; said here because the actor must come from authentication, never a header).

All of a service's HTTP entrypoints share one server (one port), health's included.
"""

import json
import logging

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from gonghui.db import finish_transactions
from gonghui.errors import (
    EXPECTED_ERRORS,
    Conflict,
    Forbidden,
    NotFound,
    ServiceTimeout,
    ValidationError,
)

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://gonghui.example/problems/"
PROBLEM_JSON = "application/problem+json"

# Each expected error of the services, as the HTTP status and the problem's type name.
ERROR_STATUS = {
    ValidationError: (422, "validation-error", "Unprocessable Content"),
    NotFound: (404, "not-found", "Not Found"),
    Conflict: (409, "conflict", "Conflict"),
    Forbidden: (403, "forbidden", "Forbidden"),
    ServiceTimeout: (503, "service-unavailable", "Service Unavailable"),
}


HTTP_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               429: "Too Many Requests", 503: "Service Unavailable"}


def problem(status, title, detail=None, kind=None, errors=None, headers=None, **extra):
    """A problem document response."""
    body = {"type": PROBLEM_TYPE + (kind or str(status)), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                     headers=headers or {}, content_type=PROBLEM_JSON)


def problem_from_error(exc):
    """The problem document of one of the services' typed errors, else a 500 (logged). An
    error may name its own status (``http_status``, e.g. 401 or 429), headers
    (``http_headers``) and problem type (``problem_kind``)."""
    for cls, (status, kind, title) in ERROR_STATUS.items():
        if isinstance(exc, cls):
            errors = exc.details if isinstance(exc.details, dict) and exc.details else None
            if getattr(exc, "http_status", status) != status:
                status = exc.http_status
                kind, title = str(status), HTTP_TITLES.get(status, title)
            kind = getattr(exc, "problem_kind", kind)
            return problem(status, title, exc.message, kind, errors,
                           headers=getattr(exc, "http_headers", None))
    if isinstance(exc, HTTPException):
        return problem_from_http(exc)
    log.error("unexpected error answering a request", exc_info=exc)
    return problem(500, "Internal Server Error", "the server failed to answer; it is logged",
                   "internal")


def problem_from_http(exc):
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.code, str(exc.code))
    return problem(exc.code, exc.name, exc.description, kind, headers=headers)


class ProblemWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        try:
            return super().__call__(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - a response, whatever went wrong
            return problem_from_error(exc)(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self):
        app = ProblemWsgiApp(self)
        router = app.url_map

        def routed(environ, start_response):
            adapter = router.bind_to_environ(environ)
            try:
                adapter.match()
            except HTTPException as exc:
                return problem_from_http(exc)(environ, start_response)
            return app(environ, start_response)

        return routed


class HttpEntrypoint(HttpRequestHandler):
    server = ProblemWebServer()

    def handle_result(self, event, worker_ctx, result, exc_info):
        exc_info = finish_transactions(worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        event.send(result, exc_info)
        return result, exc_info

    def response_from_exception(self, exc):
        return problem_from_error(exc)


def http(method, url, **kwargs):
    """``@http("GET", "/path")``: the services' typed errors are expected (answered as
    problems, not logged as failures)."""
    kwargs.setdefault("expected_exceptions", EXPECTED_ERRORS + (ServiceTimeout,
                                                                HTTPException))
    return HttpEntrypoint.decorator(method, url, **kwargs)
