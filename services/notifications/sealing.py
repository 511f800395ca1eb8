"""The secrets notifications keeps — webhook subscriptions' signing secrets, units' robot
URLs (WeCom's and DingTalk's key is in the query) and DingTalk's signing secrets — encrypted
at rest: the columns are :class:`Sealed`, Fernet tokens (AES-128-CBC with HMAC-SHA256) that
the database holds and the service opens when it reads a row. Lists show neither the secret
nor the key (robots' and webhooks' URLs are masked).

The key comes from the setting ``SECRETS_KEY`` (the service's config, else the environment):
a random text of at least 32 characters (``openssl rand -hex 24``), from which the
encryption key is derived (HKDF-SHA256). Several, comma-separated, rotate keys: the first
seals, every one opens, so an operator puts the new key first, rewrites the rows (any
change to a robot or webhook seals it again) and drops the old one later. Without the
setting the service does not start (:class:`SecretsKey` at setup), and a row that no key
opens is an error naming the setting, never a silently empty secret.
"""

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nameko.extensions import DependencyProvider
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

SETTING = "SECRETS_KEY"
MIN_LENGTH = 32
_INFO = b"gonghui notifications secrets at rest"


class SecretsKeyError(RuntimeError):
    """The setting is missing or unusable, or a stored secret does not open with it."""


def _fernet(text):
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        text.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def keyring(setting):
    """The keys of the setting's text (comma-separated, the first sealing)."""
    texts = [t.strip() for t in (setting or "").split(",") if t.strip()]
    if not texts:
        raise SecretsKeyError(
            f"{SETTING} is not set: notifications encrypts the webhook and robot secrets it "
            f"stores with it. Set it in the environment (at least {MIN_LENGTH} random "
            "characters, e.g. `openssl rand -hex 24`), the same for every replica.")
    short = [i + 1 for i, t in enumerate(texts) if len(t) < MIN_LENGTH]
    if short:
        raise SecretsKeyError(f"{SETTING}: key {short[0]} is shorter than {MIN_LENGTH} "
                              "characters")
    return MultiFernet([_fernet(t) for t in texts])


def setting_of(config):
    """The setting's text: the service's config, else the environment."""
    return (config or {}).get(SETTING) or os.environ.get(SETTING)


_keys = {"ring": None}


def configure(setting):
    """Make the setting's keys the ones this process seals and opens with."""
    _keys["ring"] = keyring(setting)


def _ring():
    if _keys["ring"] is None:
        raise SecretsKeyError(f"{SETTING} was never configured in this process")
    return _keys["ring"]


def seal(plain, ring=None):
    return (ring or _ring()).encrypt(plain.encode()).decode("ascii")


def unseal(token, ring=None):
    try:
        return (ring or _ring()).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise SecretsKeyError(f"a stored secret does not open with {SETTING} (was the key "
                              "changed? list the old key after the new one)") from None


class Sealed(TypeDecorator):
    """Text sealed on the way in, opened on the way out (``None`` stays ``None``)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unseal(value)


class SecretsKey(DependencyProvider):
    """At the service's setup, before any worker or the dispatcher runs: the keys from the
    setting, or the service does not start (:class:`SecretsKeyError` names the setting)."""

    def setup(self):
        configure(setting_of(self.container.config))

    def get_dependency(self, worker_ctx):
        return None
