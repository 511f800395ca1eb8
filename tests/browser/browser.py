"""The tests' handle on the browser process (``driver.py``): each method is one command,
answered over pipes that eventlet makes cooperative, so the services running in the tests'
process keep answering the browser meanwhile."""

import json
import sys
from pathlib import Path

from eventlet.green import subprocess

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("driver.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            encoding="utf-8")
        assert self._read() == "ready"

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise BrowserError(f"the browser process ended (rc {self.process.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise BrowserError(answer["error"])
        return answer["ok"]

    def _do(self, op, **arguments):
        self.process.stdin.write(json.dumps({"op": op, **arguments}, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        return self._read()

    def __getattr__(self, op):
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda **arguments: self._do(op, **arguments)

    def save(self, name, full_page=True):
        """A screenshot kept as the test's artefact, under var/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return self._do("screenshot", path=str(SCREENSHOTS / f"{name}.png"),
                        full_page=full_page)

    def quit(self):
        try:
            self._do("close")
        finally:
            self.process.stdin.close()
            self.process.wait(timeout=30)
