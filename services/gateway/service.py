"""The gateway: the HTTP door of Gonghui (网关), for people in a browser and for other systems.

It owns no domain data, only accounts, sessions and API tokens (``models.py``); it keeps
the kit's read model of organization's tree (``gonghui.directory``) to know who a person is
in the union. Every request under ``/api/v1/`` runs the same way (``api.py``): find its route
in the tables (``routes/``), authenticate the caller (``identity.py``), let the one policy
decide (``policy.py``), fill what the caller may not choose (their own member id), call the
service by RPC with the authenticated actor and a timeout, and answer JSON, a page, or a
problem document. The OpenAPI document is generated from the same tables (``openapi.py``).
"""

import json

from nameko.extensions import DependencyProvider

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import CONTEXT_KEY
from gonghui.rpc_client import ServiceRpc
from gonghui.web import http
from services.gateway import api, openapi, own
from services.gateway.routes import ROUTE_MAP, ROUTES
from services.organization import events as org_events


class ActingAs(DependencyProvider):
    """``self.act_as(actor)``: the actor every RPC call of this worker carries from now on."""

    def get_dependency(self, worker_ctx):
        def act_as(actor):
            worker_ctx.data[CONTEXT_KEY] = str(actor)

        return act_as


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class GatewayService(directory.tree_handlers(org_events), kit.ServiceBase):
    name = "gateway"

    act_as = ActingAs()
    organization = ServiceRpc("organization")
    activities = ServiceRpc("activities")
    deeds = ServiceRpc("deeds")
    notifications = ServiceRpc("notifications")

    @http("GET,POST,PUT,PATCH,DELETE", "/api/v1/<path:rest>")
    def api(self, request, rest):
        """Every route of the API (``routes/``), run by ``api.handle``."""
        return api.handle(request, self.db, self._call, ROUTE_MAP, self.config)

    @http("GET", "/api/v1/openapi.json")
    def openapi_document(self, request):
        """The OpenAPI 3.1 document of every route."""
        return 200, {"Content-Type": "application/json"}, json.dumps(
            openapi.document(ROUTES, self.config.get("PUBLIC_URL")), ensure_ascii=False)

    @http("GET", "/api/v1/docs")
    def reference(self, request):
        """A readable reference of the API, served from here (no CDN)."""
        return 200, {"Content-Type": "text/html; charset=utf-8"}, openapi.reference_page(
            ROUTES)

    def _call(self, exchange, rpc, actor, arguments):
        service, method = rpc.split(".", 1)
        if service == "gateway":
            return own.call(method, exchange, actor, arguments)
        self.act_as(actor)
        return getattr(getattr(self, service), method)(**arguments)
