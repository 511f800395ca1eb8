"""What a page shows comes from the API's routes, run for the signed-in person exactly as
the API runs them (``api.run``: the same policy, subtree scoping and actor), never from a
service called directly. A :class:`Visit` is one page request's caller and its way to run a
named route with path values and a query."""

import json
from urllib.parse import urlencode

from nameko.exceptions import UnknownService
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gonghui.errors import ServiceTimeout
from services.gateway import api, identity
from services.gateway.policy import ANONYMOUS
from services.gateway.routes import ROUTES

ROUTES_BY_NAME = {route.name: route for route in ROUTES}
# The most a page asks for in one call of a paged route (the API's own ceiling).
PAGE_SIZE = 500
# Headers of the person's request that a route may read (the rate limit's address).
FORWARDED = ("Cookie", "X-Forwarded-For", "X-Forwarded-Proto", "User-Agent")


class Visit:
    """One page request: who asks (from their session cookie), in which language, and the
    routes run for them."""

    def __init__(self, request, db, call_service, settings, locale, csrf_token=None,
                 anonymous=False):
        self.request, self.db, self.settings, self.locale = request, db, settings or {}, locale
        self._call_service = call_service
        self.principal, self.web_session = ANONYMOUS, None
        self.set_cookies, self.clear_cookies = [], []
        if not anonymous:  # the login form is answered as for nobody, whatever cookie came
            caller = identity.authenticate(db, self._as_api_request(request, csrf_token))
            self.principal, self.web_session = caller.principal, caller.web_session

    @property
    def signed_in(self):
        return self.principal.kind == "person"

    @property
    def csrf_token(self):
        return self.web_session.csrf_token if self.web_session is not None else ""

    @staticmethod
    def _as_api_request(request, csrf_token):
        """The page request as identity reads it: a form's CSRF field counts as the header
        an API client sends."""
        environ = dict(request.environ)
        if csrf_token is not None:
            environ["HTTP_X_CSRF_TOKEN"] = csrf_token
        environ.pop("wsgi.input", None)
        return Request(environ)

    def _sub_request(self, route, values, query, body):
        path = route.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        headers = {k: v for k in FORWARDED if (v := self.request.headers.get(k))}
        builder = EnvironBuilder(
            path=path, method=route.method, headers=headers,
            query_string=urlencode({k: v for k, v in query.items() if v is not None},
                                   doseq=True),
            data=json.dumps(body) if body is not None else None,
            content_type="application/json" if body is not None else None,
            environ_overrides={"REMOTE_ADDR": self.request.remote_addr or "unknown"})
        try:
            return builder.get_request()
        finally:
            builder.close()

    def exchange(self, route, values=None, query=None, body=None):
        sub = self._sub_request(route, values or {}, query or {}, body)
        exchange = api.Exchange(sub, self.db, self.settings, self.principal, self.web_session)

        def call(rpc, actor, arguments):
            try:
                return self._call_service(exchange, rpc, actor, arguments)
            except UnknownService:
                raise ServiceTimeout(f"{rpc}: the service is not running") from None

        exchange.call = call
        return exchange

    def run(self, name, values=None, body=None, **query):
        """The answer of the route ``name`` (its operation id) as JSON; the API's typed
        errors (Refused 401/403/404, ServiceTimeout ...) are raised."""
        route = ROUTES_BY_NAME[name]
        exchange = self.exchange(route, values, query, body)
        response = api.run(route, values or {}, exchange)
        self.set_cookies.extend(exchange.set_cookies)
        self.clear_cookies.extend(exchange.clear_cookies)
        data = response.get_data()
        return json.loads(data) if data else None

    def get(self, name, values=None, **query):
        return self.run(name, values, **query)

    def every(self, name, values=None, most=10 * PAGE_SIZE, **query):
        """Every item of a paged route (page by page), up to ``most``."""
        found, offset = [], 0
        while offset is not None and len(found) < most:
            page = self.run(name, values, limit=PAGE_SIZE, offset=offset, **query)
            found.extend(page["items"])
            offset = page["next_offset"]
        return found[:most]
