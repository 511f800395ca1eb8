"""What every signed-in page shows around its content (the shell): the union's name, the
person's name and role, the unread inbox count, the navigation their role may use, the
language switch and the logout; and the cookies a page answer sets, as the API sets them."""

from dataclasses import dataclass

from gonghui.errors import Forbidden, NotFound, ServiceTimeout
from services.gateway import accounts
from services.gateway.pages.i18n import N_

# Issue 13's screens: (endpoint, path, label, who sees it). ``None`` as path: not built yet,
# shown in the navigation without a link. Labels are msgids of the catalogues.
OFFICERS, MEMBERS, AUDITORS = "officers", "members", "auditors"
SCREENS = [
    ("home", "/", N_("Workbench"), (OFFICERS, MEMBERS, AUDITORS)),
    ("organization", None, N_("Organization"), (OFFICERS,)),
    ("ledger", None, N_("Deeds ledger"), (OFFICERS,)),
    ("reports", None, N_("Reports and supervision"), (OFFICERS,)),
    ("notices", None, N_("Quarterly notice"), (OFFICERS, MEMBERS)),
    ("evaluation", None, N_("Quarterly evaluation"), (OFFICERS, MEMBERS)),
    ("ideas", None, N_("Golden ideas"), (OFFICERS, MEMBERS)),
    ("activities", None, N_("Activities"), (OFFICERS, MEMBERS)),
    ("inbox", None, N_("Notifications"), (OFFICERS, MEMBERS)),
    ("audit", None, N_("Audit"), (AUDITORS,)),
]


@dataclass
class Shell:
    union_name: str
    person_name: str
    role: str  # a msgid: Administrator, Auditor, Union officer, Member
    unread: int | None
    navigation: list  # (label, path or None, current)
    csrf_token: str
    path: str


def audiences(principal):
    found = set()
    if principal.is_admin or principal.office_units:
        found.add(OFFICERS)
    if principal.member_id is not None:
        found.add(MEMBERS)
    if principal.is_auditor or principal.is_admin:
        found.add(AUDITORS)
    return found


def role_of(principal):
    if principal.is_admin:
        return N_("Administrator")
    if principal.office_units:
        return N_("Union officer")
    if principal.is_auditor:
        return N_("Auditor")
    return N_("Member")


def home_unit(principal):
    """The unit whose union the header names: the one they serve, else their own."""
    if principal.office_units:
        return min(principal.office_units)
    return principal.unit_id


def union_name(visit, unit_id):
    """The name of the union at ``unit_id``, else of the nearest one above it."""
    if unit_id is None:
        return ""
    try:
        chain = visit.get("organization_ancestors", {"unit_id": unit_id})
    except (NotFound, Forbidden):
        chain = []
    for unit in [{"id": unit_id}] + [u for u in chain if u.get("id") != unit_id]:
        try:
            return visit.get("organization_get_union", {"unit_id": unit["id"]})["name"]
        except (NotFound, Forbidden):
            continue
    return ""


def unread_count(visit):
    if visit.principal.member_id is None:
        return None
    try:
        return visit.get("notifications_unread_count")["unread"]
    except (ServiceTimeout, NotFound, Forbidden):
        return None


def shell(visit, current):
    me = visit.get("gateway_me")
    mine = audiences(visit.principal)
    navigation = [(label, path, endpoint == current)
                  for endpoint, path, label, who in SCREENS if mine & set(who)]
    return Shell(union_name(visit, home_unit(visit.principal)), me.get("name")
                 or me.get("employee_no") or "", role_of(visit.principal), unread_count(visit),
                 navigation, visit.csrf_token, visit.request.path)


def apply_cookies(request, visit, response):
    """The cookies the routes run set or cleared (the session's), as ``api.handle`` sets
    them: HttpOnly for the session, Secure behind TLS, SameSite=Lax."""
    secure = request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https"
    for name, value, http_only in visit.set_cookies:
        response.set_cookie(name, value, httponly=http_only, secure=secure, samesite="Lax",
                            path="/", max_age=int(accounts.SESSION_MAX.total_seconds()))
    for name in visit.clear_cookies:
        response.delete_cookie(name, path="/")
    return response
