"""Helpers of the gateway's tests over HTTP: the port a container's web server listens on,
a browser-like client, waiting, the read models caught up, problem documents. (The ``stack``
fixture and the logins are in tests/service/test_gateway_access.py.)"""

import time

import requests

PASSWORD = "长城-Great-Wall-2021"
READ_MODEL = ("units", "unions", "members", "roles")


def web_port(container):
    """The port a started container's web server was given (``WEB_SERVER_ADDRESS`` ``:0``)."""
    server = next(e.server for e in container.entrypoints if hasattr(e, "server"))
    return server._sock.getsockname()[1]


class Client(requests.Session):
    """A browser: cookies kept, the CSRF token echoed on writes."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        headers = kwargs.pop("headers", None) or {}
        token = self.cookies.get("gonghui_csrf")
        if token and method.upper() not in ("GET", "HEAD") and "X-CSRF-Token" not in headers:
            headers["X-CSRF-Token"] = token
        kwargs.setdefault("timeout", 20)
        return super().request(method, self.base + url, *args, headers=headers, **kwargs)


def wait_until(check, timeout=30):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return value


def wait_for_read_models(proxy, services, timeout=30):
    """Until each of ``services`` (started before the demo was loaded) holds organization's
    tree in its read model."""
    expected = proxy.organization.directory_status()

    def caught_up():
        return all({k: getattr(proxy, name).directory_status()[k] for k in READ_MODEL}
                   == {k: expected[k] for k in READ_MODEL} for name in services)

    wait_until(caught_up, timeout)


def problem(response, status):
    """The problem document of ``response``, checked to be one with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return body
