"""The deeds service's events: a public contract (see docs/asyncapi.yaml).

Payloads carry the item with its names, owner unit and responsible person, and for
reminders and supervision the people they name directly (``recipient_member_ids``: the
item's responsible person) and the units whose officers are concerned (the owner unit, the
supervising union's unit, the unit escalated to), so consumers such as notifications act
without calling back; notifications alone resolves units into their officers.
Ideas' submitters are carried on every item event made from their idea, and on notices and
evaluations that take such items in (the design's "those who proposed an idea are told
whenever its deed moves").
"""

from marshmallow import Schema, fields

from gonghui.events import event_type

PRODUCER = "deeds"


class ItemRef(Schema):
    item_id = fields.Integer(required=True)
    item_title = fields.String(required=True)
    level = fields.String(required=True)
    focus_area = fields.String(required=True)
    batch = fields.String(required=True)
    owner_unit_id = fields.Integer(required=True)
    owner_unit_name = fields.String(required=True)
    responsible_member_id = fields.Integer(allow_none=True)
    responsible_member_name = fields.String(allow_none=True)
    idea_id = fields.Integer(allow_none=True)
    idea_submitter_member_id = fields.Integer(allow_none=True)


class IdeaData(Schema):
    idea_id = fields.Integer(required=True)
    title = fields.String(required=True)
    focus_area = fields.String(required=True)
    status = fields.String(required=True)
    submitter_member_id = fields.Integer(allow_none=True)
    submitter_name = fields.String(allow_none=True)
    submitter_unit_id = fields.Integer(required=True)
    submitter_unit_name = fields.String(required=True)
    reason = fields.String(allow_none=True)
    item_id = fields.Integer(allow_none=True)


class ItemData(ItemRef):
    list_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    planned_completion = fields.Date(required=True)
    parent_item_id = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    track = fields.String(required=True)
    progress = fields.Integer(required=True)


class ReportReminderData(ItemRef):
    period = fields.String(required=True)
    due_on = fields.Date(required=True)
    as_of = fields.Date(required=True)
    recipient_member_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "the people the event names directly (the item's responsible "
                       "person); the owner unit's officers are named by unit (owner_unit_id) "
                       "and resolved by notifications"})


class ReportSubmittedData(ItemRef):
    report_id = fields.Integer(required=True)
    period = fields.String(required=True)
    progress = fields.Integer(required=True)
    submitted_on = fields.Date(required=True)
    on_time = fields.Boolean(required=True)


class SupervisionData(ItemRef):
    order_id = fields.Integer(required=True)
    period = fields.String(required=True)
    cause = fields.String(metadata={"description": "report | completion | rework: what was "
                                    "missed (a month's report, the planned completion, a "
                                    "non-conforming item's new deadline)"})
    reason = fields.String(required=True)
    supervising_unit_id = fields.Integer(required=True)
    supervising_unit_name = fields.String(required=True)
    deadline = fields.Date(required=True)
    escalation_level = fields.Integer(required=True)
    escalated_to_unit_id = fields.Integer(allow_none=True)
    escalated_to_unit_name = fields.String(allow_none=True)
    recipient_member_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "the people the event names directly (the item's responsible "
                       "person); a union's officers are named by unit (owner_unit_id, "
                       "supervising_unit_id, escalated_to_unit_id) and resolved by "
                       "notifications"})
    status = fields.String(required=True)
    closed_by = fields.String(allow_none=True)


class CompletionData(ItemRef):
    completed_on = fields.Date(required=True)


class NonConformingData(ItemRef):
    feedback = fields.String(required=True)
    new_deadline = fields.Date(required=True)
    source = fields.String(required=True)


class NoticeData(Schema):
    notice_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)
    item_ids = fields.List(fields.Integer(), required=True)
    noticed_item_ids = fields.List(fields.Integer(), load_default=list)
    non_conforming_item_ids = fields.List(fields.Integer(), load_default=list)
    idea_submitter_member_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "who proposed the golden ideas behind its items: all of them when "
                       "the notice opens, the publicly noticed ones when it closes"})


class ObjectionData(ItemRef):
    notice_id = fields.Integer(required=True)
    objection_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True)


class UnitScore(Schema):
    rank = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(required=True)
    score = fields.Float(required=True)
    completion_rate = fields.Float(required=True)
    on_time_rate = fields.Float(required=True)
    supervision_orders = fields.Integer(required=True)
    upheld_objections = fields.Integer(required=True)
    satisfaction = fields.Float(allow_none=True)


class EvaluationData(Schema):
    evaluation_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    ranking = fields.List(fields.Nested(UnitScore), required=True)
    idea_submitter_member_ids = fields.List(fields.Integer(), load_default=list, metadata={
        "description": "who proposed the golden ideas behind the items evaluated"})


class CommitmentData(Schema):
    commitment_id = fields.Integer(required=True)
    owner_kind = fields.String(required=True)
    owner_unit_id = fields.Integer(required=True)
    owner_unit_name = fields.String(required=True)
    owner_member_id = fields.Integer(allow_none=True)
    owner_member_name = fields.String(allow_none=True)
    title = fields.String(required=True)
    metric = fields.String(required=True)
    target = fields.Float(required=True)
    achieved = fields.Float(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


def _declare(name, schema, description):
    return event_type(PRODUCER, name, schema, description)


IDEA_SUBMITTED = _declare("idea_submitted", IdeaData, "A golden idea (金点子) was submitted.")
IDEA_REVIEWED = _declare(
    "idea_reviewed", IdeaData,
    "A golden idea moved: argued (论证), studied (专题研究), accepted into a deed list, or "
    "declined with a reason for its submitter.")
ITEM_CREATED = _declare("item_created", ItemData, "A deed item (实事项目) joined a list.")
ITEM_PROGRESSED = _declare("item_progressed", ItemData,
                           "A deed item's progress changed (a report, or its sub-items').")
REPORT_DUE = _declare("report_due", ReportReminderData,
                      "A monthly progress report (月汇报) falls due in a few working days.")
REPORT_SUBMITTED = _declare("report_submitted", ReportSubmittedData,
                            "A monthly progress report was submitted.")
REPORT_OVERDUE = _declare("report_overdue", ReportReminderData,
                          "A monthly report was not submitted by its due day.")
SUPERVISION_ISSUED = _declare("supervision_issued", SupervisionData,
                              "A supervision order (督办单) was issued for a missing report.")
SUPERVISION_ESCALATED = _declare(
    "supervision_escalated", SupervisionData,
    "A supervision order passed its deadline: escalated to the parent union's officers.")
SUPERVISION_CLOSED = _declare("supervision_closed", SupervisionData,
                              "A supervision order was closed by a report or an explanation.")
ITEM_COMPLETED = _declare("item_completed", CompletionData, "A deed item was completed.")
ITEM_NON_CONFORMING = _declare(
    "item_non_conforming", NonConformingData,
    "A deed item does not conform (不符合): feedback on what must change and a new deadline.")
NOTICE_PUBLISHED = _declare("notice_published", NoticeData,
                            "A quarterly public notice (季公示) of completed items opened.")
OBJECTION_RAISED = _declare("objection_raised", ObjectionData,
                            "A member objected to an item on a public notice.")
OBJECTION_REVIEWED = _declare("objection_reviewed", ObjectionData,
                              "An objection was upheld or rejected.")
NOTICE_CLOSED = _declare("notice_closed", NoticeData,
                         "A public notice closed; its items are publicly noticed.")
EVALUATION_PUBLISHED = _declare("evaluation_published", EvaluationData,
                                "A quarterly evaluation (季评价) ranked the units.")
COMMITMENT_MADE = _declare("commitment_made", CommitmentData,
                           "A unit or cadre made a public commitment (承诺).")
COMMITMENT_REPORTED = _declare("commitment_reported", CommitmentData,
                               "Progress on a commitment was reported.")
