"""The one list of Gonghui's services and how each is run (compose, local runner, docs)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    http_port: int  # health check and HTTP entrypoints

    @property
    def module(self):
        return f"services.{self.name}.service"

    @property
    def database(self):
        return f"gonghui_{self.name}"

    @property
    def amqp_user(self):
        return self.name


# Services that exist today, in start order. The other three of the design
# (activities, deeds, notifications) join this list when their issue lands.
SERVICES = [
    ServiceSpec("organization", 8101),
]

PLANNED_SERVICES = ["activities", "deeds", "notifications"]
VHOST = "gonghui"


def service(name):
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {[s.name for s in SERVICES]}")
