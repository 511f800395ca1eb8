"""Who a request comes from: the session cookie (a person in a browser) or the bearer token
(another system), turned into a :class:`~services.gateway.policy.Principal` with the roles
organization's data gives the person today (from the kit's read model of the tree)."""

import hmac
from dataclasses import dataclass

from sqlalchemy import select

from gonghui import directory
from gonghui.clock import today
from gonghui.directory import DirectoryMember
from gonghui.errors import Forbidden
from services.gateway import accounts
from services.gateway.policy import ANONYMOUS, Principal

SESSION_COOKIE = "gonghui_session"
CSRF_COOKIE = "gonghui_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# A union's officers, for the gateway's rights: the committee (organization's COMMITTEE_ROLES).
OFFICE_ROLES = ("chair", "vice_chair", "committee_member")


class CsrfRefused(Forbidden):
    """A state-changing request with a session but without its CSRF token (HTTP 403)."""

    problem_kind = "csrf"


@dataclass
class Caller:
    principal: Principal
    web_session: object = None  # the WebSession row when the caller came by cookie


def person(db, account, day=None):
    """The principal of a person's account, with their membership and offices on ``day``."""
    day = day or today()
    member = db.scalar(select(DirectoryMember).where(
        DirectoryMember.employee_no == account.employee_no))
    in_union = member is not None and (member.joined_on is None or member.joined_on <= day) and (
        member.left_on is None or member.left_on > day)
    # The member's roles from the row just read (not officer_units, which reads it again).
    offices = {unit_id for unit_id, role in directory.roles_on(
        db, [member.member_id], day).get(member.member_id, ()) if role in OFFICE_ROLES
    } if in_union else set()
    return Principal("person", account.employee_no,
                     member.member_id if in_union else None,
                     member.unit_id if in_union else None,
                     is_admin=account.is_admin, is_auditor=account.is_auditor,
                     office_units=frozenset(offices))


def client_address(request, trusted_proxies=""):
    """The caller's address, for the rate limit. ``X-Forwarded-For`` is believed only when
    the connection comes from a proxy the operator named (``TRUSTED_PROXIES``, comma
    separated): then the nearest hop that is not one of them; else the socket's peer, so a
    client cannot dodge the limit by writing the header itself."""
    trusted = {a.strip() for a in (trusted_proxies or "").split(",") if a.strip()}
    address = request.remote_addr or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and address in trusted:
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            address = hop
            if hop not in trusted:
                break
    return address[:64]


def authenticate(db, request):
    """The caller; a bearer token that is wrong or revoked is refused (401), a session
    cookie that expired or was revoked is as good as none (the route decides whether that
    is enough); a state-changing request by session must carry the CSRF token."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise accounts.NotAuthenticated("the Authorization header must be 'Bearer <token>'")
        token = accounts.token_for(db, secret.strip())
        if token is None:
            raise accounts.NotAuthenticated("the token is unknown or revoked")
        return Caller(Principal("token", token_id=token.id, token_access=token.access,
                                token_unit=token.unit_id))
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return Caller(ANONYMOUS)
    found = accounts.session_account(db, cookie)
    if found is None:
        return Caller(ANONYMOUS)
    web_session, account = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), web_session.csrf_token.encode()):
            raise CsrfRefused("the CSRF token is missing or wrong",
                              {CSRF_HEADER: [f"send the {CSRF_COOKIE} cookie's value"]})
    return Caller(person(db, account), web_session)

