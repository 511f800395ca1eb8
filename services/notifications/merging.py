"""Several notices waiting for one group robot go out as one message: a list of each
notice's title and link, as long as the robot takes, split into several messages when they
do not fit in one (each message is one token of the robot's bucket, ``throttle.py``).

The vendors' limits:

* WeCom (企业微信) group robot: ``markdown.content`` at most 4096 bytes of UTF-8 (``text``
  2048), 20 messages a minute per robot (群机器人配置说明,
  https://developer.work.weixin.qq.com/document/path/91770); a longer content is refused
  with errcode 40058 "markdown.content exceed max length 4096", more messages with 45009.
* DingTalk (钉钉) custom robot: 20 messages a minute per robot, over it the robot is
  throttled for ten minutes (自定义机器人接入, https://open.dingtalk.com/document/group/
  custom-robot-access: "每个机器人每分钟最多发送20条"); the whole request body at most
  20000 bytes (errcode 460101 "body 大小不合法; 请保持大小在 20000bytes 以内").
"""

import json
from dataclasses import dataclass

from services.notifications import templates
from services.notifications.channels import dingtalk

WECOM_MARKDOWN_BYTES = 4096
DINGTALK_BODY_BYTES = 20000
MERGE_AT_MOST = 300  # deliveries looked at for one message (far more than fit)
SUMMARY_CHARS = 80  # of each notice's body in a merged list


@dataclass
class Message:
    rows: list  # the deliveries it carries, in order
    title: str
    markdown: str


def _json_bytes(text):
    """Bytes ``text`` takes inside a JSON string as the channel serialises it."""
    return len(json.dumps(text, ensure_ascii=False)[1:-1].encode())


def _cost(channel, text):
    return len(text.encode()) if channel == "wecom" else _json_bytes(text)


def single(row):
    title = templates.urgency_prefix(row.urgency, "zh") + row.title
    return Message([row], title, templates.markdown_body(title, row.body, row.link,
                                                         row.language))


def merged_title(count):
    return f"通知汇总（共 {count} 条）"


def summary(body):
    """The body on one line, cut short: group titles alone often read the same (one
    unit's overdue reports), the body names the item."""
    text = " ".join(body.split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


def item_line(index, row):
    # Square brackets would end the link's text early.
    title = (templates.urgency_prefix(row.urgency, "zh") + row.title).replace(
        "[", "［").replace("]", "］")
    line = f"\n{index}. [{title}]({row.link})" if row.link else f"\n{index}. {title}"
    return f"{line} {summary(row.body)}" if row.body else line


def _budget(channel, count):
    """Bytes left for the list once the header (and DingTalk's envelope) is counted, with
    ``count`` an upper bound of the items (the count's digits only shrink)."""
    title = merged_title(count)
    header = f"### {title}"
    if channel == "wecom":
        return WECOM_MARKDOWN_BYTES - _cost(channel, header)
    envelope = json.dumps(dingtalk.message(title, header), ensure_ascii=False,
                          separators=(",", ":")).encode()
    return DINGTALK_BODY_BYTES - len(envelope)


def pack(channel, rows):
    """The first message of ``rows`` (oldest first): one notice as it is, several as a
    list of as many as fit; the rest wait for the next message."""
    if len(rows) == 1:
        return single(rows[0])
    budget, taken, lines = _budget(channel, len(rows)), [], []
    for row in rows:
        line = item_line(len(taken) + 1, row)
        cost = _cost(channel, line)
        if cost > budget:
            break
        budget -= cost
        taken.append(row)
        lines.append(line)
    if len(taken) <= 1:
        return single(rows[0])
    title = merged_title(len(taken))
    return Message(taken, title, f"### {title}" + "".join(lines))
