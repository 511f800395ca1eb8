"""Templates of every notice, in Chinese (the default) and English.

Each template has a title and a plain-text body with ``{field}`` placeholders filled from
the event's data (names, units, dates), the recipient's name and the link; dates are
written the way the reader expects (2026年3月5日 / 5 March 2026). E-mail gets an HTML part
made from the same text, group robots a Markdown one.
"""

import html
import re
from datetime import date, datetime

from services.notifications.rules import CHINA

URGENCY_LABELS = {"zh": {"low": "提示", "normal": "提醒", "high": "重要", "urgent": "紧急"},
                  "en": {"low": "Note", "normal": "Reminder", "high": "Important",
                         "urgent": "Urgent"}}
STATUS_LABELS = {"zh": {"submitted": "已提交", "argued": "论证中", "studied": "专题研究中",
                        "accepted": "已采纳并立项", "declined": "未采纳", "upheld": "异议成立",
                        "rejected": "异议不成立", "open": "待处理"},
                 "en": {}}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

# Template key -> {language: (title, body)}.
TEMPLATES = {
    "report_due": {
        "zh": ("【月汇报提醒】{item_title}：{period}进展请于{due_on}前提交",
               "{recipient_name}：\n您负责的实事项目「{item_title}」（{owner_unit_name}）{period}"
               "的月度进展汇报将于{due_on}截止，请按时提交。"),
        "en": ("Monthly report due: {item_title} ({period}) by {due_on}",
               "Dear {recipient_name},\nthe monthly progress report of the deed item "
               "“{item_title}” ({owner_unit_name}) for {period} is due on {due_on}. "
               "Please submit it on time."),
    },
    "report_overdue": {
        "zh": ("【逾期未报】{item_title}：{period}月度汇报已逾期",
               "{recipient_name}：\n实事项目「{item_title}」（{owner_unit_name}，责任人："
               "{responsible_member_name}）{period}的月度进展汇报已于{due_on}到期，至今未提交。"
               "请尽快提交，逾期未报将转入督办。"),
        "en": ("Overdue: the {period} report of {item_title}",
               "Dear {recipient_name},\nthe monthly progress report of the deed item "
               "“{item_title}” ({owner_unit_name}, responsible: {responsible_member_name}) "
               "for {period} was due on {due_on} and has not been submitted. Please submit "
               "it now: a missing report becomes a supervision order."),
    },
    "report_overdue_group": {
        "zh": ("【逾期未报】{owner_unit_name}",
               "实事项目「{item_title}」{period}的月度进展汇报已于{due_on}逾期未报，"
               "责任人：{responsible_member_name}。请尽快提交。"),
        "en": ("Overdue report: {owner_unit_name}",
               "The {period} progress report of the deed item “{item_title}” was due on "
               "{due_on} and is missing. Responsible: {responsible_member_name}."),
    },
    "supervision_issued": {
        "zh": ("【督办】{item_title}",
               "{recipient_name}：\n{supervising_unit_name}已就实事项目「{item_title}」"
               "（{owner_unit_name}）下达督办单：{reason}。请于{deadline}前办结。"),
        "en": ("Supervision order: {item_title}",
               "Dear {recipient_name},\n{supervising_unit_name} issued a supervision order "
               "on the deed item “{item_title}” ({owner_unit_name}): {reason}. It must be "
               "settled by {deadline}."),
    },
    "supervision_escalated": {
        "zh": ("【督办升级】{item_title}",
               "{recipient_name}：\n{owner_unit_name}的实事项目「{item_title}」督办单已过办结期限"
               "（{deadline}）仍未办结，现升级至{escalated_to_unit_name}，请督促落实。"
               "责任人：{responsible_member_name}。"),
        "en": ("Escalated: {item_title}",
               "Dear {recipient_name},\nthe supervision order on the deed item “{item_title}” "
               "({owner_unit_name}) passed its deadline ({deadline}) unsettled and is escalated "
               "to {escalated_to_unit_name}. Responsible: {responsible_member_name}."),
    },
    "supervision_escalated_group": {
        "zh": ("【督办升级】{owner_unit_name}",
               "实事项目「{item_title}」督办单已过期限（{deadline}），升级至"
               "{escalated_to_unit_name}督办。责任人：{responsible_member_name}。"),
        "en": ("Escalated: {owner_unit_name}",
               "The supervision order on “{item_title}” passed its deadline ({deadline}) and "
               "is escalated to {escalated_to_unit_name}. Responsible: "
               "{responsible_member_name}."),
    },
    "supervision_closed": {
        "zh": ("【督办办结】{item_title}",
               "{recipient_name}：\n实事项目「{item_title}」（{owner_unit_name}）的督办单已办结。"),
        "en": ("Supervision closed: {item_title}",
               "Dear {recipient_name},\nthe supervision order on “{item_title}” "
               "({owner_unit_name}) is closed."),
    },
    "item_created": {
        "zh": ("【新实事项目】{item_title}",
               "{recipient_name}：\n您被确定为实事项目「{item_title}」（{owner_unit_name}）的"
               "责任人，计划完成时间：{planned_completion}。"),
        "en": ("New deed item: {item_title}",
               "Dear {recipient_name},\nyou are responsible for the deed item “{item_title}” "
               "({owner_unit_name}), to be completed by {planned_completion}."),
    },
    "item_created_submitter": {
        "zh": ("【金点子立项】{item_title}",
               "{recipient_name}：\n您提出的金点子已列入实事项目「{item_title}」，由"
               "{owner_unit_name}负责办理。"),
        "en": ("Your idea became a deed item: {item_title}",
               "Dear {recipient_name},\nyour golden idea became the deed item “{item_title}”, "
               "carried out by {owner_unit_name}."),
    },
    "idea_reviewed": {
        "zh": ("【金点子进展】{title}",
               "{recipient_name}：\n您提出的金点子「{title}」有了新进展：{status}。{reason}"),
        "en": ("Your golden idea: {title}",
               "Dear {recipient_name},\nyour golden idea “{title}” moved: {status}. {reason}"),
    },
    "item_progressed": {
        "zh": ("【项目进展】{item_title}",
               "{recipient_name}：\n由您的金点子形成的实事项目「{item_title}」进度已更新为"
               "{progress}%。"),
        "en": ("Progress: {item_title}",
               "Dear {recipient_name},\nthe deed item “{item_title}” made from your idea is "
               "now {progress}% done."),
    },
    "item_completed": {
        "zh": ("【项目完成】{item_title}",
               "{recipient_name}：\n实事项目「{item_title}」（{owner_unit_name}）已于"
               "{completed_on}完成。"),
        "en": ("Completed: {item_title}",
               "Dear {recipient_name},\nthe deed item “{item_title}” ({owner_unit_name}) was "
               "completed on {completed_on}."),
    },
    "item_non_conforming": {
        "zh": ("【整改通知】{item_title}",
               "{recipient_name}：\n实事项目「{item_title}」（{owner_unit_name}）经核查不符合要求："
               "{feedback}。请于{new_deadline}前完成整改。"),
        "en": ("Does not conform: {item_title}",
               "Dear {recipient_name},\nthe deed item “{item_title}” ({owner_unit_name}) does "
               "not conform: {feedback}. Put it right by {new_deadline}."),
    },
    "report_submitted_submitter": {
        "zh": ("【项目进展】{item_title}：{period}月汇报",
               "{recipient_name}：\n由您的金点子形成的实事项目「{item_title}」（{owner_unit_name}）"
               "已提交{period}月度进展汇报，当前进度{progress}%。"),
        "en": ("Progress: {item_title} ({period})",
               "Dear {recipient_name},\nthe deed item “{item_title}” ({owner_unit_name}) made "
               "from your idea reported for {period}: {progress}% done."),
    },
    "supervision_issued_submitter": {
        "zh": ("【项目督办】{item_title}",
               "{recipient_name}：\n{supervising_unit_name}已就由您的金点子形成的实事项目"
               "「{item_title}」（{owner_unit_name}）下达督办单：{reason}，办结期限{deadline}。"),
        "en": ("Under supervision: {item_title}",
               "Dear {recipient_name},\n{supervising_unit_name} issued a supervision order on "
               "the deed item “{item_title}” ({owner_unit_name}) made from your idea: "
               "{reason}; to be settled by {deadline}."),
    },
    "supervision_escalated_submitter": {
        "zh": ("【督办升级】{item_title}",
               "{recipient_name}：\n由您的金点子形成的实事项目「{item_title}」（{owner_unit_name}）"
               "的督办单逾期未办结，已升级至{escalated_to_unit_name}督办。"),
        "en": ("Supervision escalated: {item_title}",
               "Dear {recipient_name},\nthe supervision order on the deed item “{item_title}” "
               "({owner_unit_name}) made from your idea was not settled in time and is "
               "escalated to {escalated_to_unit_name}."),
    },
    "notice_published_submitter": {
        "zh": ("【项目公示】{year}年第{quarter}季度实事项目公示",
               "{recipient_name}：\n由您的金点子形成的实事项目已完成，列入{year}年第{quarter}季度"
               "公示，公示期{opens_on}至{closes_on}，接受职工监督。"),
        "en": ("On public notice: deed items of {year} Q{quarter}",
               "Dear {recipient_name},\nthe deed item made from your idea is completed and on "
               "the public notice of {year} Q{quarter}, open for objections from {opens_on} "
               "to {closes_on}."),
    },
    "notice_closed_submitter": {
        "zh": ("【公示期满】{year}年第{quarter}季度实事项目公示",
               "{recipient_name}：\n{year}年第{quarter}季度公示已于{closes_on}期满，"
               "由您的金点子形成的实事项目通过公示。"),
        "en": ("Publicly noticed: deed items of {year} Q{quarter}",
               "Dear {recipient_name},\nthe public notice of {year} Q{quarter} closed on "
               "{closes_on}: the deed item made from your idea passed it."),
    },
    "objection_reviewed_submitter": {
        "zh": ("【异议处理】{item_title}",
               "{recipient_name}：\n职工对由您的金点子形成的实事项目「{item_title}」"
               "（{owner_unit_name}）提出的异议已处理，结果：{status}。"),
        "en": ("Objection reviewed: {item_title}",
               "Dear {recipient_name},\nan objection to the deed item “{item_title}” "
               "({owner_unit_name}) made from your idea was reviewed: {status}."),
    },
    "evaluation_published_submitter": {
        "zh": ("【季度评价】{year}年第{quarter}季度实事项目评价",
               "{recipient_name}：\n{year}年第{quarter}季度实事项目评价结果已发布，"
               "由您的金点子形成的实事项目参加了本次评价。"),
        "en": ("Evaluation: deed items of {year} Q{quarter}",
               "Dear {recipient_name},\nthe evaluation of {year} Q{quarter} is published; the "
               "deed item made from your idea was evaluated in it."),
    },
    "objection_raised": {
        "zh": ("【公示异议】{item_title}",
               "{recipient_name}：\n公示中的实事项目「{item_title}」收到职工异议：{reason}。"
               "请及时核实处理。"),
        "en": ("Objection: {item_title}",
               "Dear {recipient_name},\na member objected to the noticed deed item "
               "“{item_title}”: {reason}. Please look into it."),
    },
    "objection_reviewed": {
        "zh": ("【异议处理结果】{item_title}",
               "{recipient_name}：\n您对实事项目「{item_title}」提出的异议已处理，结果：{status}。"),
        "en": ("Your objection: {item_title}",
               "Dear {recipient_name},\nyour objection to the deed item “{item_title}” was "
               "reviewed: {status}."),
    },
    "commitment_made": {
        "zh": ("【公开承诺】{title}",
               "{recipient_name}：\n{owner_unit_name}{owner_member_name}作出公开承诺"
               "「{title}」：{metric}目标{target}，期限{starts_on}至{ends_on}。欢迎监督。"),
        "en": ("Public commitment: {title}",
               "Dear {recipient_name},\n{owner_unit_name} {owner_member_name} committed to "
               "“{title}”: {metric} {target}, from {starts_on} to {ends_on}."),
    },
    "commitment_reported": {
        "zh": ("【承诺进展】{title}",
               "{recipient_name}：\n{owner_unit_name}{owner_member_name}的公开承诺「{title}」"
               "最新进展：{metric}已达{achieved}（目标{target}，期限至{ends_on}）。"),
        "en": ("Commitment progress: {title}",
               "Dear {recipient_name},\n{owner_unit_name} {owner_member_name} reports on "
               "“{title}”: {metric} {achieved} of {target} (until {ends_on})."),
    },
    "term_expiring": {
        "zh": ("【换届提醒】{union_name}",
               "{recipient_name}：\n{union_name}第{number}届委员会任期将于{ends_on}届满"
               "（还有{days_left}天），请及时筹备换届选举。"),
        "en": ("Term ending: {union_name}",
               "Dear {recipient_name},\nthe term of the {number}th committee of {union_name} "
               "ends on {ends_on} ({days_left} days left): prepare the election."),
    },
    "term_expired": {
        "zh": ("【换届逾期】{union_name}",
               "{recipient_name}：\n{union_name}第{number}届委员会任期已于{ends_on}届满，"
               "尚未完成换届选举，请尽快组织。"),
        "en": ("Term expired: {union_name}",
               "Dear {recipient_name},\nthe term of the {number}th committee of {union_name} "
               "ended on {ends_on} with no election recorded: hold it now."),
    },
    "term_expiring_parent": {
        "zh": ("【换届提醒】{union_name}",
               "{recipient_name}：\n下级工会{union_name}第{number}届委员会任期将于{ends_on}届满"
               "（还有{days_left}天），请督促其及时筹备换届选举。"),
        "en": ("Term ending below: {union_name}",
               "Dear {recipient_name},\nthe term of the {number}th committee of {union_name}, "
               "a union under yours, ends on {ends_on} ({days_left} days left): see that it "
               "prepares the election."),
    },
    "follow_up_overdue": {
        "zh": ("【跟进事项逾期】{owner_unit_name}",
               "{recipient_name}：\n{visited_on}在{visit_unit_name}调研时提出的跟进事项"
               "「{description}」由{owner_unit_name}负责，已于{due_on}到期，逾期{days_overdue}天"
               "仍未办结，请尽快落实并办结。"),
        "en": ("Follow-up overdue: {owner_unit_name}",
               "Dear {recipient_name},\nthe follow-up “{description}” of the field visit to "
               "{visit_unit_name} on {visited_on}, owned by {owner_unit_name}, was due on "
               "{due_on} and is {days_overdue} days overdue: carry it out and close it."),
    },
    "follow_up_overdue_parent": {
        "zh": ("【跟进事项逾期】{owner_unit_name}",
               "{recipient_name}：\n{owner_unit_name}负责的跟进事项「{description}」"
               "（{visited_on}在{visit_unit_name}调研时提出）已于{due_on}到期，逾期{days_overdue}天"
               "仍未办结，请督促落实。"),
        "en": ("Follow-up overdue below: {owner_unit_name}",
               "Dear {recipient_name},\nthe follow-up “{description}” owned by "
               "{owner_unit_name} (field visit to {visit_unit_name} on {visited_on}) was due "
               "on {due_on} and is {days_overdue} days overdue: see that it is carried out."),
    },
    "action_item_created": {
        "zh": ("【工作任务】{owner_unit_name}",
               "{recipient_name}：\n{owner_unit_name}有一项新的工作任务：{description}，"
               "完成期限：{due_on}。"),
        "en": ("New task: {owner_unit_name}",
               "Dear {recipient_name},\n{owner_unit_name} has a new task: {description}, "
               "due on {due_on}."),
    },
    "regulation_issued": {
        "zh": ("【制度发布】{title}",
               "{recipient_name}：\n{issuing_unit_name}发布了《{title}》（第{version}版），"
               "自{effective_on}起施行。"),
        "en": ("Issued: {title}",
               "Dear {recipient_name},\n{issuing_unit_name} issued “{title}” (version "
               "{version}), in force from {effective_on}."),
    },
    "activity_upcoming": {
        "zh": ("【活动提醒】{activity_name}",
               "{recipient_name}：\n您报名的活动「{activity_name}」将于{starts_at}开始，"
               "地点：{place}。"),
        "en": ("Coming up: {activity_name}",
               "Dear {recipient_name},\nthe activity “{activity_name}” you signed up for "
               "starts at {starts_at}, at {place}."),
    },
    "activity_cancelled": {
        "zh": ("【活动取消】{activity_name}",
               "{recipient_name}：\n您报名的活动「{activity_name}」（原定{starts_at}）已取消。"
               "原因：{reason}"),
        "en": ("Cancelled: {activity_name}",
               "Dear {recipient_name},\nthe activity “{activity_name}” planned at {starts_at} "
               "is cancelled: {reason}"),
    },
    "signup_promoted": {
        "zh": ("【候补转正】{activity_name}",
               "{recipient_name}：\n有名额空出，您已从候补转为正式报名。活动「{activity_name}」"
               "将于{starts_at}开始，地点：{place}。"),
        "en": ("You have a place: {activity_name}",
               "Dear {recipient_name},\na place came free and it is yours: “{activity_name}” "
               "starts at {starts_at}, at {place}."),
    },
    "checkup_missing": {
        "zh": ("【体检提醒】{year}年度职工健康体检",
               "{recipient_name}：\n您尚未完成{year}年度职工健康体检，请尽快安排。"),
        "en": ("Health check-up: {year}",
               "Dear {recipient_name},\nyou have not had your {year} health check-up yet: "
               "please book it."),
    },
    "webhook_disabled": {
        "zh": ("【Webhook 已停用】{name}",
               "{recipient_name}：\n您的 Webhook 订阅「{name}」（{url}）连续{failures}次推送失败，"
               "已自动停用。最后一次错误：{reason}。修复接收端后可重新启用。"),
        "en": ("Webhook disabled: {name}",
               "Dear {recipient_name},\nyour webhook subscription “{name}” ({url}) failed "
               "{failures} times in a row and was disabled. Last error: {reason}. Enable it "
               "again once the endpoint is fixed."),
    },
}

DIGEST = {"zh": ("【每日汇总】{day}共{count}条通知",
                 "{recipient_name}：\n以下是{day}的{count}条通知："),
          "en": ("Daily digest: {count} notices of {day}",
                 "Dear {recipient_name},\nhere are your {count} notices of {day}:")}

# Where each notice points to, under NOTIFY_BASE_URL.
LINKS = {
    "report_due": "/deeds/items/{item_id}", "report_overdue": "/deeds/items/{item_id}",
    "report_overdue_group": "/deeds/items/{item_id}",
    "supervision_issued": "/deeds/items/{item_id}",
    "supervision_escalated": "/deeds/items/{item_id}",
    "supervision_escalated_group": "/deeds/items/{item_id}",
    "supervision_closed": "/deeds/items/{item_id}", "item_created": "/deeds/items/{item_id}",
    "item_created_submitter": "/deeds/items/{item_id}",
    "idea_reviewed": "/deeds/ideas/{idea_id}", "item_progressed": "/deeds/items/{item_id}",
    "item_completed": "/deeds/items/{item_id}", "item_non_conforming": "/deeds/items/{item_id}",
    "objection_raised": "/deeds/items/{item_id}", "objection_reviewed": "/deeds/items/{item_id}",
    "report_submitted_submitter": "/deeds/items/{item_id}",
    "supervision_issued_submitter": "/deeds/items/{item_id}",
    "supervision_escalated_submitter": "/deeds/items/{item_id}",
    "notice_published_submitter": "/deeds/notices/{notice_id}",
    "notice_closed_submitter": "/deeds/notices/{notice_id}",
    "objection_reviewed_submitter": "/deeds/items/{item_id}",
    "evaluation_published_submitter": "/deeds/evaluations/{year}/{quarter}",
    "term_expiring": "/organization/units/{unit_id}",
    "term_expired": "/organization/units/{unit_id}",
    "term_expiring_parent": "/organization/units/{unit_id}",
    "follow_up_overdue": "/organization/action-items/{action_item_id}",
    "follow_up_overdue_parent": "/organization/action-items/{action_item_id}",
    "commitment_made": "/deeds/commitments/{commitment_id}",
    "commitment_reported": "/deeds/commitments/{commitment_id}",
    "action_item_created": "/organization/action-items/{action_item_id}",
    "regulation_issued": "/organization/regulations/{regulation_id}",
    "activity_upcoming": "/activities/{activity_id}",
    "activity_cancelled": "/activities/{activity_id}",
    "signup_promoted": "/activities/{activity_id}",
    "checkup_missing": "/activities/checkups",
    "webhook_disabled": "/notifications/webhooks/{subscription_id}",
}
INBOX_LINK = "/notifications/inbox"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def format_date(value, language):
    if language == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_value(value, language):
    """Dates, months and moments as the reader writes them; anything else as is."""
    if isinstance(value, datetime):
        local = value.astimezone(CHINA) if value.tzinfo else value
        return f"{format_date(local, language)} {local:%H:%M}"
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, str):
        if _DATE.match(value):
            return format_date(date.fromisoformat(value), language)
        if _MONTH.match(value):
            year, month = int(value[:4]), int(value[5:])
            return f"{year}年{month}月" if language == "zh" else f"{MONTHS[month - 1]} {year}"
        if _DATETIME.match(value):
            try:
                return format_value(datetime.fromisoformat(value), language)
            except ValueError:
                return value
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
    if isinstance(value, float):  # 6.0 → 6, 3.5999999999999996 → 3.6
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, list | dict):
        return ""
    return str(value)


class _Blank(dict):
    # A field an event does not carry renders empty instead of failing the whole fan-out.
    def __missing__(self, key):
        return ""


def context(data, language, recipient_name, extra=None):
    values = _Blank({k: format_value(v, language) for k, v in data.items()})
    status = data.get("status")
    if isinstance(status, str):
        values["status"] = STATUS_LABELS.get(language, {}).get(status, status)
    values["recipient_name"] = recipient_name or ("同志" if language == "zh" else "colleague")
    values.update(extra or {})
    return values


def link_for(template, data, base_url, event_id=None):
    path = LINKS.get(template)
    if path is None:
        return None
    values = _Blank({k: v for k, v in data.items() if not isinstance(v, list | dict)})
    values["event_id"] = event_id
    return base_url.rstrip("/") + path.format_map(values)


def render(template, language, values):
    """``(title, body)`` of a template in ``language`` (Chinese when it has no such text)."""
    texts = TEMPLATES[template]
    title, body = texts.get(language) or texts["zh"]
    return title.format_map(values).strip(), body.format_map(values).strip()


def urgency_prefix(urgency, language):
    # Chinese titles already open with their label (【督办升级】): only "urgent" is added.
    if urgency == "urgent" or (urgency == "high" and language != "zh"):
        label = URGENCY_LABELS[language][urgency]
        return f"【{label}】" if language == "zh" else f"[{label}] "
    return ""


def html_body(title, body, link, language, items=()):
    """The HTML part of an e-mail: the same words as the text part, escaped."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in body.split("\n") if line)
    listed = ""
    if items:
        listed = "<ul>" + "".join(
            f"<li><strong>{html.escape(t)}</strong><br>{html.escape(b)}"
            + (f' <a href="{html.escape(u)}">{"查看" if language == "zh" else "Open"}</a>'
               if u else "") + "</li>" for t, b, u in items) + "</ul>"
    button = ""
    if link:
        label = "查看详情" if language == "zh" else "View details"
        button = f'<p><a href="{html.escape(link)}">{label}</a></p>'
    footer = ("本邮件由工会服务平台自动发送，请勿直接回复。" if language == "zh"
              else "Sent by the trade-union platform; please do not reply.")
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if language == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title></head><body>'
            f"<h2>{html.escape(title)}</h2>{paragraphs}{listed}{button}"
            f'<p style="color:#888;font-size:12px">{footer}</p></body></html>')


def text_body(body, link, language, items=()):
    lines = [body]
    for title, text, url in items:
        lines.append(f"\n· {title}\n  {text}" + (f"\n  {url}" if url else ""))
    if link:
        lines.append(("\n查看详情：" if language == "zh" else "\nDetails: ") + link)
    return "\n".join(lines)


def markdown_body(title, body, link, language):
    """Group robots' Markdown (WeCom and DingTalk both render this subset)."""
    quoted = "\n".join(f"> {line}" for line in body.split("\n") if line)
    text = f"### {title}\n{quoted}"
    if link:
        text += f"\n\n[{'查看详情' if language == 'zh' else 'View details'}]({link})"
    return text
