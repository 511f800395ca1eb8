"""Real local endpoints for the tests and benchmarks: the SMTP server (the local mail sink,
``deploy/mailsink.py``, on a port of its own) and an HTTP server playing WeCom and DingTalk
group robots and webhook receivers, checking message formats and signatures the way those
services do (independently of the senders' code). Both need eventlet (the robots' server is
a greenthread).
"""

import base64
import hashlib
import hmac
import json
import mailbox
import socket
import subprocess
import time
import urllib.parse
from collections import defaultdict

from deploy.mailsink import mail_sink_command, mail_sink_environment, smtp_greets


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """The mail sink (:func:`mail_sink_command`) on a port of its own: every accepted
    message is a file in a Maildir, read back with :meth:`messages`."""

    def __init__(self, maildir, port=None):
        self.maildir = str(maildir)
        self.port = port or free_port()
        self.proc = None

    def start(self):
        import eventlet

        self.proc = subprocess.Popen(
            mail_sink_command(self.maildir, self.port), env=mail_sink_environment(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not smtp_greets(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the SMTP server exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP server did not start")
            eventlet.sleep(0.1)
        return self

    def messages(self):
        return list(mailbox.Maildir(self.maildir, create=False))

    def count(self):
        return len(mailbox.Maildir(self.maildir, create=False))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def text_and_html(message):
    """The plain-text and HTML parts of a multipart/alternative message."""
    parts = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts[part.get_content_type()] = part.get_payload(decode=True).decode(
                part.get_content_charset() or "utf-8")
    return parts.get("text/plain"), parts.get("text/html")


def dingtalk_sign(secret, timestamp):
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


class RobotServer:
    """WeCom robots at ``/cgi-bin/webhook/send?key=K``, DingTalk robots at
    ``/robot/send?access_token=T`` (signed when registered with a secret) and webhook
    receivers at ``/hooks/<name>`` (signature checked when registered with a secret, and
    scripted to fail their first N requests). What each accepted is in ``received`` (and
    when, ``time.monotonic()``, in ``arrived``); what was refused, with the reason, in
    ``refused``. A robot given a rate (:meth:`limit_rate`) refuses what arrives above it
    the way the vendors do: more than ``count`` accepted in the last ``window`` seconds
    (sliding) and WeCom answers errcode 45009, DingTalk 130101."""

    # The vendors' answers to a robot sending too fast, and DingTalk's to a body too large.
    TOO_FAST = {"wecom": (45009, "api freq out of limit"),
                "dingtalk": (130101, "send too fast, exceed 20 times per minute")}
    DINGTALK_BODY_BYTES = 20000

    def __init__(self):
        self.port = free_port()
        self.wecom_keys, self.dingtalk_secrets = set(), {}
        self.hook_secrets, self.fail_first, self.calls = {}, defaultdict(int), defaultdict(int)
        self.received = defaultdict(list)
        self.arrived = defaultdict(list)
        self.rates = {}
        self.refused = []
        self._server = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def wecom_url(self, key):
        self.wecom_keys.add(key)
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token, secret=None):
        self.dingtalk_secrets[token] = secret
        return f"{self.base}/robot/send?access_token={token}"

    def limit_rate(self, robot, count, window):
        """``robot`` as in ``received`` (``wecom:<key>``, ``dingtalk:<token>``)."""
        self.rates[robot] = (count, window)

    def _too_fast(self, robot):
        if robot not in self.rates:
            return False
        count, window = self.rates[robot]
        since = time.monotonic() - window
        return sum(1 for at in self.arrived[robot] if at > since) >= count

    def _accept(self, start_response, robot, body):
        if self._too_fast(robot):
            errcode, reason = self.TOO_FAST[robot.partition(":")[0]]
            return self._refuse(start_response, robot, reason, errcode)
        self.received[robot].append(body)
        self.arrived[robot].append(time.monotonic())
        return self._answer(start_response, "200 OK", {"errcode": 0, "errmsg": "ok"})

    def hook_url(self, name, secret=None, fail_first=0):
        self.hook_secrets[name] = secret
        self.fail_first[name] = fail_first
        return f"{self.base}/hooks/{name}"

    def start(self):
        import eventlet
        from eventlet import wsgi

        sock = eventlet.listen(("127.0.0.1", self.port))
        self._server = eventlet.spawn(wsgi.server, sock, self._app, log_output=False)
        return self

    def stop(self):
        if self._server is not None:
            self._server.kill()

    def _answer(self, start_response, status, payload):
        body = json.dumps(payload, ensure_ascii=False).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    def _refuse(self, start_response, where, reason, errcode=None, status="200 OK"):
        self.refused.append((where, reason))
        if errcode is None:
            return self._answer(start_response, status, {"error": reason})
        return self._answer(start_response, status, {"errcode": errcode, "errmsg": reason})

    def _app(self, environ, start_response):
        path = environ["PATH_INFO"]
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        if environ["REQUEST_METHOD"] != "POST":
            return self._refuse(start_response, path, "POST only", status="405 Not Allowed")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(start_response, path, "body is not JSON", errcode=40001)
        if path == "/cgi-bin/webhook/send":
            return self._wecom(start_response, query, body)
        if path == "/robot/send":
            if len(raw) > self.DINGTALK_BODY_BYTES:
                return self._refuse(start_response, "dingtalk", "body 大小不合法", 460101)
            return self._dingtalk(start_response, query, body)
        if path.startswith("/hooks/"):
            return self._hook(start_response, path[len("/hooks/"):], environ, raw, body)
        return self._refuse(start_response, path, "no such path", status="404 Not Found")

    def _wecom(self, start_response, query, body):
        key = query.get("key")
        if key not in self.wecom_keys:
            return self._refuse(start_response, "wecom", "invalid webhook url", 93000)
        kind = body.get("msgtype")
        content = (body.get(kind) or {}).get("content") if kind in ("text", "markdown") else None
        if not isinstance(content, str) or not content:
            return self._refuse(start_response, "wecom", "missing content", 44004)
        if len(content.encode()) > 4096:
            return self._refuse(start_response, "wecom", "content exceed max length", 40058)
        return self._accept(start_response, f"wecom:{key}", body)

    def _dingtalk(self, start_response, query, body):
        token = query.get("access_token")
        if token not in self.dingtalk_secrets:
            return self._refuse(start_response, "dingtalk", "token is not exist", 300001)
        secret = self.dingtalk_secrets[token]
        if secret is not None:
            timestamp = query.get("timestamp", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
                return self._refuse(start_response, "dingtalk", "invalid timestamp", 310000)
            if query.get("sign") != dingtalk_sign(secret, timestamp):
                return self._refuse(start_response, "dingtalk", "sign not match", 310000)
        kind = body.get("msgtype")
        if kind == "markdown":
            ok = all(isinstance(body["markdown"].get(k), str) and body["markdown"][k]
                     for k in ("title", "text"))
        elif kind == "text":
            ok = isinstance(body.get("text", {}).get("content"), str)
        else:
            ok = False
        if not ok:
            return self._refuse(start_response, "dingtalk", "param error", 40035)
        return self._accept(start_response, f"dingtalk:{token}", body)

    def _hook(self, start_response, name, environ, raw, body):
        self.calls[name] += 1
        if self.calls[name] <= self.fail_first[name]:
            return self._refuse(start_response, name, "scripted failure",
                                status="503 Service Unavailable")
        secret = self.hook_secrets.get(name)
        if secret is not None:
            timestamp = environ.get("HTTP_X_GONGHUI_TIMESTAMP", "")
            expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + raw,
                                            hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, environ.get("HTTP_X_GONGHUI_SIGNATURE", "")):
                return self._refuse(start_response, name, "bad signature",
                                    status="401 Unauthorized")
        self.received[f"hook:{name}"].append(
            {"body": body, "delivery": environ.get("HTTP_X_GONGHUI_DELIVERY"),
             "event": environ.get("HTTP_X_GONGHUI_EVENT")})
        return self._answer(start_response, "200 OK", {"ok": True})
