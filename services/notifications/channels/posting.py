"""HTTP POST of JSON for webhooks and group robots, with a timeout."""

import json

import requests

from services.notifications.channels import ChannelError


def post_json(url, payload, headers=None, timeout=10.0, body=None):
    """POST ``payload`` (or the exact ``body`` bytes); returns the response. Connection
    errors and 5xx/429 are retryable, other 4xx are not (the request itself is wrong)."""
    if body is None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        response = requests.post(url, data=body, timeout=timeout, headers={
            "Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except requests.RequestException as exc:
        raise ChannelError(f"POST failed: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        permanent = 400 <= response.status_code < 500 and response.status_code not in (
            408, 409, 425, 429)
        raise ChannelError(f"HTTP {response.status_code}: {response.text[:200]}",
                           permanent=permanent)
    return response
