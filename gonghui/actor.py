"""Who is acting: a member, an officer, an operator, or the system's tick.

The actor travels in nameko's context data (header ``nameko.actor``) as ``kind:id``, so it
follows a request from the gateway through every RPC call it causes.
"""

from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from gonghui.clock import today
from gonghui.errors import Forbidden

ACTOR_KINDS = ("member", "officer", "admin", "auditor", "operator", "system", "service")
CONTEXT_KEY = "actor"


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str

    @classmethod
    def parse(cls, value):
        if not value or not isinstance(value, str) or ":" not in value:
            raise Forbidden("no actor: every change must say who makes it",
                            {"actor": ["expected 'kind:id' in the call's context"]})
        kind, _, ident = value.partition(":")
        if kind not in ACTOR_KINDS or not ident:
            raise Forbidden("unknown actor", {"actor": [f"kind must be one of {ACTOR_KINDS}"]})
        return cls(kind, ident)

    def __str__(self):
        return f"{self.kind}:{self.id}"

    def as_dict(self):
        return {"kind": self.kind, "id": self.id}


SYSTEM_TICK = Actor("system", "tick")

# Who may change things by default: the union offices, administrators, operators, the
# system's ticks and other services (the gateway's API tokens act as ``service``). Members
# act only through the methods that say so; auditors only read.
OFFICE_KINDS = ("officer", "admin", "operator", "system", "service")
MEMBER_ACTS = (*OFFICE_KINDS, "member")


def require_kind(actor, kinds):
    """Refuse (``Forbidden``) an actor whose kind may not call this method."""
    if actor.kind not in kinds:
        raise Forbidden(f"a {actor.kind} may not do this",
                        {"actor": [f"kind must be one of {list(kinds)}"]})
    return actor


def require_self(actor, employee_no):
    """A member acts only as themselves: refuse a member actor naming someone else (the
    member's employee number, 工号, is the actor's id)."""
    if actor.kind == "member" and actor.id != employee_no:
        raise Forbidden("a member acts only as themselves",
                        {"member_id": ["not the calling member"]})
    return actor


def require_today(actor, day, field):
    """A member's own act is dated today (China's business date): a member does not choose
    its date — an objection dated back into a window that has closed, a vote or an idea
    dated into another quarter. An office recording a member's act from paper may."""
    if actor.kind == "member" and day != today():
        raise Forbidden("a member's own act is dated today",
                        {field: [f"today ({today().isoformat()}) when a member acts"]})
    return day


class CurrentActor(DependencyProvider):
    """Injects a callable returning the request's Actor (raises Forbidden when absent)."""

    def get_dependency(self, worker_ctx):
        raw = worker_ctx.data.get(CONTEXT_KEY)

        def current(default=None):
            if raw is None and default is not None:
                return default
            return Actor.parse(raw)

        return current
