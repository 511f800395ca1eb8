"""Webhooks: the event's envelope POSTed to each subscriber, signed.

Headers: ``X-Gonghui-Event`` (type), ``X-Gonghui-Event-Id``, ``X-Gonghui-Delivery`` (the same
on every retry: receivers deduplicate on it or on the envelope id), ``X-Gonghui-Timestamp``
(Unix seconds) and ``X-Gonghui-Signature: sha256=<hex>``, the HMAC-SHA256 with the
subscription's secret of ``<timestamp>.<body>``: receivers recompute it over the raw body and
refuse old timestamps, so a captured request cannot be replayed later.
"""

import hashlib
import hmac
import json
import time

from services.notifications.channels.posting import post_json

SIGNATURE_HEADER = "X-Gonghui-Signature"
TIMESTAMP_HEADER = "X-Gonghui-Timestamp"


def signature(secret, timestamp, body):
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret, timestamp, body, header, tolerance=300, now=None):
    """What a receiver does (used by tests): constant-time compare, fresh timestamp."""
    if abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def send(url, secret, envelope, delivery_id, timeout=10.0, now=None):
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now or time.time())
    post_json(url, None, body=body, timeout=timeout, headers={
        "X-Gonghui-Event": envelope["type"], "X-Gonghui-Event-Id": envelope["id"],
        "X-Gonghui-Delivery": str(delivery_id), TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "User-Agent": "Gonghui-Webhooks/1"})
    return f"POST {url.split('?')[0]} OK"
