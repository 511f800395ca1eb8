"""Answering a page request: which page (``PAGES``), who asks, and the page's answer, an
error shown as a page in the person's language, or the way to the login."""

import mimetypes
from urllib.parse import quote, urlsplit

from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.routing import Map, Rule
from werkzeug.security import safe_join
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from gonghui.errors import Forbidden, NotFound, ServiceTimeout
from services.gateway import accounts, identity
from services.gateway.pages import dashboard, i18n, layout, render
from services.gateway.pages.data import Visit

PAGES = Map([
    Rule("/", endpoint="home", methods=["GET"]),
    Rule("/login", endpoint="login", methods=["GET", "POST"]),
    Rule("/logout", endpoint="logout", methods=["POST"]),
    Rule("/lang/<any(zh_CN, en):locale>", endpoint="language", methods=["GET"]),
    Rule("/static/<path:asset>", endpoint="static", methods=["GET"]),
], strict_slashes=False)
YEAR = 365 * 24 * 3600
TEXT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def handle(request, db, call_service, settings):
    """The response to a page request. An unknown page is the kit's 404 (raised)."""
    endpoint, values = PAGES.bind_to_environ(request.environ).match()
    locale = i18n.locale_of(request)
    if endpoint == "static":
        return static_file(values["asset"])
    if endpoint == "language":
        return choose_language(request, values["locale"])
    if endpoint == "login":
        return login(request, db, call_service, settings, locale)
    csrf = request.form.get("csrf_token", "") if request.method == "POST" else None
    try:
        visit = Visit(request, db, call_service, settings, locale, csrf_token=csrf)
    except identity.CsrfRefused:
        return error_page(locale, 403, "This form is out of date: open the page again.")
    if not visit.signed_in:
        return to_login(request)
    try:
        if endpoint == "logout":
            return logout(request, visit)
        return SCREENS[endpoint](visit)
    except ServiceTimeout:
        return error_page(locale, 503, "A service did not answer in time: try again shortly.")
    except NotFound:
        return error_page(locale, 404, "Not found, or not yours to see.")
    except Forbidden as refused:
        if getattr(refused, "http_status", 403) == 401:
            return to_login(request)
        status = getattr(refused, "http_status", 403)
        if status == 404:
            return error_page(locale, 404, "Not found, or not yours to see.")
        return error_page(locale, 403, "Your role does not give you this page.")


SCREENS = {"home": dashboard.home}


def error_page(locale, status, message):
    return render.page(locale, "error.html", status=status, status_code=status,
                       message=render.gettext(locale, message), shell=None)


def local_path(target):
    """``target`` if it is a path on this site (never another host, never ``//host``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def to_login(request):
    wanted = request.full_path.rstrip("?") if request.method == "GET" else "/"
    return redirect(f"/login?next={quote(wanted, safe='/')}", code=303)


def choose_language(request, locale):
    response = redirect(local_path(request.args.get("next")), code=303)
    response.set_cookie(i18n.LANG_COOKIE, locale, max_age=YEAR, path="/", samesite="Lax")
    return response


def login(request, db, call_service, settings, locale):
    going = local_path(request.values.get("next"))
    if request.method == "GET":
        visit = Visit(request, db, call_service, settings, locale)
        if visit.signed_in:
            return redirect(going, code=303)
        return login_form(locale, going)
    visit = Visit(request, db, call_service, settings, locale, anonymous=True)
    typed = request.form.get("login", "").strip()
    password = request.form.get("password", "")
    if not typed or not password:
        return login_form(locale, going, typed, "Enter your employee number or mobile and "
                          "your password.", 422)
    try:
        visit.run("gateway_login", body={"login": typed, "password": password})
    except accounts.TooManyAttempts:
        return login_form(locale, going, typed, "Too many failed attempts: wait a while, "
                          "then try again.", 429)
    except accounts.NotAuthenticated:
        # The form again, with the reason (a page, not an API's 401).
        return login_form(locale, going, typed, "The employee number, mobile or password is "
                          "wrong.", 200)
    response = redirect(going, code=303)
    layout.apply_cookies(request, visit, response)
    return response


def login_form(locale, going, typed="", problem=None, status=200):
    return render.page(locale, "login.html", status=status, next=going, typed=typed,
                       problem=render.gettext(locale, problem) if problem else None,
                       shell=None)


def logout(request, visit):
    accounts.revoke_session(visit.db, visit.web_session)
    visit.clear_cookies.extend([identity.SESSION_COOKIE, identity.CSRF_COOKIE])
    response = redirect("/login", code=303)
    layout.apply_cookies(request, visit, response)
    return response


def static_file(asset):
    """A file of ``static/`` (the vendored libraries among them), cacheable for a year:
    its URL carries its content's hash (``render.asset_url``)."""
    path = safe_join(str(render.STATIC_DIR), asset)
    if path is None:
        raise HttpNotFound()
    try:
        with open(path, "rb") as f:
            content = f.read()
    except (FileNotFoundError, IsADirectoryError):
        raise HttpNotFound() from None
    suffix = "." + asset.rsplit(".", 1)[-1] if "." in asset else ""
    kind = TEXT_TYPES.get(suffix) or mimetypes.guess_type(asset)[0] or "application/octet-stream"
    return Response(content, content_type=kind, headers={
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "X-Content-Type-Options": "nosniff"})
