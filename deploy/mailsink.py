"""The local mail sink: an SMTP server (aiosmtpd in its own process) writing each message
to a Maildir. The local runner runs it for ``gonghui up`` (each e-mail a file in
``var/mail/new/``); the tests' and benchmarks' SMTP server (``tests/support/servers.py``)
is the same process on a port of its own. No eventlet here: the sink's process imports this
module.
"""

import os
import socket
import sys
from pathlib import Path

from aiosmtpd.handlers import Mailbox

ROOT = Path(__file__).resolve().parents[1]
MAILDIR_FOLDERS = ("tmp", "new", "cur")


def ensure_maildir(path):
    """Make ``path`` a Maildir (the folder and its tmp/, new/ and cur/), whatever exists of
    it already. ``mailbox.Maildir`` -- and so aiosmtpd's own Mailbox handler -- makes the
    subfolders only when it creates the folder itself: given an existing empty folder, every
    message failed with FileNotFoundError on tmp/."""
    path = Path(path)
    for folder in MAILDIR_FOLDERS:
        (path / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


class MaildirSink(Mailbox):
    """aiosmtpd's Mailbox handler that makes its Maildir when it starts and again before
    each message (a folder emptied or removed while the sink runs, e.g. ``rm -rf
    var/mail/*``, is made again instead of failing every delivery)."""

    def __init__(self, mail_dir, message_class=None):
        ensure_maildir(mail_dir)
        super().__init__(mail_dir, message_class)

    def handle_message(self, message):
        ensure_maildir(self.mail_dir)
        super().handle_message(message)


def mail_sink_command(maildir, port, host="127.0.0.1"):
    """The mail sink's process: ``python -m aiosmtpd`` with :class:`MaildirSink`."""
    return [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{host}:{port}",
            "-c", f"{__name__}.{MaildirSink.__name__}", str(maildir)]


def mail_sink_environment(environ=None):
    """The environment of the sink's process: this repository importable (the handler)."""
    environ = dict(os.environ if environ is None else environ)
    paths = [str(ROOT)] + [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return environ


def smtp_greets(port, host="127.0.0.1", timeout=1.0):
    """True when an SMTP server on ``host:port`` answers with its 220 greeting."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return sock.recv(100).startswith(b"220")
    except OSError:
        return False
