"""The deployment files agree with deploy/services.py and with each other, hold no secret,
and what can be run here is run: `docker-compose config`, the PostgreSQL init script, the
role/database helper, the definitions check."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from deploy import broker, infra, postgres, runner
from deploy.services import PLANNED_SERVICES, SERVICES, VHOST
from gonghui.entrypoints import queue_arguments, retry_exchange_name, retry_queue_arguments

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
SECRET_VAR = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]+\}")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]*)@")
SECRET_KEY = re.compile(r"PASSWORD|PASS$|SECRET|TOKEN")


def compose():
    return yaml.safe_load(COMPOSE.read_text())


def app_services(doc):
    return {name: svc for name, svc in doc["services"].items()
            if svc.get("build", {}).get("dockerfile") == "deploy/Dockerfile"}


# --------------------------------------------------------------------- docker-compose


def docker_compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: run `apt-get update && "
                    "apt-get install -y docker-compose` (Debian's 1.29.2) and run again")
    return binary


def run_compose_config(env_file):
    required = set(SECRET_VAR.findall(COMPOSE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in required}  # only the env file
    return subprocess.run(
        [docker_compose(), "--env-file", str(env_file), "--project-directory", str(ROOT),
         "-f", str(COMPOSE), "config"],
        capture_output=True, text=True, env=env, timeout=60)


def test_compose_config_is_valid_with_the_secrets_given(tmp_path):
    required = sorted(set(SECRET_VAR.findall(COMPOSE.read_text())))
    env_file = tmp_path / "dummy.env"
    env_file.write_text("".join(f"{name}=dummy-{secrets.token_hex(4)}\n" for name in required))
    result = run_compose_config(env_file)
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    assert set(compose()["services"]) == set(rendered["services"])


def test_compose_refuses_to_run_without_the_secrets(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    result = run_compose_config(env_file)
    assert result.returncode != 0
    assert "(see .env.example)" in result.stderr


def test_env_example_lists_every_secret_without_a_value():
    example = (ROOT / ".env.example").read_text()
    values = dict(line.split("=", 1) for line in example.splitlines()
                  if line and not line.startswith("#"))
    for name in set(SECRET_VAR.findall(COMPOSE.read_text())):
        assert name in values, f"{name} missing from .env.example"
        if name.endswith("PASSWORD"):
            assert values[name] == "", f"{name} has a value in .env.example"


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_service_runs_from_the_one_image_with_its_jobs(spec):
    doc = compose()
    services = doc["services"]
    apps = app_services(doc)
    assert {spec.name, f"{spec.name}-migrate", "broker-setup"} <= set(apps)
    assert len({svc["image"] for svc in apps.values()}) == 1, "one image for everything"

    svc = services[spec.name]
    assert svc["command"] == ["nameko", "run", "--config", "deploy/nameko.yaml", spec.module]
    assert svc["healthcheck"]["test"] == ["CMD", "gonghui", "health", spec.name]
    assert svc["restart"] == "unless-stopped"
    assert svc.get("stop_grace_period")
    assert svc.get("init") is True  # SIGTERM reaches nameko, zombies are reaped
    deps = svc["depends_on"]
    assert deps[f"{spec.name}-migrate"]["condition"] == "service_completed_successfully"
    assert deps["broker-setup"]["condition"] == "service_completed_successfully"
    assert deps["rabbitmq"]["condition"] == "service_healthy"
    assert deps["postgres"]["condition"] == "service_healthy"

    env = svc["environment"]
    assert env["WEB_SERVER_ADDRESS"].endswith(f":{spec.http_port}")
    assert env["AMQP_URI"].startswith(f"amqp://{spec.amqp_user}:${{")
    assert env["AMQP_URI"].endswith(f"@rabbitmq:5672/{VHOST}")
    assert env["DATABASE_URL"].startswith(f"postgresql+psycopg2://{spec.name}:${{")
    assert env["DATABASE_URL"].endswith(f"@postgres:5432/{spec.database}")

    migrate = services[f"{spec.name}-migrate"]
    assert migrate["command"] == ["gonghui", "migrate", spec.name]
    assert migrate["restart"] == "no"
    assert migrate["environment"]["DATABASE_URL"] == env["DATABASE_URL"]

    setup = services["broker-setup"]
    assert setup["command"] == ["gonghui", "broker-setup"]
    assert broker.password_variable(spec.amqp_user) in setup["environment"]
    assert setup["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    for name in ("postgres", "db-setup"):
        db_env = services[name]["environment"]
        assert spec.name in db_env["GONGHUI_SERVICES"].split()
        assert f"{spec.name.upper()}_DB_PASSWORD" in db_env


def test_compose_commands_are_exec_form_and_the_broker_loads_its_definitions():
    doc = compose()
    for name, svc in doc["services"].items():
        if "command" in svc:
            assert isinstance(svc["command"], list), f"{name}: command must be a list"
        test = svc.get("healthcheck", {}).get("test")
        if test:
            assert isinstance(test, list) and test[0] == "CMD", f"{name}: exec-form check"
    rabbit = doc["services"]["rabbitmq"]
    assert rabbit["image"] == "rabbitmq:3.10-management"
    assert "./deploy/rabbitmq/rabbitmq.conf:/etc/rabbitmq/rabbitmq.conf:ro" in rabbit["volumes"]
    conf = (ROOT / "deploy/rabbitmq/rabbitmq.conf").read_text()
    path = re.search(r"^management\.load_definitions = (\S+)$", conf, re.M).group(1)
    render = doc["services"]["rabbitmq-definitions"]["command"]
    assert render[:4] == ["python", "-m", "deploy.broker", "render-boot"]
    # the rendered file lands in a volume mounted where rabbitmq.conf looks for it
    volume, mount = next(v.split(":")[:2] for v in rabbit["volumes"]
                         if v.startswith("rabbitmq-definitions:"))
    writer = next(v.split(":")[1] for v in doc["services"]["rabbitmq-definitions"]["volumes"])
    assert path == f"{mount}/definitions.json"
    assert render[4] == f"{writer}/definitions.json"
    assert rabbit["depends_on"]["rabbitmq-definitions"]["condition"] == \
        "service_completed_successfully"
    postgres_svc = doc["services"]["postgres"]
    assert postgres_svc["image"] == "postgres:15"
    assert any(v.startswith("./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/")
               for v in postgres_svc["volumes"])


def _walk_strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def test_no_literal_password_in_compose_or_kubernetes():
    checked = 0
    docs = [("docker-compose.yml", compose())]
    docs += [(f.name, d) for f in sorted(K8S.glob("*.yaml"))
             for d in yaml.safe_load_all(f.read_text()) if d]
    for source, doc in docs:
        assert doc.get("kind") != "Secret", f"{source}: no Secret objects with values"
        for path, value in _walk_strings(doc):
            for password in URL_PASSWORD.findall(value):
                assert password.startswith(("${", "$(")), f"{source}{path}: literal password"
                checked += 1
            key = path.rsplit(".", 1)[-1]
            if SECRET_KEY.search(key) and "valueFrom" not in path:
                assert value.startswith("${") and value.endswith("}"), f"{source}{path}"
                checked += 1
    assert checked >= 2 * len(SERVICES)
    raw = COMPOSE.read_text() + "".join(f.read_text() for f in K8S.glob("*.yaml"))
    for line in raw.splitlines():
        line = re.sub(r"\$\{[^}]*\}|\$\([^)]*\)", "${}", line.split(" #")[0])
        for value in re.findall(r"(?i)\b\w*pass(?:word)?\w*\s*[:=]\s*(\S+)", line):
            assert value.startswith(("${", "$(", "&", "*")), f"literal password? {line}"


# --------------------------------------------------------------------- image, k8s


def test_dockerfile_builds_one_non_root_image_with_exec_form_cmd():
    lines = [line.strip() for line in (ROOT / "deploy/Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", line) for line in lines)
    user = [line for line in lines if line.startswith("USER ")]
    assert user and not user[-1].split()[1].startswith(("root", "0"))
    cmd = [line for line in lines if line.startswith("CMD ")][-1]
    assert isinstance(json.loads(cmd[4:]), list)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", "var/", ".git/", ".venv/"} <= set(ignored)


def test_kubernetes_manifests_cover_every_service():
    objects = {}
    for f in sorted(K8S.glob("*.yaml")):
        for d in yaml.safe_load_all(f.read_text()):
            if d:
                objects[(d["kind"], d["metadata"]["name"])] = d
    assert ("Job", "broker-setup") in objects
    for spec in SERVICES:
        deployment = objects[("Deployment", spec.name)]
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["command"] == ["nameko", "run", "--config", "deploy/nameko.yaml",
                                        spec.module]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert pod["securityContext"]["runAsNonRoot"] is True
        env = {e["name"]: e for e in container["env"]}
        for name in (f"{spec.name.upper()}_AMQP_PASSWORD", f"{spec.name.upper()}_DB_PASSWORD"):
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "gonghui-secrets"
        assert env["WEB_SERVER_ADDRESS"]["value"].endswith(f":{spec.http_port}")
        service = objects[("Service", spec.name)]
        assert service["spec"]["ports"][0]["port"] == spec.http_port
        job = objects[("Job", f"{spec.name}-migrate")]
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == \
            ["gonghui", "migrate", spec.name]


# --------------------------------------------------------------------- broker definitions


def test_committed_definitions_are_not_stale():
    result = subprocess.run([sys.executable, "-m", "deploy.broker", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + "\nrun: python -m deploy.broker write"


def test_check_detects_a_stale_file(tmp_path):
    path = tmp_path / "definitions.json"
    broker.write_definitions(path)
    assert broker.definitions_stale(path) is None
    doc = json.loads(path.read_text())
    doc["exchanges"].pop()
    path.write_text(json.dumps(doc))
    assert broker.definitions_stale(path)


def test_definitions_have_every_exchange_and_handler_queue():
    defs = json.loads(broker.DEFINITIONS_PATH.read_text())
    assert "users" not in defs and "permissions" not in defs
    assert "password" not in broker.DEFINITIONS_PATH.read_text()
    assert defs["vhosts"] == [{"name": VHOST}]
    exchanges = {x["name"]: x for x in defs["exchanges"]}
    for name in [s.name for s in SERVICES] + PLANNED_SERVICES:
        x = exchanges[f"{name}.events"]
        assert (x["type"], x["durable"], x["auto_delete"]) == ("topic", True, False)
    assert exchanges["nameko-rpc"]["type"] == "topic"
    queues = {q["name"]: q for q in defs["queues"]}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]}
    for h in broker.discover_handlers():
        retry_x = retry_exchange_name(h.service)
        x = exchanges[retry_x]
        assert (x["type"], x["durable"], x["auto_delete"]) == ("direct", True, False)
        assert queues[h.queue]["arguments"] == queue_arguments(
            h.queue, broker.DEFAULT_DELIVERY_LIMIT, retry_x)
        assert queues[f"{h.queue}.retry"]["arguments"] == retry_queue_arguments(h.queue,
                                                                                retry_x)
        assert queues[f"{h.queue}.dlq"]["arguments"] == {}
        assert (f"{h.source}.events", h.queue, h.event) in bindings
        for name in (h.queue, f"{h.queue}.retry", f"{h.queue}.dlq"):
            assert (retry_x, name, name) in bindings
    retry_exchanges = {n for n in exchanges if n.endswith(".retry")}
    assert retry_exchanges == {retry_exchange_name(h.service)
                               for h in broker.discover_handlers()}


def test_definitions_of_a_handler_match_what_the_service_declares():
    handler = broker.Handler("deeds", "report_overdue", "notifications", "on_report_overdue")
    defs = broker.definitions(handlers=[handler])
    queues = {q["name"]: q for q in defs["queues"]}
    q = handler.queue
    assert q == "evt-deeds-report_overdue--notifications.on_report_overdue"
    assert retry_exchange_name("notifications") == "notifications.retry"
    assert queues[q]["arguments"] == {"x-queue-type": "quorum", "x-delivery-limit": 20,
                                      "x-dead-letter-exchange": "notifications.retry",
                                      "x-dead-letter-routing-key": f"{q}.dlq"}
    assert queues[f"{q}.retry"]["arguments"] == {"x-dead-letter-exchange": "notifications.retry",
                                                 "x-dead-letter-routing-key": q}
    assert queues[f"{q}.dlq"]["arguments"] == {}
    assert all(queues[n]["durable"] and not queues[n]["auto_delete"] for n in queues)
    exchanges = {x["name"]: x for x in defs["exchanges"]}
    assert exchanges["notifications.retry"] == {
        "name": "notifications.retry", "vhost": VHOST, "type": "direct", "durable": True,
        "auto_delete": False, "internal": False, "arguments": {}}
    assert not any(x["type"] == "direct" for n, x in exchanges.items()
                   if n != "notifications.retry")  # only consuming services get one

    def binding(source, destination, key):
        return {"source": source, "vhost": VHOST, "destination": destination,
                "destination_type": "queue", "routing_key": key, "arguments": {}}

    assert defs["bindings"] == [binding("deeds.events", q, "report_overdue"),
                                binding("notifications.retry", q, q),
                                binding("notifications.retry", f"{q}.retry", f"{q}.retry"),
                                binding("notifications.retry", f"{q}.dlq", f"{q}.dlq")]
    with pytest.raises(broker.BrokerSetupError):
        broker.definitions(handlers=[broker.Handler("nosuch", "x", "organization", "m")])


def test_service_permissions_are_confined_to_its_names():
    perms = broker.permissions("notifications", ["deeds", "organization"])
    configure, write, read = (re.compile(perms[k]) for k in ("configure", "write", "read"))
    q = "evt-deeds-report_overdue--notifications.on_report_overdue"
    for name in ["nameko-rpc", "rpc-notifications", q, f"{q}.retry", f"{q}.dlq",
                 "notifications.retry",
                 "rpc.reply-notifications-0b7e4c1e-6a0e-4c52-9a55-1f0b2d9c4e11"]:
        assert configure.match(name), name
    for name in ["deeds.events", "notifications.events", "rpc-deeds", "amq.default",
                 "deeds.retry", "evt-deeds-report_overdue--deeds.on_x",
                 "evt-activities-x--notifications.m",
                 "rpc.reply-deeds-0b7e4c1e-6a0e-4c52-9a55-1f0b2d9c4e11", "rpc-notifications2"]:
        assert not configure.match(name), name
    # its own retry exchange, never the default one (which reaches every queue by name)
    for name in ["notifications.events", "notifications.retry", q, f"{q}.retry", f"{q}.dlq"]:
        assert write.match(name), name
    for name in ["amq.default", "", "deeds.events", "deeds.retry", "organization.retry",
                 "evt-deeds-report_overdue--deeds.on_x.dlq", "rpc-deeds"]:
        assert not write.match(name), name
    assert read.match("deeds.events") and read.match("organization.events")
    assert read.match("notifications.retry") and read.match(f"{q}.retry")
    for name in ["activities.events", f"{q}.dlq", "deeds.retry", "amq.default"]:
        assert not read.match(name), name
    plain = broker.permissions("organization", [])
    for kind in ("configure", "write", "read"):  # no handlers: no retry exchange
        assert not re.match(plain[kind], "organization.retry")
        assert not re.match(plain[kind], "amq.default")


def test_readme_documents_every_user_and_permission():
    readme = (ROOT / "deploy" / "README.md").read_text()
    for user, perms in broker.user_permissions().items():
        assert f"`{user}`" in readme
        for regex in perms.values():
            assert regex in readme, f"README lacks {user}'s {regex}"


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_nameko_run_finds_exactly_the_service_class(spec):
    # compose, Kubernetes and the runner all run `nameko run ... services.<name>.service`:
    # nameko 2.14.1 then runs *every* class of the module that has entrypoints, including
    # ones imported into it (a base class with @rpc/@http entrypoints fails with "Service
    # class must define a `name` attribute")
    from nameko.cli.run import import_service

    found = import_service(spec.module)
    assert [getattr(cls, "name", None) for cls in found] == [spec.name], (
        f"`nameko run {spec.module}` would run {found}; import base classes as a module "
        "attribute (e.g. `from gonghui import service` ... `service.ServiceBase`) so that "
        "only the service class is a top-level class with entrypoints")


def test_nameko_config_takes_what_the_deployments_set():
    config = (ROOT / "deploy" / "nameko.yaml").read_text()
    for variable in ("AMQP_URI", "DATABASE_URL", "WEB_SERVER_ADDRESS"):
        assert f"${{{variable}" in config
    loaded = yaml.safe_load(config)
    assert loaded.get("DECLARE_EVENT_EXCHANGES") is False, (
        "deploy/nameko.yaml must set `DECLARE_EVENT_EXCHANGES: false`: a service's broker "
        "user may not (re)declare other services' event exchanges (they come from "
        "deploy/rabbitmq/definitions.json), so a service with an @event_handler is refused "
        "at start without it")
    limit = re.search(r"EVENT_DELIVERY_LIMIT:\s*\$\{EVENT_DELIVERY_LIMIT:(\d+)\}", config)
    if limit:  # queue arguments in the definitions must equal what the services declare
        assert int(limit.group(1)) == broker.DEFAULT_DELIVERY_LIMIT


# --------------------------------------------------------------------- databases, secrets


@pytest.fixture
def throwaway_service_name():
    infra.ensure_postgres()
    name = f"ghdeploy{secrets.token_hex(3)}"
    yield name
    postgres.drop_service_database(infra.PG_ADMIN_URL, name)


def _database_facts(name):
    engine = create_engine(infra.PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT pg_get_userbyid(d.datdba), r.rolcanlogin, "
                "has_database_privilege('public', d.datname, 'CONNECT') "
                "FROM pg_database d JOIN pg_roles r ON r.rolname = :n "
                "WHERE d.datname = :d"), {"n": name, "d": f"gonghui_{name}"}).one_or_none()
    finally:
        engine.dispose()


def test_init_script_creates_role_and_database_idempotently(throwaway_service_name):
    name = throwaway_service_name
    script = ROOT / "deploy" / "postgres" / "init-databases.sh"
    assert os.access(script, os.X_OK), "the postgres image runs it only if executable"
    if shutil.which("psql") is None:
        pytest.fail("psql is missing: apt-get install postgresql-client")
    env = {"PATH": os.environ["PATH"], "PGHOST": infra.PG_HOST, "PGPORT": str(infra.PG_PORT),
           "GONGHUI_SERVICES": name}
    missing = subprocess.run([str(script)], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and f"{name.upper()}_DB_PASSWORD" in missing.stderr
    env[f"{name.upper()}_DB_PASSWORD"] = "it's \"quoted\"; DROP ROLE postgres; --"
    for _ in range(2):
        result = subprocess.run([str(script)], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert _database_facts(name) == (name, True, False)


def test_ensure_service_database_is_idempotent_and_private(throwaway_service_name):
    name = throwaway_service_name
    created = postgres.ensure_service_database(infra.PG_ADMIN_URL, name, "pw'1")
    assert created == [f"role {name}", f"database gonghui_{name}"]
    assert postgres.ensure_service_database(infra.PG_ADMIN_URL, name, "pw'2") == []
    assert _database_facts(name) == (name, True, False)
    url = postgres.database_url(name, "p@ss:w/rd%", infra.PG_HOST, infra.PG_PORT)
    assert url == (f"postgresql+psycopg2://{name}:p%40ss%3Aw%2Frd%25@{infra.PG_HOST}:"
                   f"{infra.PG_PORT}/gonghui_{name}")
    engine = create_engine(postgres.database_url(name, "pw'2", infra.PG_HOST, infra.PG_PORT))
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == name
    finally:
        engine.dispose()


def test_runner_secrets_are_generated_once_and_private(tmp_path):
    path = tmp_path / "var" / "secrets.env"
    first = runner.ensure_secrets(path, ["A_AMQP_PASSWORD"])
    assert os.stat(path).st_mode & 0o777 == 0o600
    second = runner.ensure_secrets(path, ["A_AMQP_PASSWORD", "B_DB_PASSWORD"])
    assert second["A_AMQP_PASSWORD"] == first["A_AMQP_PASSWORD"]
    assert len(second["B_DB_PASSWORD"]) == 48
    assert runner.read_env_file(path) == second
