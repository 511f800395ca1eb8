"""RabbitMQ topology, users and permissions of Gonghui.

One place computes, from ``deploy.services`` and the services' own code:

* the *definitions* (vhost, exchanges, the event handlers' queues with exactly the arguments
  the services declare, bindings) - written to ``deploy/rabbitmq/definitions.json``, which the
  broker loads at boot (compose) and which ``apply`` imports into a running broker;
* the *users* and the narrowest permissions that still let each one work: one user per
  service, ``operator`` (standalone RPC client, reads dead-letter queues) and ``downstream``
  (example of a plain AMQP subscriber).

No user or password is ever written to the repository: passwords come from the environment
(``<USER>_AMQP_PASSWORD``) and are set through the management HTTP API by ``apply``.

Command line::

    python -m deploy.broker write     # regenerate deploy/rabbitmq/definitions.json
    python -m deploy.broker check     # exit 1 if the committed file is stale
    python -m deploy.broker table     # print the users and their permissions
    python -m deploy.broker apply     # = apply_from_env() (what `gonghui broker-setup` runs)
    python -m deploy.broker render-boot PATH   # definitions + admin user, for boot-time load
"""

import argparse
import base64
import hashlib
import importlib
import inspect
import json
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from deploy.services import PLANNED_SERVICES, SERVICES, VHOST

DEFINITIONS_PATH = Path(__file__).resolve().parent / "rabbitmq" / "definitions.json"

RPC_EXCHANGE = "nameko-rpc"  # nameko 2.14.1's default ``rpc_exchange``
STANDALONE_PROXY = "standalone_rpc_proxy"  # nameko's service name for standalone RPC proxies
DEFAULT_DELIVERY_LIMIT = 20  # EVENT_DELIVERY_LIMIT default in gonghui.entrypoints

OPERATOR_USER = "operator"
DOWNSTREAM_USER = "downstream"
OPTIONAL_USERS = (DOWNSTREAM_USER,)

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_EVENT = "[a-z0-9_]+"
_METHOD = "[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class BrokerSetupError(Exception):
    """Broker setup cannot proceed (missing variable, API refused a request, ...)."""


# ------------------------------------------------------------------ event handlers


@dataclass(frozen=True, order=True)
class Handler:
    """One ``@event_handler`` method: it consumes ``<source>.events`` / ``event``."""

    source: str
    event: str
    service: str
    method: str

    @property
    def queue(self):
        from gonghui.entrypoints import handler_queue_name

        return handler_queue_name(self.source, self.event, self.service, self.method)


def service_class(module, service_name):
    """The class of ``module`` whose ``name`` attribute is the service's name."""
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if getattr(obj, "name", None) == service_name and obj.__module__ == module.__name__:
            return obj
    for _, obj in inspect.getmembers(module, inspect.isclass):  # imported from elsewhere
        if getattr(obj, "name", None) == service_name:
            return obj
    raise BrokerSetupError(f"{module.__name__} has no class with name = {service_name!r}")


def discover_handlers(specs=None):
    """Import each service's module and list its event handlers (sorted).

    A service whose module does not exist yet contributes none (with a warning on stderr),
    so the topology of the services that exist can be generated while others are written.
    """
    specs = SERVICES if specs is None else specs
    found = set()
    for spec in specs:
        module_name, _, class_name = spec.module.partition(":")  # nameko's module[:Class]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if module_name == missing or module_name.startswith(missing + "."):
                print(f"deploy.broker: warning: {module_name} not found; "
                      f"{spec.name} has no event handlers yet", file=sys.stderr)
                continue
            raise
        cls = getattr(module, class_name) if class_name else service_class(module, spec.name)
        for method, member in inspect.getmembers(cls):
            handles = getattr(member, "handles_event", None)
            if handles:
                source, event = handles
                found.add(Handler(source, event, spec.name, method))
    return sorted(found)


# ------------------------------------------------------------------ permissions


def _esc(name):
    """Escape regex metacharacters (re.escape also escapes '-', which reads badly)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name)


def _alternation(patterns):
    return "^(?:" + "|".join(patterns) + ")$"


def _check_name(name):
    if not _NAME.match(name):
        raise ValueError(f"invalid service name {name!r} (lower case, digits, underscore)")
    return name


def permissions(service_name, consumes_from=(), publishes=True):
    """Configure/write/read regexes of a service's user.

    ``consumes_from``: names of the services whose events it handles; ``publishes``: whether
    it publishes events of its own (the gateway does not: no write on ``<s>.events``).

    * configure: ``nameko-rpc`` (kombu redeclares a queue's exchange: the RPC queue and the
      reply queue are bound to it), its RPC queue ``rpc-<s>``, its reply queues
      ``rpc.reply-<s>-<uuid>``, and - only when it handles events - its handler queues
      ``evt-<src>-<event>--<s>.<method>`` with their ``.retry`` and ``.dlq``, and its retry
      exchange ``<s>.retry`` (``exchange.declare`` needs configure even when the exchange
      exists). Not the event exchanges: they come from the definitions (services run with
      ``DECLARE_EVENT_EXCHANGES: false``).
    * write: ``nameko-rpc`` (requests and replies), ``<s>.events`` (the outbox relay; only
      when it publishes), its RPC
      and reply queues and its handler queues with their ``.retry`` and ``.dlq``
      (``queue.bind`` needs write on the queue), and ``<s>.retry``: failed events are parked
      in ``.retry`` / ``.dlq`` through it, and declaring a queue whose dead-letter exchange it
      is needs write on it. Never ``amq.default``: through the default exchange a user can
      publish into any queue of the vhost by name.
    * read: ``nameko-rpc``, ``<s>.retry`` and the exchanges it consumes from (``queue.bind``
      needs read on the exchange), its RPC, reply and handler queues (consume) and the
      ``.retry`` queues (declaring a queue with a dead-letter exchange needs read on the
      queue).
    """
    from gonghui.entrypoints import retry_exchange_name

    s = _esc(_check_name(service_name))
    sources = sorted({_check_name(src) for src in consumes_from})
    rpc_queue = f"rpc-{s}"
    reply_queue = rf"rpc\.reply-{s}-{_UUID}"
    rpc_x = _esc(RPC_EXCHANGE)
    configure = [rpc_x, rpc_queue, reply_queue]
    write = [rpc_x] + ([rf"{s}\.events"] if publishes else []) + [rpc_queue, reply_queue]
    read = [rpc_x, rpc_queue, reply_queue]
    if sources:
        src = "|".join(_esc(x) for x in sources)
        handler_queue = rf"evt-(?:{src})-{_EVENT}--{s}\.{_METHOD}"
        retry_x = _esc(retry_exchange_name(service_name))
        configure += [rf"{handler_queue}(?:\.retry|\.dlq)?", retry_x]
        write += [rf"{handler_queue}(?:\.retry|\.dlq)?", retry_x]
        read += [rf"{handler_queue}(?:\.retry)?", retry_x, rf"(?:{src})\.events"]
    return {"configure": _alternation(configure), "write": _alternation(write),
            "read": _alternation(read)}


def operator_permissions():
    """Standalone RPC client (``nameko shell``, ``cluster_rpc``) and read on dead-letter
    queues (``basic.get`` to inspect them; moving messages back is an admin's job)."""
    rpc_x = _esc(RPC_EXCHANGE)
    reply_queue = rf"rpc\.reply-{STANDALONE_PROXY}-{_UUID}"
    dlq = rf"evt-{_EVENT}-{_EVENT}--{_EVENT}\.{_METHOD}\.dlq"
    return {"configure": _alternation([rpc_x, reply_queue]),
            "write": _alternation([rpc_x, reply_queue]),
            "read": _alternation([rpc_x, reply_queue, dlq])}


def downstream_permissions():
    """A plain AMQP subscriber: its own queues ``downstream.*``, bound to any ``*.events``
    exchange; it cannot publish to those exchanges, nor touch any service's queue. It must
    not (re)declare the event exchanges: declare them passively or not at all."""
    own = r"downstream\..+"
    return {"configure": _alternation([own]), "write": _alternation([own]),
            "read": _alternation([own, rf"{_EVENT}\.events"])}


def user_permissions(specs=None, handlers=None):
    """{user: permissions} for every service user, the operator and downstream."""
    specs = SERVICES if specs is None else specs
    handlers = discover_handlers(specs) if handlers is None else handlers
    table = {}
    for spec in specs:
        sources = {h.source for h in handlers if h.service == spec.name}
        table[spec.amqp_user] = permissions(spec.name, sources, spec.publishes_events)
    table[OPERATOR_USER] = operator_permissions()
    table[DOWNSTREAM_USER] = downstream_permissions()
    return table


# ------------------------------------------------------------------ definitions


def exchange_names(specs=None, handlers=()):
    """``<service>.events`` of every service that publishes events (not the gateway)."""
    specs = SERVICES if specs is None else specs
    names = {s.name for s in [*specs, *SERVICES] if s.publishes_events} | set(PLANNED_SERVICES)
    unknown = sorted({h.source for h in handlers} - names)
    if unknown:
        raise BrokerSetupError(f"event handlers consume from unknown service(s) {unknown}; "
                               "add them to deploy.services")
    return sorted(f"{name}.events" for name in names)


def definitions(specs=None, handlers=None, vhost=VHOST, delivery_limit=DEFAULT_DELIVERY_LIMIT):
    """RabbitMQ definitions (no users, no permissions, no passwords)."""
    from gonghui.entrypoints import queue_arguments, retry_exchange_name, retry_queue_arguments

    handlers = discover_handlers(specs) if handlers is None else sorted(handlers)

    def exchange(name, kind="topic"):
        return {"name": name, "vhost": vhost, "type": kind, "durable": True,
                "auto_delete": False, "internal": False, "arguments": {}}

    def queue(name, arguments):
        return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
                "arguments": dict(sorted(arguments.items()))}

    def binding(source, destination, routing_key):
        return {"source": source, "vhost": vhost, "destination": destination,
                "destination_type": "queue", "routing_key": routing_key, "arguments": {}}

    exchanges = [exchange(RPC_EXCHANGE)] + [exchange(n) for n in exchange_names(specs,
                                                                                 handlers)]
    exchanges += [exchange(retry_exchange_name(name), "direct")
                  for name in sorted({h.service for h in handlers})]
    queues, bindings = [], []
    for h in handlers:
        q, retry_x = h.queue, retry_exchange_name(h.service)
        queues += [queue(q, queue_arguments(q, delivery_limit, retry_x)),
                   queue(f"{q}.retry", retry_queue_arguments(q, retry_x)),
                   queue(f"{q}.dlq", {})]
        bindings.append(binding(f"{h.source}.events", q, h.event))
        bindings += [binding(retry_x, name, name) for name in (q, f"{q}.retry", f"{q}.dlq")]
    return {"vhosts": [{"name": vhost}], "exchanges": exchanges, "queues": queues,
            "bindings": bindings}


def render(defs):
    return json.dumps(defs, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_definitions(path=DEFINITIONS_PATH, defs=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(definitions() if defs is None else defs), encoding="utf-8")
    return path


def definitions_stale(path=DEFINITIONS_PATH):
    """None when the file matches the code, else a one-line reason."""
    path = Path(path)
    if not path.exists():
        return f"{path} does not exist"
    if path.read_text(encoding="utf-8") != render(definitions()):
        return f"{path} is stale"
    return None


def rabbit_password_hash(password, salt=None):
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def boot_definitions(admin_user, admin_password, vhost=VHOST):
    """The definitions plus the admin user (salted hash) for RabbitMQ to load at boot.

    RabbitMQ does not create its default user when definitions are configured to load at
    boot (3.10 logs "Will not seed default virtual host and user: have definitions to
    load"), so the admin must be in the loaded file. This file is rendered at deploy time
    from the environment into a volume, never into the repository.
    """
    defs = definitions(vhost=vhost)
    defs["users"] = [{"name": admin_user, "password_hash": rabbit_password_hash(admin_password),
                      "hashing_algorithm": "rabbit_password_hashing_sha256",
                      "tags": "administrator", "limits": {}}]
    defs["permissions"] = [{"user": admin_user, "vhost": vhost, "configure": ".*",
                            "write": ".*", "read": ".*"}]
    return defs


def render_boot_definitions(path, environ=None):
    """``python -m deploy.broker render-boot PATH``: RABBITMQ_ADMIN_USER/PASSWORD from env."""
    env = os.environ if environ is None else environ
    missing = [n for n in ("RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD") if not env.get(n)]
    if missing:
        raise BrokerSetupError("missing environment variable(s): " + ", ".join(missing))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(boot_definitions(env["RABBITMQ_ADMIN_USER"], env["RABBITMQ_ADMIN_PASSWORD"],
                                   env.get("GONGHUI_VHOST") or VHOST))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)  # read by the broker's own user; holds a salted hash only
    tmp.replace(path)
    return path


# ------------------------------------------------------------------ applying to a broker


def _vhost_scoped(defs, vhost):
    scoped = {}
    for key in ("exchanges", "queues", "bindings"):
        scoped[key] = [{**item, "vhost": vhost} for item in defs.get(key, [])]
    return scoped


def _request(session, method, url, **kwargs):
    import requests

    try:
        response = session.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        raise BrokerSetupError(f"{method} {url}: {exc}") from exc
    if response.status_code >= 300:
        raise BrokerSetupError(f"{method} {url}: HTTP {response.status_code} {response.text}")
    return response


def apply(api_url, admin_auth, vhost, passwords, *, specs=None, handlers=None,
          user_prefix="", delivery_limit=DEFAULT_DELIVERY_LIMIT):
    """Create the vhost, import the definitions into it, create/update the users with their
    passwords (no tags: they cannot use the management API) and set their permissions.

    ``passwords``: {logical user: password}; every service user and ``operator`` are
    required, ``downstream`` is optional. ``user_prefix`` is prepended to the broker's user
    names (tests use it so they never touch the real users, which are global to the broker).
    Idempotent: running it again changes nothing but the password hashes.
    """
    import requests

    specs = SERVICES if specs is None else specs
    handlers = discover_handlers(specs) if handlers is None else handlers
    table = user_permissions(specs, handlers)
    required = [u for u in table if u not in OPTIONAL_USERS]
    missing = [u for u in required if not passwords.get(u)]
    if missing:
        raise BrokerSetupError(f"no password for AMQP user(s): {', '.join(missing)}")
    unknown = sorted(set(passwords) - set(table))
    if unknown:
        raise BrokerSetupError(f"unknown AMQP user(s): {', '.join(unknown)}")

    api = api_url.rstrip("/")
    v = quote(vhost, safe="")
    session = requests.Session()
    session.auth = tuple(admin_auth)
    session.headers["content-type"] = "application/json"
    _request(session, "PUT", f"{api}/vhosts/{v}",
             json={"description": "Gonghui services", "tags": "gonghui"})
    defs = definitions(specs, handlers, vhost=vhost, delivery_limit=delivery_limit)
    _request(session, "POST", f"{api}/definitions/{v}", json=_vhost_scoped(defs, vhost))
    applied = {}
    for user, perms in table.items():
        password = passwords.get(user)
        if not password:
            continue
        name = f"{user_prefix}{user}"
        n = quote(name, safe="")
        _request(session, "PUT", f"{api}/users/{n}", json={"password": password, "tags": ""})
        _request(session, "PUT", f"{api}/permissions/{v}/{n}", json=perms)
        applied[name] = perms
    return {"vhost": vhost, "users": applied,
            "exchanges": len(defs["exchanges"]), "queues": len(defs["queues"])}


def teardown(api_url, admin_auth, vhost, users=()):
    """Delete a vhost and users (tests and throwaway runners only)."""
    import requests

    api = api_url.rstrip("/")
    for url in [f"{api}/vhosts/{quote(vhost, safe='')}"] + [
            f"{api}/users/{quote(u, safe='')}" for u in users]:
        response = requests.delete(url, auth=tuple(admin_auth), timeout=30)
        if response.status_code not in (204, 404):
            raise BrokerSetupError(f"DELETE {url}: HTTP {response.status_code}")


def password_variable(user):
    return f"{user.upper().replace('-', '_')}_AMQP_PASSWORD"


def wait_for_api(api_url, admin_auth, timeout=60.0):
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(f"{api_url.rstrip('/')}/overview", auth=tuple(admin_auth),
                                    timeout=5)
            if response.status_code == 401:
                raise BrokerSetupError(f"{api_url}: the admin user/password is refused")
            if response.ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise BrokerSetupError(f"RabbitMQ management API at {api_url} did not answer "
                                   f"within {timeout:.0f}s")
        time.sleep(1)


def apply_from_env(environ=None):
    """``gonghui broker-setup``: everything from the environment.

    RABBITMQ_API_URL (e.g. http://rabbitmq:15672/api), RABBITMQ_ADMIN_USER,
    RABBITMQ_ADMIN_PASSWORD, GONGHUI_VHOST (default ``gonghui``), and per user
    ``<USER>_AMQP_PASSWORD`` (ORGANIZATION_AMQP_PASSWORD, ..., OPERATOR_AMQP_PASSWORD;
    DOWNSTREAM_AMQP_PASSWORD is optional: without it no downstream user is made).
    GONGHUI_AMQP_USER_PREFIX (default empty) is prepended to every user name, for several
    deployments sharing one broker (users are global to a broker, vhosts are not).
    """
    env = os.environ if environ is None else environ
    table = user_permissions()
    needed = ["RABBITMQ_API_URL", "RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD"]
    needed += [password_variable(u) for u in table if u not in OPTIONAL_USERS]
    missing = [name for name in needed if not env.get(name)]
    if missing:
        raise BrokerSetupError("missing environment variable(s): " + ", ".join(missing))
    passwords = {u: env[password_variable(u)] for u in table if env.get(password_variable(u))}
    auth = (env["RABBITMQ_ADMIN_USER"], env["RABBITMQ_ADMIN_PASSWORD"])
    wait_for_api(env["RABBITMQ_API_URL"], auth,
                 float(env.get("RABBITMQ_API_WAIT_SECONDS", "60")))
    return apply(env["RABBITMQ_API_URL"], auth, env.get("GONGHUI_VHOST") or VHOST, passwords,
                 user_prefix=env.get("GONGHUI_AMQP_USER_PREFIX", ""))


# ------------------------------------------------------------------ command line


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.broker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["write", "check", "table", "apply", "render-boot"])
    parser.add_argument("path", nargs="?", help="render-boot: where to write the file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=r"\s*eventlet is deprecated")
    try:
        if args.command == "write":
            print(f"wrote {write_definitions()}")
        elif args.command == "check":
            stale = definitions_stale()
            if stale:
                print(f"{stale}: run `python -m deploy.broker write`", file=sys.stderr)
                return 1
            print(f"{DEFINITIONS_PATH} is up to date")
        elif args.command == "table":
            for user, perms in user_permissions().items():
                print(user)
                for kind in ("configure", "write", "read"):
                    print(f"  {kind:9} {perms[kind]}")
        elif args.command == "render-boot":
            if not args.path:
                parser.error("render-boot needs the path of the file to write")
            print(f"wrote {render_boot_definitions(args.path)}")
        else:
            summary = apply_from_env()
            print(f"vhost {summary['vhost']}: {summary['exchanges']} exchanges, "
                  f"{summary['queues']} queues; users: {', '.join(summary['users'])}")
    except BrokerSetupError as exc:
        print(f"broker setup: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
