"""The pages' message catalogues kept in step with the sources: every message the templates
and the pages' Python mark (``_()``/``gettext`` in templates; ``N_``, ``render.gettext``,
``error_page`` and ``login_form`` here) is in each ``locale/<locale>/LC_MESSAGES/messages.po``.

``python -m services.gateway.pages.catalogues`` adds the new messages (untranslated) and drops
the gone ones; the Chinese translation is then written by hand. A test
(tests/browser/test_pages_rules.py) fails while a message has no Chinese."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services.gateway.pages import i18n

HERE = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
# Functions of the pages taking a message at a given position (1-based).
KEYWORDS = {"_": None, "N_": None, "gettext": (2,), "error_page": (3,), "login_form": (4,)}


def messages():
    """Every message of the sources, in order, once."""
    found = {}
    for _, _, message, _, _ in extract_from_dir(HERE, METHODS, OPTIONS, keywords=KEYWORDS):
        text = message if isinstance(message, str) else message[0]
        if text:
            found.setdefault(text, None)
    return list(found)


def read(locale):
    with i18n.catalogue_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def update():
    wanted = messages()
    for locale in i18n.LOCALES:
        path = i18n.catalogue_path(locale)
        old = read(locale) if path.exists() else Catalog(locale=locale)
        fresh = Catalog(locale=locale, project="Gonghui pages", charset="utf-8")
        for text in wanted:
            known = old.get(text)
            fresh.add(text, known.string if known is not None else "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, fresh, width=100, no_location=True, omit_header=True)
        print(f"{path}: {len(wanted)} messages")


if __name__ == "__main__":
    update()
