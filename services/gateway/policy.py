"""Who may do what: one decision, in plain Python with no I/O, that every route goes through.

A request's caller is a :class:`Principal` (a person logged in, a system's API token, or
nobody); what it asks is an :class:`Action` (the audience the route is for, and whether it
reads or writes) about a :class:`Target` (the unit it concerns, with the units above it, and
whose personal data it is). :func:`decide` answers allow (with the actor the services are
told: ``admin``, ``auditor``, ``officer``, ``member`` or ``service``) or a refusal:

- **401** nobody is logged in and the route is not public;
- **404** the target lies outside what the caller may see (another union's subtree, another
  member's data): the answer does not tell that it exists;
- **403** the caller sees the target but may not do this (an auditor writing, a read-only
  token writing, a member using an office's route in their own unit).

Roles, applied along the tree (a grant is "everything" or "limited to a subtree"):

- company-union administrator (``is_admin``): everything;
- auditor (``is_auditor``): reads everything, the audit trail included; writes nothing;
- a union's officers (chair, vice-chair, committee member of the union of unit U): read and
  write in U's subtree;
- a member: their own data and acts (sign-ups, ideas, objections, votes, inbox,
  preferences), and what every member may read (public notices, activities, commitments,
  evaluations);
- an API token: read, or read and write, over the whole tree or one unit's subtree; never a
  person's own acts, never administration;
- anonymous: logging in, and the public notice page where the union makes it public.
"""

from dataclasses import dataclass, field

READ, WRITE = "read", "write"

# Audiences of the routes.
OFFICE = "office"  # a unit's business: its officers (subtree), admin, auditor, tokens
SELF = "self"  # a member's own act or private data (inbox, vote): only that member
PERSONAL = "personal"  # a member's record: the member, and the offices above them
MEMBERS = "members"  # what every member may read (public notices, evaluations ...)
ADMIN = "admin"  # platform administration (tokens, robots, webhooks, dead letters)
AUDIT = "audit"  # the audit trail: administrators and auditors
PUBLIC = "public"  # anyone, logged in or not (login; the public notice when made public)
SIGNED_IN = "signed_in"  # anyone logged in, whatever their roles (who am I, logging out)
AUDIENCES = (OFFICE, SELF, PERSONAL, MEMBERS, ADMIN, AUDIT, PUBLIC, SIGNED_IN)


@dataclass(frozen=True)
class Principal:
    """Who calls. ``office_units``: the units whose union the person is an officer of today
    (each the root of a subtree they run)."""

    kind: str  # person | token | anonymous
    employee_no: str | None = None
    member_id: int | None = None
    unit_id: int | None = None
    is_admin: bool = False
    is_auditor: bool = False
    office_units: frozenset = field(default_factory=frozenset)
    token_id: int | None = None
    token_access: str | None = None  # read | write
    token_unit: int | None = None  # None: the whole tree

    @property
    def label(self):
        """How the caller is named in logs, idempotency records and the audit trail."""
        if self.kind == "token":
            return f"token:{self.token_id}"
        if self.kind == "person":
            return f"person:{self.employee_no}"
        return "anonymous"


ANONYMOUS = Principal("anonymous")


@dataclass(frozen=True)
class Action:
    audience: str
    verb: str = READ

    def __post_init__(self):
        if self.audience not in AUDIENCES or self.verb not in (READ, WRITE):
            raise ValueError(f"unknown action {self.audience}/{self.verb}")


@dataclass(frozen=True)
class Target:
    """What a request is about: ``units`` the unit and every unit above it, nearest first
    (empty when the request names no unit, e.g. a list over the caller's own scope);
    ``member_id`` whose personal data or act it is."""

    units: tuple = ()
    member_id: int | None = None


NOWHERE = Target()


@dataclass(frozen=True)
class Decision:
    status: int  # 200 allowed, else the refusal's HTTP status
    actor_kind: str | None = None
    reason: str = ""

    @property
    def allowed(self):
        return self.status == 200


def _allow(kind):
    return Decision(200, kind)


def _refuse(status, reason):
    return Decision(status, None, reason)


def in_subtree(target, root):
    """Whether the target's unit lies in the subtree of ``root``."""
    return root in target.units


def decide(principal, action, target=NOWHERE):
    """The one decision: see the module's doc."""
    if action.audience == PUBLIC:
        return _allow({"person": "member", "token": "service"}.get(principal.kind, "anonymous"))
    if principal.kind == "anonymous":
        return _refuse(401, "log in first")
    if action.audience == SIGNED_IN:
        if principal.kind == "token":
            return _allow("service")
        return _allow("admin" if principal.is_admin else "auditor" if principal.is_auditor
                      else "officer" if principal.office_units else "member")
    if principal.kind == "token":
        return _token(principal, action, target)
    if principal.is_admin:
        return _allow("admin")
    if principal.is_auditor:
        if action.verb == READ:
            return _allow("auditor")
        return _refuse(403, "an auditor reads only")
    return _person(principal, action, target)


def _token(principal, action, target):
    if action.audience in (SELF, ADMIN, AUDIT):
        return _refuse(403, "an API token does not act for a person or administer")
    if principal.token_unit is not None and not in_subtree(target, principal.token_unit) and (
            target.units or action.verb == WRITE):
        return _refuse(404, "outside the token's subtree")
    if action.verb == WRITE and principal.token_access != WRITE:
        return _refuse(403, "a read-only token")
    return _allow("service")


def _person(principal, action, target):
    own = target.member_id is not None and target.member_id == principal.member_id
    in_office = bool(target.units) and any(in_subtree(target, u) for u in principal.office_units)
    # A read naming no unit lists over the caller's own scope: any office will do. A write
    # naming no unit (a new root unit, a platform-wide setting) is for administrators.
    office_here = in_office or (not target.units and action.verb == READ
                                and bool(principal.office_units))
    audience = action.audience
    if audience == SELF:
        if own:
            return _allow("member")
        return _refuse(404, "another member's")
    if audience == PERSONAL:
        if own:
            return _allow("member")
        if office_here:
            return _allow("officer")
        return _refuse(404, "another member's, outside your union")
    if audience == MEMBERS:
        if action.verb == READ and (principal.member_id is not None or principal.office_units):
            return _allow("officer" if office_here else "member")
        return _refuse(403, "for members to read")
    if audience == OFFICE:
        if office_here:
            return _allow("officer")
        if target.units and principal.unit_id in target.units:
            return _refuse(403, "for the union's officers")
        return _refuse(404, "outside your union's subtree")
    # ADMIN, AUDIT
    return _refuse(403, "for administrators")


def visible_roots(principal):
    """The subtrees a list may cover for this caller: None for the whole tree, else the set
    of root units (empty: none)."""
    if principal.kind == "token":
        return None if principal.token_unit is None else {principal.token_unit}
    if principal.is_admin or principal.is_auditor:
        return None
    return set(principal.office_units)
