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
import logging

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import CONTEXT_KEY
from gonghui.entrypoints import rpc
from gonghui.errors import NotFound
from gonghui.rpc_client import ServiceRpc
from gonghui.web import http
from services.gateway import accounts, api, openapi, operators, own
from services.gateway.pages import app as pages
from services.gateway.routes import ROUTE_MAP, ROUTES
from services.gateway.schemas import AccountOut
from services.organization import events as org_events

log = logging.getLogger(__name__)


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

    # ------------------------------------------------------------ the web pages (pages/)

    @http("GET", "/")
    def home_page(self, request):
        """工作台, the home page of whoever is signed in (``pages/``)."""
        return pages.handle(request, self.db, self._call, self.config)

    @http("GET,POST", "/<path:page>")
    def page(self, request, page):
        """Every other page, the login and the static files (``pages/``); an unknown path
        is a 404 problem document as before."""
        return pages.handle(request, self.db, self._call, self.config)

    @timer(interval=3600)
    def prune_accounts(self):
        """Hourly: forget old login attempts, ended sessions, idempotency answers past their
        day and spent codes (``accounts.prune``)."""
        deleted = accounts.prune(self.db)
        self.db.commit()
        if any(deleted.values()):
            log.info("pruned %s", deleted)

    def _call(self, exchange, rpc, actor, arguments):
        service, method = rpc.split(".", 1)
        if service == "gateway":
            return own.call(method, exchange, actor, arguments)
        self.act_as(actor)
        return getattr(getattr(self, service), method)(**arguments)

    # ------------------------------------------------------------ operators (`gonghui accounts`)
    # The first accounts come from here (operators.py); only an operator's actor may call.

    @rpc(result=AccountOut, many=True, actors=operators.OPERATOR_ONLY)
    def accounts(self):
        """Every account, with its grants (administrator, auditor)."""
        return operators.list_accounts(self.db)

    @rpc(args=operators.AccessChange, result=AccountOut, writes=True,
         actors=operators.OPERATOR_ONLY)
    def grant_access(self, employee_no, access):
        """Make a person an administrator or an auditor (their account is made if need be)."""
        return operators.set_access(self.db, self.actor(), employee_no, access, True)

    @rpc(args=operators.AccessChange, result=AccountOut, writes=True,
         actors=operators.OPERATOR_ONLY, errors=(NotFound,))
    def revoke_access(self, employee_no, access):
        """A person is no longer an administrator, or an auditor."""
        return operators.set_access(self.db, self.actor(), employee_no, access, False)

    @rpc(args=operators.EmployeeNo, result=operators.OperatorCodeOut, writes=True,
         actors=operators.OPERATOR_ONLY)
    def issue_login_code(self, employee_no):
        """A one-time code for a person to set their password with; shown once."""
        return operators.issue_login_code(self.db, self.actor(), employee_no)

    @rpc(args=operators.DemoPassword, result=AccountOut, writes=True,
         actors=operators.OPERATOR_ONLY)
    def demo_set_password(self, employee_no, password):
        """Demo stacks only (setting ``DEMO_LOGINS``): set a person's password directly."""
        return operators.demo_set_password(self.db, self.actor(), employee_no, password,
                                           self.config.get("DEMO_LOGINS"))
