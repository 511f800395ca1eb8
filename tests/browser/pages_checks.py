"""Checks over what a page shows (no tests here)."""

import re

# ASCII the Chinese pages may show: the language switch's own name, employee numbers and
# other codes (letters followed by digits: XN0007), units (%).
ALLOWED_ENGLISH = {"English"}
CODE = re.compile(r"\b[A-Z]{1,4}[-_]?\d[\w-]*\b|\b[A-Z]+(?:-[A-Z0-9]+)+\b")
LETTERS = re.compile(r"[A-Za-z]{2,}")


def visible_text(browser):
    """The page's visible text, the titles and labels a screen reader reads included."""
    return browser.evaluate(expression="""[document.title, document.body.innerText,
        ...Array.from(document.querySelectorAll('[title],[aria-label],[placeholder]'))
          .flatMap(e => [e.title, e.getAttribute('aria-label'), e.placeholder])]
        .filter(Boolean).join('\\n')""")


def english_runs(text):
    """Runs of ASCII letters in ``text`` outside codes and the allow-list."""
    return [run for run in LETTERS.findall(CODE.sub(" ", text)) if run not in ALLOWED_ENGLISH]
