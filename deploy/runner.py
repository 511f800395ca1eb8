"""The local process runner: the whole stack on this machine, without Docker.

``start()`` makes sure RabbitMQ and PostgreSQL run (``deploy.infra``), generates one password
per broker user and database role, and each service's ``local_secrets`` (notifications'
SECRETS_KEY) the shell does not give, once (``var/secrets.env``, mode 600, never committed:
var/ is ignored by git), applies the broker setup (vhost, definitions, users, permissions),
creates each service's role and database, runs the migrations, then starts a detached
*supervisor* (``python -m deploy.runner supervise``) which runs every service as its own
``nameko run --config deploy/nameko.yaml services.<name>.service`` process, with its own AMQP
user and database role, logs to ``var/log/<service>.log``, restarts a service that exits
(with backoff, counting restarts) and records ``var/run/state.json``. ``start`` returns once
every service's ``GET /health`` answers 200 (the gateway, the HTTP API, on port 8100; the
others on 8101 ...).

``status()``, ``logs()``, ``stop()`` (SIGTERM to the supervisor, which stops the services
gracefully, SIGKILLs what is left after a timeout, and exits). ``start`` when running and
``stop`` when stopped do nothing.

A service counts as ready when ``GET /health`` answers 200 *and* its RPC queue has a consumer
(the health check does not see nameko's queue consumer being refused by the broker).

Locally, notifications' e-mail goes to a mail sink the supervisor runs and restarts
(``deploy.mailsink.MaildirSink``: each message a file in ``var/mail/new/``,
the Maildir made whatever exists of it) unless the environment names an SMTP server.

A second stack beside a developer's (a test, a demo of a branch) takes these settings,
given as arguments of ``Runner`` or in the environment of ``start``; ``start`` records them
in ``var/run/plan.json`` so that ``status``, ``stop`` and the CLI follow them:

- ``GONGHUI_HOME``: the root of ``var/`` (default: the repository); the code and
  ``deploy/nameko.yaml`` always come from the repository the runner is imported from;
- ``GONGHUI_VHOST`` (default ``gonghui``) and ``GONGHUI_AMQP_USER_PREFIX`` (prepended to
  every broker user: ``<prefix>organization``, ``<prefix>operator`` ...);
- ``GONGHUI_DB_PREFIX``: prepended to every database role, e.g. ``t1_`` gives role
  ``t1_organization`` and database ``gonghui_t1_organization`` (lower-case letters, digits,
  ``_``; default none: role ``organization``, database ``gonghui_organization``);
- ``GONGHUI_HTTP_PORT_OFFSET``: added to every service's HTTP port (default 0: 8101 ...);
- ``GONGHUI_MAIL_SINK_PORT``: the mail sink's SMTP port (default 8025).
"""

import argparse
import contextlib
import json
import os
import re
import secrets as secrets_module
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from deploy import infra
from deploy.manifests import local_environment, migration_spec
from deploy.services import SERVICES, VHOST, ServiceSpec
from deploy.services import service as service_by_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "deploy" / "nameko.yaml"
OPERATOR_USER = "operator"
DOWNSTREAM_USER = "downstream"
POLL_SECONDS = 0.2
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
STABLE_SECONDS = 30.0  # a service up this long is no longer "crash looping"
DEFAULT_MAIL_SINK_PORT = 8025
_DB_PREFIX = re.compile(r"^([a-z][a-z0-9_]*)?$")



@contextlib.contextmanager
def migration_environment(spec, secrets):
    """The settings a service's migrations read (``ServiceSpec.migration_environment``), in
    this process's environment while they run: the shell's own, else the service's resolved
    environment, else the secret generated once (``var/secrets.env``)."""
    wanted = local_environment(migration_spec(spec), os.environ)
    for name in spec.migration_environment:
        if not os.environ.get(name) and not wanted.get(name) and name in spec.local_secrets:
            wanted[name] = secrets[name]
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update({name: value for name, value in wanted.items() if value})
    try:
        yield wanted
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

class RunnerError(Exception):
    pass


def default_home():
    return Path(os.environ.get("GONGHUI_HOME") or ROOT)


def now_iso():
    return datetime.now(UTC).isoformat(timespec="seconds")


def pid_alive(pid):
    """True if ``pid`` runs (a zombie counts as gone, and is reaped if it is our child)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _write_atomic(path, text, mode=0o644):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _read_json(path, default=None):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


# ------------------------------------------------------------------ secrets


def variable(user, kind):
    """ORGANIZATION_AMQP_PASSWORD, ORGANIZATION_DB_PASSWORD, OPERATOR_AMQP_PASSWORD, ..."""
    return f"{user.upper().replace('-', '_')}_{kind}_PASSWORD"


def read_env_file(path):
    values = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return values
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def ensure_secrets(path, names):
    """Read ``path``; generate the missing ones (never changing an existing one)."""
    path = Path(path)
    values = read_env_file(path)
    missing = [n for n in names if not values.get(n)]
    for name in missing:
        values[name] = secrets_module.token_hex(24)  # URL-safe: goes into AMQP/DB URLs
    if missing or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
        _write_atomic(path, "# generated by deploy.runner; local only, never commit\n" + body,
                      mode=0o600)
    os.chmod(path, 0o600)
    return values


# ------------------------------------------------------------------ the runner


def resolve_specs(services=None):
    if services is None:
        return list(SERVICES)
    return [s if isinstance(s, ServiceSpec) else service_by_name(s) for s in services]


def amqp_uri(user, password, vhost):
    return (f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@"
            f"{infra.RABBIT_HOST}:{infra.RABBIT_PORT}/{quote(vhost, safe='')}")


def _setting(value, plan, key, variable, default):
    """An argument, else what start recorded in the plan, else the environment, else the
    default."""
    if value is not None:
        return value
    if key in plan:
        return plan[key]
    return os.environ.get(variable) or default


class Runner:
    def __init__(self, home=None, vhost=None, user_prefix=None, pythonpath=(), migrate=True,
                 config=None, stop_timeout=None, db_prefix=None, http_port_offset=None,
                 mail_sink_port=None):
        self.home = Path(home) if home else default_home()
        self.var = self.home / "var"
        self.run_dir = self.var / "run"
        self.log_dir = self.var / "log"
        self.secrets_path = self.var / "secrets.env"
        self.plan_path = self.run_dir / "plan.json"
        self.state_path = self.run_dir / "state.json"
        self.pid_path = self.run_dir / "supervisor.pid"
        self.supervisor_log = self.log_dir / "supervisor.log"
        plan = _read_json(self.plan_path, {})  # status/stop follow what start was told
        self.vhost = vhost or plan.get("vhost") or os.environ.get("GONGHUI_VHOST") or VHOST
        self.user_prefix = _setting(user_prefix, plan, "user_prefix",
                                    "GONGHUI_AMQP_USER_PREFIX", "")
        self.db_prefix = _setting(db_prefix, plan, "db_prefix", "GONGHUI_DB_PREFIX", "")
        if not _DB_PREFIX.match(self.db_prefix):
            raise RunnerError(f"GONGHUI_DB_PREFIX {self.db_prefix!r}: lower-case letters, "
                              f"digits and _, starting with a letter")
        try:
            self.http_port_offset = int(_setting(http_port_offset, plan, "http_port_offset",
                                                 "GONGHUI_HTTP_PORT_OFFSET", 0))
            self.mail_sink_port = int(mail_sink_port or os.environ.get(
                "GONGHUI_MAIL_SINK_PORT") or DEFAULT_MAIL_SINK_PORT)
        except ValueError as exc:
            raise RunnerError(f"GONGHUI_HTTP_PORT_OFFSET and GONGHUI_MAIL_SINK_PORT are "
                              f"numbers: {exc}") from None
        self.pythonpath = [str(p) for p in pythonpath]
        self.migrate = migrate
        self.config = Path(config) if config else DEFAULT_CONFIG
        self.stop_timeout = float(stop_timeout if stop_timeout is not None else
                                  os.environ.get("GONGHUI_STOP_TIMEOUT", "30"))
        self._proc = None

    # -------------------------------------------------------------- helpers

    def supervisor_pid(self):
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) and "deploy.runner" in _cmdline(pid) else None

    def plan(self):
        return _read_json(self.plan_path, {})

    def http_port(self, spec):
        port = spec.http_port + self.http_port_offset
        if not 0 < port < 65536:
            raise RunnerError(f"{spec.name}: HTTP port {port} (GONGHUI_HTTP_PORT_OFFSET "
                              f"{self.http_port_offset}) is out of range")
        return port

    def database_service(self, name):
        """The name given to deploy.postgres for service ``name``: its role, and its
        database ``gonghui_<that>``."""
        return self.db_prefix + name

    @property
    def maildir(self):
        return self.var / "mail"

    def _mail_sink_port(self, specs):
        """Locally, notifications' e-mail goes to the mail sink the supervisor runs unless
        the environment names an SMTP server."""
        if os.environ.get("SMTP_HOST") or not any(s.name == "notifications" for s in specs):
            return None
        try:
            import aiosmtpd  # noqa: F401 - installed with the dev extras by bin/install
        except ImportError:
            return None
        return self.mail_sink_port

    def mail_sink_ready(self):
        """True when no mail sink is planned, or when ours runs and answers SMTP (another
        stack's sink on the same port does not count)."""
        port = self.plan().get("mail_sink_port")
        if not port:
            return True
        from deploy.mailsink import smtp_greets

        sink = _read_json(self.state_path, {}).get("mail_sink") or {}
        return pid_alive(sink.get("pid")) and smtp_greets(port)

    def operator_amqp_uri(self):
        """AMQP URI of the operator user (standalone RPC proxy, e.g. ``nameko shell``)."""
        passwords = read_env_file(self.secrets_path)
        password = passwords.get(variable(OPERATOR_USER, "AMQP"))
        if not password:
            raise RunnerError(f"no operator password in {self.secrets_path}: run start first")
        return amqp_uri(self.user_prefix + OPERATOR_USER, password, self.vhost)

    def _secret_names(self, specs):
        names = [variable(OPERATOR_USER, "AMQP"), variable(DOWNSTREAM_USER, "AMQP")]
        for spec in specs:
            names += [variable(spec.amqp_user, "AMQP"), variable(spec.name, "DB"),
                      *spec.local_secrets]
        return names

    @staticmethod
    def health(port, timeout=2.0):
        """(http status or None, body as JSON or {"error": ...})."""
        import requests

        try:
            response = requests.get(f"http://127.0.0.1:{port}/health", timeout=timeout)
        except requests.RequestException as exc:
            return None, {"error": f"{type(exc).__name__}: {exc}"}
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:500]}
        return response.status_code, body

    def rpc_consumers(self, service):
        """Consumers on the service's RPC queue: /health can answer 200 while nameko's queue
        consumer is refused by the broker (e.g. ACCESS_REFUSED), so readiness checks both."""
        import requests

        url = f"{infra.RABBIT_API}/queues/{quote(self.vhost, safe='')}/rpc-{service}"
        try:
            response = requests.get(url, auth=infra.RABBIT_ADMIN, timeout=2)
        except requests.RequestException:
            return None
        return response.json().get("consumers", 0) if response.ok else 0

    def ready(self, spec):
        return self.health(self.http_port(spec), timeout=1.0)[0] == 200 and bool(
            self.rpc_consumers(spec.name))

    # -------------------------------------------------------------- start

    def start(self, services=None, timeout=None):
        specs = resolve_specs(services)
        if not specs:
            raise RunnerError("no services to start")
        timeout = float(timeout or os.environ.get("GONGHUI_START_TIMEOUT", "90"))
        if self.supervisor_pid():
            return {"already_running": True, **self.status()}
        self._kill_orphans()  # left by a supervisor that was killed: they hold the ports
        for d in (self.run_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        infrastructure = infra.ensure_infrastructure()
        secrets = ensure_secrets(self.secrets_path, self._secret_names(specs))

        from deploy import broker, postgres

        passwords = {spec.amqp_user: secrets[variable(spec.amqp_user, "AMQP")] for spec in specs}
        for user in (OPERATOR_USER, DOWNSTREAM_USER):
            passwords[user] = secrets[variable(user, "AMQP")]
        broker_summary = broker.apply(infra.RABBIT_API, infra.RABBIT_ADMIN, self.vhost,
                                      passwords, specs=specs, user_prefix=self.user_prefix)
        migrated = {}
        for spec in specs:
            password = secrets[variable(spec.name, "DB")]
            database = self.database_service(spec.name)
            postgres.ensure_service_database(infra.PG_ADMIN_URL, database, password)
            if self.migrate:
                from gonghui.migrations import migrate

                with migration_environment(spec, secrets):
                    migrate(spec.name, postgres.database_url(database, password,
                                                             infra.PG_HOST, infra.PG_PORT))
                migrated[spec.name] = "head"

        mail_sink_port = self._mail_sink_port(specs)
        plan = {"vhost": self.vhost, "user_prefix": self.user_prefix,
                "db_prefix": self.db_prefix, "http_port_offset": self.http_port_offset,
                "config": str(self.config), "pythonpath": self.pythonpath,
                "stop_timeout": self.stop_timeout, "created_at": now_iso(),
                "mail_sink_port": mail_sink_port,
                "maildir": str(self.maildir) if mail_sink_port else None,
                "services": [{"name": s.name, "module": s.module,
                              "http_port": self.http_port(s), "amqp_user": s.amqp_user,
                              "environment": local_environment(s, os.environ),
                              "local_secrets": list(s.local_secrets)}
                             for s in specs]}
        _write_atomic(self.plan_path, json.dumps(plan, indent=2) + "\n")
        self.state_path.unlink(missing_ok=True)
        with open(self.supervisor_log, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "deploy.runner", "--home", str(self.home), "supervise"],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": _pythonpath([str(ROOT)])},
                start_new_session=True)

        deadline = time.monotonic() + timeout
        healthy = {}
        while True:
            healthy = {s.name: self.ready(s) for s in specs}
            if mail_sink_port:  # else the first e-mails wait for their retry
                healthy["mail sink"] = self.mail_sink_ready()
            if all(healthy.values()):
                break
            if not pid_alive(self._proc.pid):
                raise RunnerError("the supervisor exited:\n" + self._tail(self.supervisor_log))
            if time.monotonic() > deadline:
                sick = [name for name, ok in healthy.items() if not ok]
                detail = "\n".join(
                    f"--- {name}\n{self._tail(self.log_dir / self._log_name(name))}"
                    for name in sick)
                raise RunnerError(f"not ready (GET /health 200 and consuming its RPC queue) "
                                  f"within {timeout:.0f}s: {', '.join(sick)} "
                                  f"(still supervised; `stop` to end)\n{detail}")
            time.sleep(0.3)
        state = _read_json(self.state_path, {}).get("services", {})
        return {"already_running": False, "home": str(self.home), "vhost": self.vhost,
                "infrastructure": infrastructure, "broker": broker_summary,
                "migrated": migrated, "supervisor_pid": self._proc.pid,
                "mail_sink": ({"smtp": f"127.0.0.1:{mail_sink_port}",
                               "maildir": str(self.maildir)} if mail_sink_port else None),
                "services": {s.name: {"pid": state.get(s.name, {}).get("pid"),
                                      "healthy": healthy[s.name],
                                      "url": f"http://127.0.0.1:{self.http_port(s)}"}
                             for s in specs}}

    @staticmethod
    def _log_name(name):
        return "mailsink.log" if name == "mail sink" else f"{name}.log"

    @staticmethod
    def _tail(path, lines=30):
        try:
            return tail(path, lines)
        except FileNotFoundError:
            return "(no log)"

    # -------------------------------------------------------------- status, logs, stop

    def status(self, check_health=True):
        pid = self.supervisor_pid()
        state = _read_json(self.state_path, {})
        plan = self.plan()
        result = {"supervisor": {"running": pid is not None, "pid": pid,
                                 "log": str(self.supervisor_log)},
                  "vhost": self.vhost, "home": str(self.home), "services": {}}
        if plan.get("mail_sink_port"):
            sink = state.get("mail_sink") or {}
            result["mail_sink"] = {
                "smtp": f"127.0.0.1:{plan['mail_sink_port']}",
                "maildir": plan.get("maildir"), "restarts": sink.get("restarts", 0),
                "pid": sink.get("pid") if pid is not None else None,
                "running": pid is not None and pid_alive(sink.get("pid")),
                "log": str(self.log_dir / "mailsink.log")}
        for svc in plan.get("services", []):
            entry = {"state": "stopped", "pid": None, "restarts": 0, "started_at": None,
                     "last_exit_code": None, "http_port": svc["http_port"],
                     "log": str(self.log_dir / f"{svc['name']}.log")}
            entry.update(state.get("services", {}).get(svc["name"], {}))
            if pid is None and entry["state"] not in ("stopped", "exited"):
                entry["state"] = "orphaned" if pid_alive(entry["pid"]) else "stopped"
            if check_health and entry["state"] in ("running", "starting", "orphaned"):
                entry["http_status"], entry["health"] = self.health(svc["http_port"])
                entry["rpc_consumers"] = self.rpc_consumers(svc["name"])
            result["services"][svc["name"]] = entry
        return result

    def logs(self, service, lines=50, follow=False, out=None):
        """The last ``lines`` lines of the service's log (``supervisor`` for the runner's own)
        as one string. With ``follow=True`` they are written to ``out`` (stdout), then every
        new line, until Ctrl-C; returns None."""
        path = self.log_dir / f"{service}.log"
        if not path.exists():
            raise RunnerError(f"no log for {service!r} in {self.log_dir}")
        if not follow:
            return tail(path, lines)
        out = out or sys.stdout
        try:
            for line in follow_file(path, lines):
                out.write(line)
                out.flush()
        except KeyboardInterrupt:
            pass
        return None

    def stop(self, timeout=None):
        timeout = float(timeout if timeout is not None else
                        self.plan().get("stop_timeout", self.stop_timeout))
        pid = self.supervisor_pid()
        if pid is None:
            killed = self._kill_orphans()
            return {"already_stopped": True, "orphans_killed": killed,
                    **self.status(check_health=False)}
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        forced = False
        if pid_alive(pid):  # the supervisor hung: kill its whole process group
            forced = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait(timeout=10)
        killed = self._kill_orphans()
        return {"already_stopped": False, "forced": forced, "orphans_killed": killed,
                **self.status(check_health=False)}

    def _kill_orphans(self):
        """Services (and the mail sink, which holds its port) left running by a supervisor
        that died (kill -9, OOM)."""
        killed = []
        state = _read_json(self.state_path, {})
        for name, entry in state.get("services", {}).items():
            pid = entry.get("pid")
            if entry.get("state") != "stopped" and pid_alive(pid) and "nameko" in _cmdline(pid):
                os.kill(pid, signal.SIGKILL)
                killed.append(name)
        sink = (state.get("mail_sink") or {}).get("pid")
        if pid_alive(sink) and "aiosmtpd" in _cmdline(sink):
            os.kill(sink, signal.SIGKILL)
            killed.append("mail sink")
        return killed


def _pythonpath(first):
    parts = list(first) + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))


def tail(path, lines=50):
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        block, data = 8192, b""
        while size > 0 and data.count(b"\n") <= lines:
            step = min(block, size)
            size -= step
            f.seek(size)
            data = f.read(step) + data
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) + ("\n" if text else "")


def follow_file(path, lines=50):
    yield from tail(path, lines).splitlines(keepends=True)
    with open(path, encoding="utf-8", errors="replace") as f:
        f.seek(0, os.SEEK_END)
        while True:
            line = f.readline()
            if line:
                yield line
            else:
                time.sleep(0.3)


# ------------------------------------------------------------------ the supervisor


class Child:
    def __init__(self, name, module, http_port, amqp_user, environment=None,
                 local_secrets=()):
        self.name, self.module, self.http_port, self.amqp_user = (name, module, http_port,
                                                                  amqp_user)
        self.environment = environment or {}  # ServiceSpec.environment, resolved at start
        self.local_secrets = tuple(local_secrets)  # from var/secrets.env unless the shell's
        self.proc = None
        self.state = "starting"
        self.restarts = 0
        self.failures = 0  # consecutive quick exits, for the backoff
        self.started_at = None
        self.started_mono = 0.0
        self.restart_at = 0.0
        self.last_exit_code = None
        self.last_exit_at = None

    def as_dict(self):
        return {"pid": self.proc.pid if self.proc else None, "state": self.state,
                "restarts": self.restarts, "started_at": self.started_at,
                "last_exit_code": self.last_exit_code, "last_exit_at": self.last_exit_at,
                "http_port": self.http_port}


def nameko_command():
    script = Path(sys.executable).parent / "nameko"
    if script.exists():
        return [str(script)]
    found = shutil.which("nameko")
    return [found] if found else [sys.executable, "-m", "nameko"]


class Supervisor:
    def __init__(self, home):
        self.runner = Runner(home=home)
        self.plan = self.runner.plan()
        if not self.plan.get("services"):
            raise RunnerError(f"no plan in {self.runner.plan_path}")
        self.secrets = read_env_file(self.runner.secrets_path)
        self.children = [Child(s["name"], s["module"], s["http_port"], s["amqp_user"],
                               s.get("environment", {}), s.get("local_secrets", ()))
                         for s in self.plan["services"]]
        self.stopping = False
        self.started_at = now_iso()
        self.mail_sink = None
        self.mail_sink_restarts = 0
        self.mail_sink_restart_at = None  # when an exited sink is started again

    def env(self, child):
        from deploy.postgres import database_url

        env = {k: v for k, v in os.environ.items()
               if k not in ("AMQP_URI", "DATABASE_URL", "WEB_SERVER_ADDRESS")}
        env.update(child.environment)
        for name in child.local_secrets:  # the shell's own, else the one generated once
            if not env.get(name):
                env[name] = self.secrets[name]
        prefix = self.plan.get("user_prefix", "")
        env.update({
            "AMQP_URI": amqp_uri(prefix + child.amqp_user,
                                 self.secrets[variable(child.amqp_user, "AMQP")],
                                 self.plan["vhost"]),
            "DATABASE_URL": database_url(self.runner.database_service(child.name),
                                         self.secrets[variable(child.name, "DB")],
                                         infra.PG_HOST, infra.PG_PORT),
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{child.http_port}",
            "PYTHONPATH": _pythonpath([str(ROOT), *self.plan.get("pythonpath", [])]),
            "GONGHUI_SERVICE": child.name,
            "PYTHONUNBUFFERED": "1",
        })
        if self.plan.get("mail_sink_port"):
            env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.plan["mail_sink_port"])})
        return env

    def spawn_mail_sink(self):
        """The sink makes its Maildir (tmp/, new/, cur/) itself, whatever exists of it; only
        the log's folder is made here."""
        port = self.plan.get("mail_sink_port")
        if not port:
            return None
        from deploy.mailsink import mail_sink_command, mail_sink_environment

        maildir = self.runner.maildir
        with open(self.runner.log_dir / "mailsink.log", "ab") as log:
            proc = subprocess.Popen(
                mail_sink_command(maildir, port), cwd=ROOT, env=mail_sink_environment(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.log(f"mail sink on 127.0.0.1:{port} (pid {proc.pid}), messages in "
                 f"{maildir / 'new'}")
        return proc

    def spawn(self, child):
        log_path = self.runner.log_dir / f"{child.name}.log"
        with open(log_path, "ab") as log:
            log.write(f"--- {now_iso()} runner: starting {child.name} "
                      f"(restarts so far: {child.restarts})\n".encode())
            log.flush()
            child.proc = subprocess.Popen(
                nameko_command() + ["run", "--config", self.plan["config"], child.module],
                cwd=ROOT, env=self.env(child), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        child.state = "running"
        child.started_at = now_iso()
        child.started_mono = time.monotonic()

    def watch_mail_sink(self):
        """Start the sink again when it exited (after BACKOFF_FIRST, e.g. its port taken)."""
        if self.mail_sink is None or self.mail_sink.poll() is None:
            return False
        if self.mail_sink_restart_at is None:
            self.log(f"mail sink (pid {self.mail_sink.pid}) exited with "
                     f"{self.mail_sink.returncode}; restarting in {BACKOFF_FIRST:.0f}s")
            self.mail_sink_restart_at = time.monotonic() + BACKOFF_FIRST
            return False
        if time.monotonic() < self.mail_sink_restart_at:
            return False
        self.mail_sink_restart_at = None
        self.mail_sink_restarts += 1
        self.mail_sink = self.spawn_mail_sink()
        return True

    def save(self, state="running"):
        body = {"supervisor": {"pid": os.getpid(), "state": state,
                               "started_at": self.started_at, "updated_at": now_iso()},
                "services": {c.name: c.as_dict() for c in self.children}}
        if self.mail_sink is not None:
            body["mail_sink"] = {"pid": self.mail_sink.pid, "restarts": self.mail_sink_restarts,
                                 "port": self.plan.get("mail_sink_port")}
        _write_atomic(self.runner.state_path, json.dumps(body, indent=2) + "\n")

    def log(self, message):
        print(f"{now_iso()} supervisor: {message}", flush=True)

    def _on_signal(self, signum, frame):
        self.stopping = True

    def run(self):
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        _write_atomic(self.runner.pid_path, f"{os.getpid()}\n")
        self.log(f"supervising {[c.name for c in self.children]} (pid {os.getpid()})")
        self.mail_sink = self.spawn_mail_sink()
        try:
            for child in self.children:
                self.spawn(child)
            self.save()
            while not self.stopping:
                changed = self.watch_mail_sink()
                for child in self.children:
                    changed |= self.watch(child)
                if changed:
                    self.save()
                time.sleep(POLL_SECONDS)
            self.shutdown()
        except BaseException:
            self._kill_all()  # a supervisor that fails leaves no service behind
            raise
        finally:
            self.runner.pid_path.unlink(missing_ok=True)
        return 0

    def _kill_all(self):
        self.log("failed: killing the services and the mail sink")
        for proc in [c.proc for c in self.children] + [self.mail_sink]:
            if proc is not None and proc.poll() is None:
                proc.kill()

    def watch(self, child):
        if child.state == "running" and child.proc.poll() is not None:
            code = child.proc.returncode
            up = time.monotonic() - child.started_mono
            child.failures = 1 if up >= STABLE_SECONDS else child.failures + 1
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (child.failures - 1))
            child.last_exit_code, child.last_exit_at = code, now_iso()
            child.state, child.restart_at = "backoff", time.monotonic() + delay
            self.log(f"{child.name} (pid {child.proc.pid}) exited with {code} after "
                     f"{up:.1f}s; restarting in {delay:.0f}s")
            return True
        if child.state == "backoff" and time.monotonic() >= child.restart_at:
            child.restarts += 1
            self.spawn(child)
            self.log(f"{child.name} restarted (pid {child.proc.pid}, restart {child.restarts})")
            return True
        return False

    def shutdown(self):
        timeout = float(self.plan.get("stop_timeout", 30))
        self.log(f"stopping (grace {timeout:.0f}s)")
        running = [c for c in self.children if c.state == "running" and c.proc.poll() is None]
        for child in running:
            child.state = "stopping"
            child.proc.send_signal(signal.SIGTERM)
        for child in self.children:
            if child.state == "backoff":
                child.state = "stopped"
        self.save("stopping")
        deadline = time.monotonic() + timeout
        while any(c.proc.poll() is None for c in running) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        for child in running:
            if child.proc.poll() is None:
                self.log(f"{child.name} did not stop within {timeout:.0f}s: SIGKILL")
                child.proc.kill()
                child.proc.wait()
            child.last_exit_code, child.last_exit_at = child.proc.returncode, now_iso()
            child.state = "stopped"
        if self.mail_sink is not None and self.mail_sink.poll() is None:
            self.mail_sink.terminate()
            self.mail_sink.wait(timeout=10)
        self.save("stopped")
        self.log("stopped")


# ------------------------------------------------------------------ module API and CLI


def _runner(home=None, **options):
    return Runner(home=home, **options)


def start(services=None, timeout=None, **options):
    return _runner(**options).start(services, timeout=timeout)


def status(**options):
    return _runner(**options).status()


def logs(service, lines=50, follow=False, **options):
    return _runner(**options).logs(service, lines=lines, follow=follow)


def stop(timeout=None, **options):
    return _runner(**options).stop(timeout=timeout)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.runner")
    parser.add_argument("--home", help="root of var/ (default $GONGHUI_HOME or the repo)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start")
    p.add_argument("services", nargs="*")
    p.add_argument("--timeout", type=float)
    sub.add_parser("status")
    p = sub.add_parser("logs")
    p.add_argument("service")
    p.add_argument("-n", "--lines", type=int, default=50)
    p.add_argument("-f", "--follow", action="store_true")
    p = sub.add_parser("stop")
    p.add_argument("--timeout", type=float)
    sub.add_parser("supervise", help="internal: the detached supervisor")
    args = parser.parse_args(argv)
    try:
        if args.command == "supervise":
            return Supervisor(args.home or default_home()).run()
        r = Runner(home=args.home)
        if args.command == "start":
            result = r.start(args.services or None, timeout=args.timeout)
        elif args.command == "status":
            result = r.status()
        elif args.command == "stop":
            result = r.stop(timeout=args.timeout)
        else:
            text = r.logs(args.service, args.lines, follow=args.follow)
            if text is not None:
                sys.stdout.write(text)
            return 0
    except RunnerError as exc:
        print(f"runner: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
