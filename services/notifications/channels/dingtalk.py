"""DingTalk (钉钉) group robot: ``POST <webhook url>`` (…/robot/send?access_token=TOKEN)
with ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}, "at": {…}}``.

Signed mode (加签): with the robot's secret ``SEC…``, append ``&timestamp=<ms>&sign=<s>``
where ``s`` = urlencode(base64(HMAC-SHA256(key=secret, msg="<ms>\\n<secret>"))); DingTalk
refuses a timestamp more than an hour away. Answer ``{"errcode": 0, "errmsg": "ok"}``.
"""

import base64
import hashlib
import hmac
import time
import urllib.parse

from services.notifications.channels.posting import post_json
from services.notifications.channels.wecom import check_answer

# errcodes no retry fixes: no such token, signature or keyword check failed.
PERMANENT_ERRCODES = {300001, 310000}


def sign(secret, timestamp_ms):
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(webhook_url, secret, now=None):
    if not secret:
        return webhook_url
    timestamp_ms = int((now or time.time()) * 1000)
    separator = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{separator}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def message(title, markdown, at_mobiles=()):
    return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown},
            "at": {"atMobiles": list(at_mobiles), "isAtAll": False}}


def send(webhook_url, secret, title, markdown, timeout=10.0):
    response = post_json(signed_url(webhook_url, secret), message(title, markdown),
                         timeout=timeout)
    return check_answer(response, "dingtalk", PERMANENT_ERRCODES)
