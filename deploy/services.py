"""The one list of Gonghui's services and how each is run (compose, local runner, docs)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    http_port: int  # health check and HTTP entrypoints
    # Extra environment of the service process in compose and Kubernetes, name -> value
    # template, appended after AMQP_URI, DATABASE_URL and WEB_SERVER_ADDRESS by
    # `python -m deploy.manifests write`. A value is literal text with references to the
    # operator's settings: `${VAR}` (required: a `VAR=` line in .env.example, the Secret in
    # Kubernetes) or `${VAR:-default}` (optional: `# VAR=default` in .env.example, the
    # ConfigMap in Kubernetes), e.g. {"SMTP_HOST": "${SMTP_HOST}"}. The local runner
    # resolves it against the shell's environment when it starts (unset optional settings
    # take their default; a value needing an unset required one is left to
    # deploy/nameko.yaml's default).
    environment: dict = field(default_factory=dict, hash=False)
    # Whether it publishes events of its own to `<name>.events` (an outbox relay with
    # something to send): the broker gives a service that does not (the gateway) neither
    # that exchange nor write on it, and the AsyncAPI document has no channel of it.
    publishes_events: bool = True
    # Whether it has the daily `tick(as_of)` RPC that `gonghui tick` replays.
    ticks: bool = True
    # Required settings of its environment that are keys, not addresses: when the shell
    # gives none, the local runner generates one once into var/secrets.env (as it does the
    # passwords) and gives it to the process. Compose and Kubernetes take them from the
    # operator like any required setting.
    local_secrets: tuple = ()
    # Names of its environment that its migrations read too (notifications' upgrade to 0006
    # seals the secrets already stored, with SECRETS_KEY): the migration job of compose and
    # Kubernetes gets them, and the local runner's migrate step.
    migration_environment: tuple = ()

    @property
    def module(self):
        return f"services.{self.name}.service"

    @property
    def database(self):
        return f"gonghui_{self.name}"

    @property
    def amqp_user(self):
        return self.name


# Services that exist today, in start order: the domain services, then the gateway (the HTTP
# door, issue 12: it calls every other one and keeps organization's tree). Adding one: a
# line here, then
# `python -m deploy.manifests write` (compose, .env.example, Kubernetes) and
# `python -m deploy.broker write` (broker definitions); see deploy/README.md.
SERVICES = [
    ServiceSpec("organization", 8101),
    ServiceSpec("activities", 8102),
    ServiceSpec("deeds", 8103),
    ServiceSpec("notifications", 8104, environment={
        "SMTP_HOST": "${SMTP_HOST}", "SMTP_PORT": "${SMTP_PORT:-25}",
        "SMTP_FROM": "${SMTP_FROM}", "NOTIFY_BASE_URL": "${NOTIFY_BASE_URL}",
        "DISPATCH_POLL_SECONDS": "${DISPATCH_POLL_SECONDS:-1}",
        "DELIVERY_MAX_ATTEMPTS": "${DELIVERY_MAX_ATTEMPTS:-6}",
        # the key its stored webhook and robot secrets are encrypted with (issue 12)
        "SECRETS_KEY": "${SECRETS_KEY}"}, local_secrets=("SECRETS_KEY",),
        migration_environment=("SECRETS_KEY",)),
    # PUBLIC_URL: where people reach the API (the OpenAPI document's server; empty: the
    # address it was asked at); PUBLIC_NOTICES: whether anonymous visitors may read the
    # public notice page; DEMO_LOGINS: whether an operator may set a person's password
    # directly (`gonghui accounts demo-password`, the demo's logins): `gonghui up` turns it on
    # for its demo stack, nothing else should. TRUSTED_PROXIES: the addresses of the reverse
    # proxies in front of it (comma separated), the only ones whose X-Forwarded-For it
    # believes (the per-address login limit counts the client's address, not the proxy's).
    ServiceSpec("gateway", 8100, environment={
        "PUBLIC_URL": "${PUBLIC_URL:-}", "PUBLIC_NOTICES": "${PUBLIC_NOTICES:-false}",
        "DEMO_LOGINS": "${DEMO_LOGINS:-false}", "TRUSTED_PROXIES": "${TRUSTED_PROXIES:-}"},
        publishes_events=False, ticks=False),
]

PLANNED_SERVICES = []
VHOST = "gonghui"


def service(name):
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {[s.name for s in SERVICES]}")
