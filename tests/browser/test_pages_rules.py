"""The pages' parts that need no browser: the message catalogues hold every message the
sources mark, in Chinese; the vendored libraries are pinned as meant (htmx 2.x, ECharts
5.x), and what bin/vendor wrote is what the manifest pins; the pages' own files name no
other site; the login's ``next`` stays on this site."""

import hashlib
import re

import pytest

from services.gateway.pages import app, catalogues, i18n, render, vendor

OWN_FILES = [p for p in (render.HERE / "templates").rglob("*.html")] + [
    p for p in render.STATIC_DIR.glob("*.*")]


def test_every_message_is_in_each_catalogue_and_translated_to_chinese():
    wanted = catalogues.messages()
    assert "Workbench" in wanted and "Log in" in wanted
    for locale in i18n.LOCALES:
        held = [m.id for m in catalogues.read(locale) if m.id]
        assert sorted(held) == sorted(wanted), (
            f"{locale}: run python -m services.gateway.pages.catalogues")
    untranslated = [m.id for m in catalogues.read("zh_CN") if m.id and not m.string]
    assert untranslated == []
    chinese = i18n.translations("zh_CN")
    assert chinese.gettext("Workbench") == "工作台"
    assert i18n.translations("en").gettext("Workbench") == "Workbench"


def test_placeholders_survive_translation():
    for message in catalogues.read("zh_CN"):
        if message.id:
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(
                re.findall(r"%\(\w+\)s", message.string)), message.id


def test_the_vendored_libraries_are_pinned_and_written_as_pinned():
    pinned = {lib["package"]: lib for lib in vendor.libraries()}
    assert set(pinned) == {"htmx.org", "echarts"}
    # htmx 2.x on purpose (4.x changed its defaults); ECharts 5.x with its SVG renderer.
    assert pinned["htmx.org"]["version"].startswith("2.")
    assert pinned["echarts"]["version"].startswith("5.")
    for lib in pinned.values():
        assert re.fullmatch(r"[0-9a-f]{64}", lib["sha256"])
        assert vendor.tarball_url(lib) == (f"https://registry.npmjs.org/{lib['package']}/-/"
                                           f"{lib['package']}-{lib['version']}.tgz")
        written = vendor.VENDOR_DIR / lib["serve_as"]
        assert written.exists(), "run bin/vendor"
        assert hashlib.sha256(written.read_bytes()).hexdigest() == lib["sha256"]


def test_a_file_that_does_not_match_its_pin_is_refused(tmp_path, monkeypatch):
    lib = dict(vendor.libraries()[0], sha256="0" * 64)
    original = (vendor.VENDOR_DIR / lib["serve_as"]).read_bytes()

    class Answer:
        content = b""

        def raise_for_status(self):
            pass

    monkeypatch.setattr(vendor, "file_in_tarball", lambda data, member: original)
    monkeypatch.setattr(vendor.requests, "get", lambda url, timeout: Answer())
    with pytest.raises(ValueError, match="sha256"):
        vendor.fetch(lib)
    assert not vendor.is_current(lib)


def test_the_pages_own_files_name_no_other_site():
    assert OWN_FILES
    for path in OWN_FILES:
        # An SVG's namespace is a name, not a place anything is loaded from.
        text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), path


@pytest.mark.parametrize("target, kept", [
    ("/", "/"), ("/deeds?year=2021", "/deeds?year=2021"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("evil", "/"), (None, "/"),
])
def test_the_login_sends_a_person_back_only_to_this_site(target, kept):
    assert app.local_path(target) == kept
