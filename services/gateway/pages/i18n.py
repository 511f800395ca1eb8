"""The pages' languages: Chinese (zh_CN) by default, English when the person chooses it.

The choice is the ``lang`` cookie, set by the switch in the header (``/lang/<locale>``);
without it the page is Chinese whatever the browser's Accept-Language says, since the
people Gonghui is for read Chinese and WeCom's browser often announces English. The
catalogues (``locale/<locale>/LC_MESSAGES/messages.po``) are compiled in-process at start:
no ``.mo`` file is committed or built."""

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def catalogue_path(locale):
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale):
    with catalogue_path(locale).open("rb") as f:
        catalogue = read_po(f, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def locale_of(request):
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def N_(message):
    """Marks a message for the catalogues where it is translated later (a table's label)."""
    return message
