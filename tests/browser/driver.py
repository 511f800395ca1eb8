"""Headless Debian chromium driven by Playwright (sync API), in a process of its own: the
tests' process is monkey-patched by eventlet (nameko), where Playwright's driver hangs and
would block the in-process services. The test side (``browser.py``) sends one JSON command
a line on stdin and reads one JSON answer a line on stdout.

Run by tests/browser/browser.py; never downloads a browser (``executable_path``)."""

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


class Driver:
    def __init__(self, playwright):
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        self.context = self.page = None
        self.console = []

    def open(self, width=1280, height=900, mobile=False, locale="zh-CN"):
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(
            viewport={"width": width, "height": height}, is_mobile=mobile, has_touch=mobile,
            device_scale_factor=2 if mobile else 1, locale=locale)
        self.page = self.context.new_page()
        self.console = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        return True

    def goto(self, url):
        response = self.page.goto(url, wait_until="load")
        return {"status": response.status if response else None, "url": self.page.url}

    def fill(self, selector, value):
        self.page.fill(selector, value)
        return True

    def submit(self, selector):
        """Click a button that sends a form, and wait for the next page."""
        with self.page.expect_navigation(wait_until="load"):
            self.page.click(selector)
        return {"url": self.page.url}

    def text(self, selector):
        return self.page.inner_text(selector)

    def texts(self, selector):
        return self.page.locator(selector).all_inner_texts()

    def wait(self, selector, timeout=15000):
        self.page.wait_for_selector(selector, timeout=timeout)
        return True

    def evaluate(self, expression):
        return self.page.evaluate(expression)

    def screenshot(self, path, full_page=True):
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def url(self):
        return self.page.url

    def cookies(self):
        return {c["name"]: c["value"] for c in self.context.cookies()}

    def messages(self):
        return list(self.console)

    def close(self):
        self.browser.close()
        return True


def main():
    with sync_playwright() as playwright:
        driver = Driver(playwright)
        print(json.dumps({"ok": "ready"}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            op = command.pop("op")
            try:
                answer = {"ok": getattr(driver, op)(**command)}
            except Exception as error:  # noqa: BLE001 - the test reports it
                answer = {"error": f"{type(error).__name__}: {error}"}
            print(json.dumps(answer, ensure_ascii=False), flush=True)
            if op == "close":
                break


if __name__ == "__main__":
    main()
