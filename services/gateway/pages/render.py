"""Rendering a template in a language: Jinja2, autoescaped, with the catalogue's gettext;
the static files' URLs carry their content's hash, so they can be cached for a year."""

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from werkzeug.wrappers import Response

from services.gateway.pages import i18n

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# Only the gateway's own origin: no script, style, font or image from anywhere else, no
# inline script; the pages' data for charts travels as JSON (a script the browser never runs).
CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'self'")
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store"}


@cache
def asset_version(relative):
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def asset_url(relative):
    return f"/static/{relative}?v={asset_version(relative)}"


@cache
def environment(locale):
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)
    env.globals.update(asset_url=asset_url, html_lang=i18n.HTML_LANG[locale], locale=locale,
                       locales=i18n.LOCALES)
    return env


def gettext(locale, message, **values):
    """A message of the catalogue outside a template (an error shown in a form)."""
    text = i18n.translations(locale).gettext(message)
    return text % values if values else text


def page(locale, template, status=200, **context):
    context.setdefault("request_path", "/")
    html = environment(locale).get_template(template).render(**context)
    return Response(html, status=status, content_type="text/html; charset=utf-8",
                    headers=PAGE_HEADERS)
