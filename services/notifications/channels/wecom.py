"""WeCom (企业微信) group robot: ``POST <webhook url>`` (…/cgi-bin/webhook/send?key=KEY)
with ``{"msgtype": "markdown", "markdown": {"content": …}}``; the robot answers
``{"errcode": 0, "errmsg": "ok"}``, any other errcode is a failure. Markdown content is
limited to 4096 bytes."""

from services.notifications.channels import ChannelError
from services.notifications.channels.posting import post_json

MAX_BYTES = 4096
# errcodes that no retry can fix: invalid webhook key, robot removed / disabled.
PERMANENT_ERRCODES = {93000, 93008, 300005}


def truncate_bytes(text, limit):
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode(errors="ignore") + "…"


def message(markdown):
    return {"msgtype": "markdown", "markdown": {"content": truncate_bytes(markdown, MAX_BYTES)}}


def check_answer(response, robot, permanent_errcodes=PERMANENT_ERRCODES):
    try:
        answer = response.json()
    except ValueError:
        raise ChannelError(f"{robot}: answer is not JSON: {response.text[:100]}") from None
    code = answer.get("errcode")
    if code != 0:
        raise ChannelError(f"{robot} errcode {code}: {answer.get('errmsg')}",
                           permanent=code in permanent_errcodes)
    return f"{robot} errcode 0"


def send(webhook_url, markdown, timeout=10.0):
    response = post_json(webhook_url, message(markdown), timeout=timeout)
    return check_answer(response, "wecom")
