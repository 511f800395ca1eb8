"""Running one route for one request: the arguments, the target the policy judges, the
decision, the arguments the caller may not choose (their own member id), the RPC call with
the authenticated actor, and the answer (a page for lists, with the total of the list).

Nothing here knows a particular route: the tables in :mod:`services.gateway.routes` do.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import quote

from nameko.exceptions import UnknownService
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from gonghui import directory
from gonghui.actor import Actor
from gonghui.errors import Conflict, Forbidden, NotFound, ServiceTimeout, ValidationError
from services.gateway import accounts, arguments, identity
from services.gateway.models import IdempotentRequest
from services.gateway.policy import Target, decide, visible_roots

# The gateway's own reads made to find a record's unit before the policy decides.
LOOKUP_ACTOR = Actor("service", "gateway")
# The units of a target the read model does not know: in no office's subtree (administrators
# pass, and the service answers whether it exists).
UNKNOWN_UNIT = (0,)
# What a paged route always asks of its list RPC: the page with the list's total (the
# kit's ``with_total``, gonghui.paging); a request may not ask otherwise.
PAGE_WITH_TOTAL = {"with_total": True}


class Refused(Forbidden):
    """The policy's refusal; ``status`` is 401, 403 or 404."""

    def __init__(self, status, message):
        super().__init__(message)
        self.http_status = status
        self.problem_kind = {401: "not-authenticated", 404: "not-found"}.get(status, "forbidden")


def json_response(value, status=200, headers=None):
    return Response(json.dumps(value, ensure_ascii=False, default=str), status=status,
                    headers=headers or {}, content_type="application/json")


def gather(route, values, exchange):
    """The RPC's arguments from the path, the query (reads) or the body (writes), and
    those the route sets (which the request may not set otherwise)."""
    found = {}
    http = exchange.http
    if route.method in ("GET", "DELETE", "HEAD"):
        query = {k: v for k, v in http.args.lists() if not (route.paged and k in ("limit",
                                                                                 "offset"))}
        found.update(arguments.query_arguments(route.args, MultiDict(
            [(k, v) for k, vs in query.items() for v in vs])))
    else:
        body = arguments.body_arguments(http, route.args)
        clash = {k: ["given in the path"] for k in body if k in values and body[k] != values[k]}
        if clash:
            raise ValidationError("the body disagrees with the path", clash)
        found.update(body)
    found.update(values)
    fixed = {**route.fixed, **PAGE_WITH_TOTAL} if route.paged else route.fixed
    clash = {k: ["set by the route"] for k, v in fixed.items() if k in found and found[k] != v}
    if clash:
        raise ValidationError("the request sets what the route sets", clash)
    found.update(fixed)
    return found


def _an_id(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _member_unit(db, member_id):
    """The unit of a member the read model knows, else None (the service answers whether
    they exist)."""
    known = db.get(directory.DirectoryMember, member_id or 0)
    return known.unit_id if known is not None else None


def _unit_of(source, args, exchange):
    if source is None:
        return None
    if source.where == "member_unit":
        return _member_unit(exchange.db, args.get(source.name))
    if source.where == "lookup":
        key = args.get(source.name)
        if key is None:
            return None
        record = exchange.call(source.rpc, LOOKUP_ACTOR, {source.argument or source.name: key})
        return record.get(source.field) if isinstance(record, dict) else None
    return _an_id(args.get(source.name))


def _units_named(source, args, exchange):
    """The units a source of ``also`` names: one, or one per entry of a list argument."""
    if source.where not in ("each_unit", "each_member_unit"):
        unit_id = _unit_of(source, args, exchange)
        return [] if unit_id is None else [unit_id]
    entries = args.get(source.name) or []
    named = [n for e in entries if isinstance(e, dict) if (n := _an_id(e.get(source.field)))
             is not None]
    if source.where == "each_member_unit":
        named = [u for n in named if (u := _member_unit(exchange.db, n)) is not None]
    return named


def _units_from(db, unit_id):
    """The unit and the units above it, nearest first (from the read model)."""
    return tuple(directory.ancestor_ids(db, unit_id))


def target_of(route, args, exchange):
    """The unit (with its ancestors) and the member the request concerns."""
    unit_id = _unit_of(route.unit, args, exchange)
    member_id = None
    if route.member is not None:
        member_id = _unit_of(route.member, args, exchange)
    elif route.self_member is not None:
        # The caller's own act or data: the target is the caller (a member naming someone
        # else is refused by fill_self, 403).
        member_id = exchange.principal.member_id
    if unit_id is None and member_id is not None:
        unit_id = _member_unit(exchange.db, member_id)
    if unit_id is not None:
        units = _units_from(exchange.db, unit_id)
    elif any(s is not None and args.get(s.name) is not None for s in (route.unit, route.member)):
        units = UNKNOWN_UNIT  # named, but unknown here: in no one's subtree
    else:
        units = ()
    return Target(units, member_id)


def scope_list(route, args, exchange):
    """A list over a subtree: an officer who names no unit gets their union's; one who
    serves several unions must name one."""
    roots = visible_roots(exchange.principal)
    if route.scope is None or roots is None or args.get(route.scope) is not None:
        return
    if len(roots) == 1:
        args[route.scope] = next(iter(roots))
    elif len(roots) > 1:
        raise ValidationError(f"name the unit ({route.scope}): you serve several unions",
                              {route.scope: [f"one of {sorted(roots)}"]})


def fill_self(route, args, principal):
    """Arguments naming the caller are the caller: a member acts only as themselves."""
    for name, mine in ((route.self_member, principal.member_id),
                       (route.self_employee, principal.employee_no)):
        if name is None:
            continue
        if mine is None:
            raise Refused(403, "only a member of the union does this, as themselves")
        given = args.get(name)
        if given is not None and given != mine:
            raise Refused(403, "you act only as yourself")
        args[name] = mine


def actor_for(decision, principal):
    if principal.kind == "token":
        return Actor("service", f"token-{principal.token_id}")
    return Actor(decision.actor_kind, principal.employee_no)


def enabled(value):
    """Whether a gateway setting is on: true, or text such as "true", "1", "yes", "on" (the
    environment's)."""
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def run(route, values, exchange):
    """The answer to the request (a werkzeug Response), or one of the typed errors. A route
    that depends on a setting (``route.setting``) does not exist while the setting is off."""
    if route.setting is not None and not enabled(exchange.settings.get(route.setting)):
        raise Refused(404, "not found")
    args = gather(route, values, exchange)
    limit = offset = None
    if route.paged:
        limit, offset = arguments.page_arguments(exchange.http.args)
    scope_list(route, args, exchange)
    try:
        target = target_of(route, args, exchange)
    except NotFound:
        raise Refused(404, "not found") from None
    decision = decide(exchange.principal, route.action, target)
    for unit_id in (u for source in route.also for u in _units_named(source, args, exchange)):
        if not decision.allowed:
            break
        decision = decide(exchange.principal, route.action,
                          Target(_units_from(exchange.db, unit_id)))
    if not decision.allowed:
        raise Refused(decision.status, decision.reason)
    fill_self(route, args, exchange.principal)
    if route.paged:
        args.update(limit=limit, offset=offset)
    result = exchange.call(route.rpc, actor_for(decision, exchange.principal), args)
    if isinstance(result, Response):
        return result
    if route.paged:
        return page_response(result, limit, offset)
    if route.content != "json":
        return file_response(route, result)
    return json_response(result, status=route.status)


def page_response(result, limit, offset):
    """A page of a list: the RPC's ``{"items", "total"}`` (the total of the same filters) and
    where the next page starts (None on the last)."""
    total = result["total"]
    return json_response({"items": result["items"], "total": total, "limit": limit,
                          "offset": offset,
                          "next_offset": offset + limit if offset + limit < total else None})


def file_response(route, result):
    """A file an RPC returns as ``{"filename", "content_base64"}`` (or the text itself). A
    page (HTML) is shown, not downloaded, and may load nothing but its own style."""
    page = route.content.startswith("text/html")
    if isinstance(result, dict) and "content_base64" in result:
        data = base64.b64decode(result["content_base64"])
        name = result.get("filename") or ".".join(
            str(result[k]) for k in ("kind", "file_format") if result.get(k)) or "download"
    else:
        data = (result if isinstance(result, str) else json.dumps(result)).encode()
        name = None
    headers = {}
    if name:
        headers["Content-Disposition"] = (f"{'inline' if page else 'attachment'}; "
                                          f"filename*=UTF-8''{quote(name)}")
    if page:
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(data, content_type=route.content, headers=headers)


def fingerprint(request):
    """What an ``Idempotency-Key`` is bound to: the method, path and body."""
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(),
                                      request.get_data(cache=True)])).hexdigest()


# ------------------------------------------------------------------ one HTTP request


@dataclass
class Exchange:
    """One request's state beyond the route's: cookies to set or clear, and whether the
    gateway's own changes are kept when the request fails (a failed login is counted)."""

    http: object
    db: object
    settings: dict = field(default_factory=dict)  # the gateway's configuration
    principal: object = None
    web_session: object = None
    call: object = None
    set_cookies: list = field(default_factory=list)
    clear_cookies: list = field(default_factory=list)
    keep_changes: bool = False


def handle(http_request, db, call_service, routes_map, settings=None):
    """The response to one API request (errors raised as the kit's typed errors, which the
    kit's ``@http`` answers as problem documents); ``settings`` the gateway's configuration
    (``PUBLIC_NOTICES`` ...)."""
    route, values = routes_map.bind_to_environ(http_request.environ).match()
    exchange = Exchange(http_request, db, settings or {})

    def call(rpc, actor, arguments):
        try:
            return call_service(exchange, rpc, actor, arguments)
        except UnknownService:
            # No queue of that service on the broker at all (never started here): as
            # unavailable as one that does not answer in time.
            raise ServiceTimeout(f"{rpc}: the service is not running") from None

    exchange.call = call
    try:
        caller = identity.authenticate(db, http_request)
        exchange.principal, exchange.web_session = caller.principal, caller.web_session
        key = http_request.headers.get("Idempotency-Key")
        if key and route.method == "POST" and caller.principal.kind != "anonymous":
            response = idempotent(exchange, key, lambda: run(route, values, exchange))
        else:
            response = run(route, values, exchange)
    except Exception:
        if exchange.keep_changes:
            db.commit()
        raise
    secure = http_request.scheme == "https" or http_request.headers.get(
        "X-Forwarded-Proto") == "https"
    for name, value, http_only in exchange.set_cookies:
        response.set_cookie(name, value, httponly=http_only, secure=secure, samesite="Lax",
                            path="/", max_age=int(accounts.SESSION_MAX.total_seconds()))
    for name in exchange.clear_cookies:
        response.delete_cookie(name, path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def idempotent(exchange, key, respond):
    """``respond()`` once per (caller, key): a repeat gets the first answer again, marked
    ``Idempotent-Replayed: true``; the same key on another request is refused (422), and a
    repeat while the first is still running gets 409."""
    db, caller = exchange.db, exchange.principal.label
    if len(key) > 200:
        raise ValidationError("Idempotency-Key too long", {"Idempotency-Key": ["≤ 200"]})
    mark = fingerprint(exchange.http)
    found = db.scalar(select(IdempotentRequest).where(IdempotentRequest.caller == caller,
                                                      IdempotentRequest.key == key))
    if found is None:
        claim = IdempotentRequest(caller=caller, key=key, fingerprint=mark)
        db.add(claim)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise Conflict("a request with this Idempotency-Key is still running",
                           {"Idempotency-Key": ["in progress"]}) from None
        try:
            response = respond()
        except Exception:
            db.rollback()
            db.delete(db.merge(claim))
            db.commit()
            raise
        claim = db.merge(claim)
        claim.status = response.status_code
        claim.body = json.loads(response.get_data()) if response.is_json else None
        return response
    if found.fingerprint != mark:
        raise ValidationError("this Idempotency-Key was used for another request",
                              {"Idempotency-Key": ["already used with another method, path "
                                                   "or body"]})
    if found.status is None:
        raise Conflict("a request with this Idempotency-Key is still running",
                       {"Idempotency-Key": ["in progress"]})
    replay = json_response(found.body, status=found.status)
    replay.headers["Idempotent-Replayed"] = "true"
    return replay
