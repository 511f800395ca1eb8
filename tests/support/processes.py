"""A service run as an operator runs it (`nameko run` in its own process), for the tests
that must not share a process with the code they check: faults (SIGKILL), and a consumer
that validates what another process published."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import eventlet
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """``ServiceProcess("services.deeds.service", amqp_uri, database_url)``; ``start()``
    returns once its ``/health`` answers."""

    def __init__(self, module, amqp_uri, database_url, **settings):
        self.module, self.port = module, free_port()
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "DATABASE_URL": database_url,
                    "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.port}", "OUTBOX_POLL_SECONDS": "0.2",
                    "DECLARE_EVENT_EXCHANGES": "true",
                    **{key: str(value) for key, value in settings.items()}}
        self.proc = None

    def start(self, timeout=30):
        nameko = Path(sys.executable).with_name("nameko")
        self.proc = subprocess.Popen(
            [str(nameko), "run", "--config", "deploy/nameko.yaml", self.module], cwd=ROOT,
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, f"{self.module} exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, "the service did not become healthy"
            eventlet.sleep(0.2)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
