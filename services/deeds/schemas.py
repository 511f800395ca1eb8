"""Schemas of the deeds service's RPC arguments and results."""

from marshmallow import Schema, fields, validate

from gonghui.schemas import Arguments, AsOf, Id, OneOf, Page, Text, Tick  # noqa: F401 - Tick is used as s.Tick
from services.deeds import rules

PERIOD = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="expected YYYY-MM")


def _year(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(2000, 2100), **kwargs)


# ----------------------------------------------------------------- arguments


def Subtree(**kwargs):  # noqa: N802 - reads like a field type
    """A unit whose subtree (the unit and every unit below it) a list is limited to."""
    return Id(load_default=None, metadata={"description": "only the subtree of this unit"},
              **kwargs)


class SubmitIdea(Arguments):
    title = Text(required=True)
    description = Text(5000, required=True)
    focus_area = OneOf(tuple(rules.FOCUS_AREAS), required=True)
    # the unit the idea comes from: by default the submitting member's
    submitter_unit_id = Id(load_default=None)
    submitter_member_id = Id(load_default=None)
    submitted_on = AsOf()


class IdeaId(Arguments):
    idea_id = Id(required=True)


class ReviewIdea(IdeaId):
    step = OneOf(("argued", "studied", "declined"), required=True)
    reason = Text(2000, load_default=None)


class AcceptIdea(IdeaId):
    list_id = Id(required=True)
    owner_unit_id = Id(required=True)
    responsible_member_id = Id(load_default=None)
    batch = OneOf(rules.BATCHES, required=True)
    planned_completion = fields.Date(required=True)
    accepted_on = AsOf()


class ListIdeas(Page):
    status = OneOf(("submitted", "argued", "studied", "accepted", "declined"),
                   load_default=None)
    submitter_member_id = Id(load_default=None)
    unit_id = Subtree()  # of the submitting units


class ListId(Arguments):
    list_id = Id(required=True)


class ListLists(Arguments):
    year = _year(load_default=None)
    level = OneOf(rules.LEVELS, load_default=None)


class CreateList(Arguments):
    level = OneOf(rules.LEVELS, required=True)
    year = _year(required=True)
    unit_id = Id(required=True)
    title = Text(required=True)


class CreateItem(Arguments):
    list_id = Id(required=True)
    title = Text(required=True)
    description = Text(5000, load_default="")
    focus_area = OneOf(tuple(rules.FOCUS_AREAS), required=True)
    batch = OneOf(rules.BATCHES, required=True)
    owner_unit_id = Id(required=True)
    responsible_member_id = Id(load_default=None)
    planned_completion = fields.Date(required=True)
    parent_item_id = Id(load_default=None)
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0.01, max=1000))
    created_on = AsOf()


class ItemId(Arguments):
    item_id = Id(required=True)


class SubmitReport(ItemId):
    progress = fields.Integer(strict=True, required=True, validate=validate.Range(0, 100))
    text = Text(5000, required=True)
    attachment_ref = Text(500, load_default=None)
    period = fields.String(load_default=None, validate=PERIOD)
    submitted_on = AsOf()


class CompleteItem(ItemId):
    completed_on = AsOf()
    summary = Text(5000, required=True)


class MarkNonConforming(ItemId):
    feedback = Text(5000, required=True)
    new_deadline = fields.Date(required=True)
    marked_on = AsOf()


class CloseSupervision(Arguments):
    order_id = Id(required=True)
    explanation = Text(5000, required=True)
    closed_on = AsOf()


class OrderId(Arguments):
    order_id = Id(required=True)


class ListSupervision(Page):
    status = OneOf(("open", "closed"), load_default=None)
    owner_unit_id = Id(load_default=None)
    unit_id = Subtree()  # of the items' owners


class NoticeId(Arguments):
    notice_id = Id(required=True)


class RaiseObjection(NoticeId):
    item_id = Id(required=True)
    member_id = Id(required=True)
    reason = Text(2000, required=True)
    raised_on = AsOf()


class ObjectionId(Arguments):
    objection_id = Id(required=True)


class ListObjections(Page, NoticeId):
    status = OneOf(("raised", "upheld", "rejected"), load_default=None)
    unit_id = Subtree()  # of the items' owners


class ReviewObjection(ObjectionId):
    upheld = fields.Boolean(required=True)
    note = Text(2000, required=True)
    new_deadline = fields.Date(load_default=None)
    reviewed_on = AsOf()


class RenderNotice(NoticeId):
    file_format = OneOf(("html", "pdf"), load_default="html")


class Vote(ItemId):
    member_id = Id(required=True)
    score = fields.Integer(strict=True, required=True, validate=validate.Range(1, 5))
    voted_on = AsOf()


class QuarterQuery(Arguments):
    year = _year(required=True)
    quarter = fields.Integer(strict=True, required=True, validate=validate.Range(1, 4))


class SetWeights(Arguments):
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class MakeCommitment(Arguments):
    owner_kind = OneOf(("unit", "member"), required=True)
    owner_unit_id = Id(required=True)
    owner_member_id = Id(load_default=None)
    title = Text(required=True)
    metric = Text(100, required=True)
    target = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CommitmentId(Arguments):
    commitment_id = Id(required=True)


class ReportCommitment(CommitmentId):
    value = fields.Float(required=True, validate=validate.Range(min=0))
    note = Text(2000, load_default=None)
    reported_on = AsOf()


class CompareCommitments(Arguments):
    year = _year(required=True)
    owner_kind = OneOf(("unit", "member"), load_default=None)


class LedgerQuery(Page):
    level = OneOf(rules.LEVELS, load_default=None)
    batch = OneOf(rules.BATCHES, load_default=None)
    focus_area = OneOf(tuple(rules.FOCUS_AREAS), load_default=None)
    owner_unit_id = Id(load_default=None)
    status = OneOf(rules.ITEM_STATUSES, load_default=None)
    track = OneOf(rules.TRACKS, load_default=None)
    year = _year(load_default=None)
    unit_id = Subtree()  # of the items' owners


class LedgerExport(Arguments):
    level = OneOf(rules.LEVELS, load_default=None)
    batch = OneOf(rules.BATCHES, load_default=None)
    focus_area = OneOf(tuple(rules.FOCUS_AREAS), load_default=None)
    owner_unit_id = Id(load_default=None)
    status = OneOf(rules.ITEM_STATUSES, load_default=None)
    year = _year(load_default=None)
    unit_id = Subtree()  # of the items' owners
    # with a sheet each of the items' monthly reports, supervision orders and objections
    details = fields.Boolean(load_default=True)


class FiguresQuery(Arguments):
    level = OneOf(rules.LEVELS, load_default=None)
    year = _year(load_default=None)
    unit_id = Subtree()  # of the units figured


class NameFocusAreas(Arguments):
    names = fields.Dict(keys=fields.String(validate=validate.OneOf(tuple(rules.FOCUS_AREAS))),
                        values=fields.String(validate=validate.Length(min=1, max=200)),
                        required=True, validate=validate.Length(min=1))


# ------------------------------------------------------------------- results


class IdeaOut(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    focus_area = fields.String()
    submitter_member_id = fields.Integer(allow_none=True)
    submitter_unit_id = fields.Integer()
    submitted_on = fields.Date()
    status = fields.String()
    reason = fields.String(allow_none=True)
    item_id = fields.Integer(allow_none=True)


class ListOut(Schema):
    id = fields.Integer()
    level = fields.String()
    year = fields.Integer()
    unit_id = fields.Integer()
    title = fields.String()


class ItemOut(Schema):
    id = fields.Integer()
    list_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    title = fields.String()
    description = fields.String()
    level = fields.String()
    focus_area = fields.String()
    batch = fields.String()
    owner_unit_id = fields.Integer()
    responsible_member_id = fields.Integer(allow_none=True)
    planned_completion = fields.Date()
    created_on = fields.Date()
    weight = fields.Float()
    progress = fields.Integer()
    status = fields.String()
    track = fields.String()
    completed_on = fields.Date(allow_none=True)
    noticed_on = fields.Date(allow_none=True)
    feedback = fields.String(allow_none=True)
    new_deadline = fields.Date(allow_none=True)
    reopened_on = fields.Date(allow_none=True)
    idea_id = fields.Integer(allow_none=True)


class ReportOut(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    period = fields.String()
    progress = fields.Integer()
    text = fields.String()
    attachment_ref = fields.String(allow_none=True)
    submitted_on = fields.Date()
    due_on = fields.Date()
    on_time = fields.Boolean()


class SupervisionOut(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    period = fields.String()
    cause = fields.String()
    reason = fields.String()
    supervising_unit_id = fields.Integer()
    issued_on = fields.Date()
    deadline = fields.Date()
    status = fields.String()
    escalation_level = fields.Integer()
    escalated_to_unit_id = fields.Integer(allow_none=True)
    at_top = fields.Boolean()
    closed_on = fields.Date(allow_none=True)
    closed_by = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)


class NoticeOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    quarter = fields.Integer()
    opens_on = fields.Date()
    closes_on = fields.Date()
    status = fields.String()
    item_ids = fields.List(fields.Integer())


class ObjectionOut(Schema):
    id = fields.Integer()
    notice_id = fields.Integer()
    item_id = fields.Integer()
    member_id = fields.Integer()
    reason = fields.String()
    raised_on = fields.Date()
    status = fields.String()
    review_note = fields.String(allow_none=True)
    owner_unit_id = fields.Integer()  # of the item objected to


class RenderOut(Schema):
    file_format = fields.String()
    filename = fields.String()
    content_base64 = fields.String()


class VoteOut(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    member_id = fields.Integer()
    score = fields.Integer()
    voted_on = fields.Date()


class EvaluationOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    quarter = fields.Integer()
    published_on = fields.Date()
    weights = fields.Dict()
    ranking = fields.List(fields.Dict())


class FocusAreaOut(Schema):
    code = fields.String()
    name = fields.String()


class WeightsOut(Schema):
    weights = fields.Dict(keys=fields.String(), values=fields.Float())


class CommitmentOut(Schema):
    id = fields.Integer()
    owner_kind = fields.String()
    owner_unit_id = fields.Integer()
    owner_member_id = fields.Integer(allow_none=True)
    title = fields.String()
    metric = fields.String()
    target = fields.Float()
    achieved = fields.Float()
    ratio = fields.Float()
    rank = fields.Integer(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date()


class LedgerRow(ItemOut):
    owner_unit_name = fields.String()
    responsible_member_name = fields.String(allow_none=True)
    reports = fields.Integer()
    reports_on_time = fields.Integer()
    last_report_period = fields.String(allow_none=True)
    supervision_orders = fields.Integer()
    open_supervision = fields.Boolean()
    notice_id = fields.Integer(allow_none=True)


class ExportOut(Schema):
    filename = fields.String()
    rows = fields.Integer()
    reports = fields.Integer(allow_none=True)
    supervision_orders = fields.Integer(allow_none=True)
    objections = fields.Integer(allow_none=True)
    content_base64 = fields.String()


class UnitFigures(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String()
    level = fields.String()
    items = fields.Integer()
    tracks = fields.Dict(keys=fields.String(), values=fields.Integer())
    reports = fields.Integer()
    reports_on_time = fields.Integer()
    on_time_rate = fields.Float()


class TickOut(Schema):
    as_of = fields.Date()
    report_due = fields.Integer()
    report_overdue = fields.Integer()
    supervision_issued = fields.Integer()
    supervision_escalated = fields.Integer()
    notice_published = fields.Integer()
    notice_closed = fields.Integer()
    evaluation_published = fields.Integer()

