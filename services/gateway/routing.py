"""The API's routes as data: each names its HTTP method and path, the RPC it calls, who it is
for (:mod:`services.gateway.policy`), how the unit and the member it concerns are found, and
the marshmallow schemas of the RPC's arguments and result (the services' own, from their
``schemas.py``: one source for validation, the OpenAPI document and the docs).

A route table reads like a list of what a person can do; :mod:`services.gateway.api` runs
any route the same way, and the OpenAPI document (:mod:`services.gateway.openapi`) is
generated from the same rows, so the two cannot disagree.
"""

from dataclasses import dataclass, field

from werkzeug.routing import Map, Rule

from gonghui.schemas import Page
from services.gateway.policy import READ, WRITE, Action

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class From:
    """Where a value comes from: ``path``, ``query`` or ``body`` (an argument of the request
    named ``name``), or ``lookup`` (the field ``field`` of what the RPC ``rpc`` answers when
    called with the request's argument ``name``: a record's unit)."""

    where: str
    name: str
    rpc: str | None = None
    field: str | None = None
    argument: str | None = None  # the lookup RPC's argument name (default: ``name``)


def path(name):
    return From("path", name)


def arg(name):
    """An argument of the request, from the path, the query or the body."""
    return From("arg", name)


def lookup(rpc, name, field, argument=None):
    return From("lookup", name, rpc, field, argument)


def member_unit(name):
    """The unit of the member the argument ``name`` names (from the read model)."""
    return From("member_unit", name)


def each_unit(name, field):
    """The units the field ``field`` of each entry of the list argument ``name`` names (a
    meeting's tasks' owner units)."""
    return From("each_unit", name, field=field)


def each_member_unit(name, field):
    """The units of the members the field ``field`` of each entry of the list argument
    ``name`` names (an election's committee seats)."""
    return From("each_member_unit", name, field=field)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # werkzeug rule syntax below API_PREFIX, e.g. /units/<int:unit_id>
    rpc: str  # service.method
    audience: str
    verb: str = READ
    summary: str = ""
    unit: From | None = None  # the unit the request concerns
    member: From | None = None  # whose data or act it is
    also: tuple = ()  # more units the caller must be allowed the same action in (a move's
    # new parent, a role's union when the target is the member)
    args: type | None = None  # the RPC's argument schema
    result: type | None = None  # the RPC's result schema
    many: bool = False
    paged: bool = False  # limit/offset through to the RPC; the answer is a page and its total
    scope: str | None = None  # the RPC's unit argument that scopes a list to a subtree
    self_member: str | None = None  # an RPC argument the caller's own member id fills
    self_employee: str | None = None  # an RPC argument the caller's employee number fills
    fixed: dict = field(default_factory=dict, hash=False)  # arguments the route sets
    status: int = 200
    tag: str = ""
    content: str = "json"  # json, or the media type of a file the RPC returns as base64
    operation_id: str = ""
    setting: str | None = None  # a gateway setting that must be on, else the route is 404

    @property
    def action(self):
        return Action(self.audience, self.verb)

    @property
    def rule(self):
        return API_PREFIX + self.path

    @property
    def name(self):
        return self.operation_id or self.rpc.replace(".", "_")


def write(method, path_, rpc, audience, **options):
    return Route(method, path_, rpc, audience, WRITE, **options)


def read(path_, rpc, audience, **options):
    return Route("GET", path_, rpc, audience, READ, **options)


def url_map(routes):
    """A werkzeug Map whose endpoints are the routes."""
    rules = Map(strict_slashes=False, merge_slashes=False)
    for route in routes:
        rules.add(Rule(route.rule, methods=[route.method], endpoint=route))
    return rules


def check_table(routes):
    """The table's own consistency, raised at import: one route per method and path, one
    name per route, a path argument each RPC can take, and a paged route calling a list
    RPC (its arguments a :class:`gonghui.schemas.Page`: it answers the total)."""
    seen, names = set(), set()
    for route in routes:
        if route.paged and not (route.args is not None and issubclass(route.args, Page)):
            raise ValueError(f"route {route.method} {route.rule} is paged but {route.rpc} "
                             "is no list RPC (its arguments do not derive from Page)")
        key = (route.method, route.rule)
        if key in seen:
            raise ValueError(f"route {route.method} {route.rule} declared twice")
        if route.name in names:
            raise ValueError(f"operation id {route.name} declared twice")
        seen.add(key)
        names.add(route.name)
    return routes
