"""Schemas of the organization service's RPC arguments and results."""

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from gonghui.directory import DirectoryStatus  # noqa: F401 - used as s.DirectoryStatus
from gonghui.schemas import Arguments, AsOf, Id, OneOf, Page, Text, Tick, shared  # noqa: F401 - Tick is used as s.Tick
from services.organization import rules

# ----------------------------------------------------------------- arguments

MOBILE = validate.Regexp(r"^1[3-9]\d{9}$", error="not a mainland mobile number")


class CreateUnit(Arguments):
    code = Text(40, required=True)
    name = Text(required=True)
    kind = OneOf(rules.UNIT_KINDS, required=True)
    domain = Text(60, load_default=None, allow_none=True)
    parent_id = Id(load_default=None, allow_none=True)
    established_on = fields.Date(load_default=None, allow_none=True)


class UnitId(Arguments):
    unit_id = Id(required=True)


class RenameUnit(UnitId):
    name = Text(required=True)


class MoveUnit(UnitId):
    parent_id = Id(required=True)


class CloseUnit(UnitId):
    closed_on = AsOf()


class UnitQuery(Arguments):
    unit_id = Id(required=True)
    include_closed = fields.Boolean(load_default=False)


class ListUnits(Page):
    domain = Text(60, load_default=None)
    kind = OneOf(rules.UNIT_KINDS, load_default=None)
    include_closed = fields.Boolean(load_default=False)


class EstablishUnion(UnitId):
    level = OneOf(rules.UNION_LEVELS, required=True)
    name = Text(required=True)
    established_on = AsOf()


class CloseUnion(UnitId):
    closed_on = AsOf()


class AddMember(Arguments):
    employee_no = Text(40, required=True)
    name = Text(100, required=True)
    gender = OneOf(rules.GENDERS, required=True)
    unit_id = Id(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    mobile = fields.String(load_default=None, allow_none=True, validate=MOBILE)
    wecom_id = Text(100, load_default=None, allow_none=True)
    joined_on = AsOf()


class MemberId(Arguments):
    member_id = Id(required=True)


class UpdateMember(MemberId):
    name = Text(100)
    unit_id = Id()
    email = fields.Email(allow_none=True)
    mobile = fields.String(allow_none=True, validate=MOBILE)
    wecom_id = Text(100, allow_none=True)

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if set(data) == {"member_id"}:
            raise SchemaError("nothing to change", "_schema")


class MemberLeaves(MemberId):
    left_on = AsOf()


class ListMembers(Page):
    unit_id = Id(load_default=None)
    subtree = fields.Boolean(load_default=True)
    include_left = fields.Boolean(load_default=False)


class AssignRole(MemberId):
    unit_id = Id(required=True)
    role = OneOf(rules.ROLES[:-1], required=True)
    starts_on = AsOf()


class EndRole(Arguments):
    assignment_id = Id(required=True)
    ends_on = AsOf()


class RoleQuery(UnitId):
    role = OneOf(rules.ROLES[:-1], required=True)
    as_of = AsOf()


# No RPC takes it since escalation_recipients was removed (notifications resolves who is
# told); kept only as tests/rules/test_docs.py's specimen of a ranged integer with a default.
class EscalationQuery(RoleQuery):
    levels_up = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=5))


class StartTerm(UnitId):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class Seat(Schema):
    member_id = Id(required=True)
    role = OneOf(rules.COMMITTEE_ROLES, required=True)


class RecordElection(UnitId):
    held_on = fields.Date(required=True)
    term_starts_on = fields.Date(required=True)
    term_ends_on = fields.Date(required=True)
    committee = fields.List(fields.Nested(Seat), required=True,
                            validate=validate.Length(min=1, max=60))
    notes = Text(2000, load_default=None)


class TermsDueQuery(Page):
    unit_id = Id(required=True)
    as_of = AsOf()
    within_days = fields.Integer(strict=True, load_default=90,
                                 validate=validate.Range(min=0, max=3650))


class CoverageQuery(Arguments):
    as_of = AsOf()
    unit_id = Id(load_default=None)


class RecordTraining(Arguments):
    title = Text(required=True)
    kind = OneOf(rules.TRAINING_KINDS, required=True)
    provider = Text(load_default=None)
    organiser_unit_id = Id(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    hours = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2000))
    attendee_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))


class ListTrainings(Page):
    year = fields.Integer(strict=True, load_default=None, validate=validate.Range(2000, 2100))
    kind = OneOf(rules.TRAINING_KINDS, load_default=None)
    member_id = Id(load_default=None)


class NewActionItem(Schema):
    description = Text(2000, required=True)
    owner_unit_id = Id(required=True)
    due_on = fields.Date(required=True)


class RecordFieldVisit(UnitId):
    kind = OneOf(rules.VISIT_KINDS, required=True)
    visited_on = fields.Date(required=True)
    visitor_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))
    findings = Text(5000, required=True)
    actions = fields.List(fields.Nested(NewActionItem), load_default=list)


class RecordMeeting(UnitId):
    kind = OneOf(rules.MEETING_KINDS, required=True)
    title = Text(required=True)
    held_on = fields.Date(required=True)
    attendee_ids = fields.List(Id(), load_default=list)
    tasks = fields.List(fields.Nested(NewActionItem), load_default=list)


class ListByUnit(Page):
    unit_id = Id(load_default=None)
    kind = Text(30, load_default=None)


class CloseActionItem(Arguments):
    action_item_id = Id(required=True)
    closing_note = Text(2000, required=True)
    closed_on = AsOf()


class ListActionItems(Page):
    owner_unit_id = Id(load_default=None)
    open_only = fields.Boolean(load_default=True)
    overdue_as_of = fields.Date(load_default=None)


class DraftRegulation(Arguments):
    title = Text(required=True)
    category = OneOf(rules.REGULATION_CATEGORIES, required=True)
    issuing_unit_id = Id(required=True)
    body = Text(200_000, required=True)


class RegulationId(Arguments):
    regulation_id = Id(required=True)


class IssueRegulation(RegulationId):
    effective_on = fields.Date(required=True)


class ReviseRegulation(RegulationId):
    body = Text(200_000, required=True)
    effective_on = fields.Date(required=True)
    change_summary = Text(2000, required=True)


class RepealRegulation(RegulationId):
    repealed_on = AsOf()
    reason = Text(2000, required=True)


class ListRegulations(Page):
    category = OneOf(rules.REGULATION_CATEGORIES, load_default=None)
    status = OneOf(rules.REGULATION_STATUSES, load_default=None)


class ImportFile(Arguments):
    kind = OneOf(("units", "members"), required=True)
    file_format = OneOf(("csv", "xlsx"), required=True)
    content_base64 = fields.String(required=True, validate=validate.Length(min=1))
    dry_run = fields.Boolean(load_default=True)


class ExportFile(Arguments):
    kind = OneOf(("units", "members"), required=True)
    file_format = OneOf(("csv", "xlsx"), required=True)


# ------------------------------------------------------------------- results


class UnitOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    domain = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    established_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    depth = fields.Integer()


class UnionOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    level = fields.String()
    name = fields.String()
    established_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    parent_union_id = fields.Integer(allow_none=True)


class MemberOut(Schema):
    id = fields.Integer()
    employee_no = fields.String()
    name = fields.String()
    gender = fields.String()
    unit_id = fields.Integer()
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)


class RoleOut(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    union_id = fields.Integer()
    role = fields.String()
    term_id = fields.Integer(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class RecipientOut(Schema):
    member_id = fields.Integer()
    name = fields.String()
    employee_no = fields.String()
    role = fields.String()
    unit_id = fields.Integer()
    unit_name = fields.String()
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)


class TermOut(Schema):
    id = fields.Integer()
    union_id = fields.Integer()
    number = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    closed_on = fields.Date(allow_none=True)


class ElectionOut(Schema):
    id = fields.Integer()
    union_id = fields.Integer()
    held_on = fields.Date()
    closed_term_id = fields.Integer(allow_none=True)
    new_term = fields.Nested(TermOut)
    committee = fields.List(fields.Dict())


class TermDueOut(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String()
    depth = fields.Integer(metadata={"description": "below the unit asked about (0: itself)"})
    union_id = fields.Integer()
    union_name = fields.String()
    level = fields.String()
    term_id = fields.Integer()
    number = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    days_left = fields.Integer(metadata={"description": "negative once the term has expired"})
    status = fields.String(metadata={"description": "expired | due"})


class TickOut(Schema):
    as_of = fields.Date()
    term_expiring = fields.Integer()
    term_expired = fields.Integer()
    follow_up_overdue = fields.Integer()


class DomainCoverage(Schema):
    domain = fields.String()
    units = fields.Integer()
    units_with_union = fields.Integer()
    unions_with_valid_term = fields.Integer()
    members = fields.Integer()


class UnitCoverage(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String()
    domain = fields.String()
    has_union = fields.Boolean()
    valid_term = fields.Boolean()
    members = fields.Integer()


class CoverageOut(Schema):
    as_of = fields.Date()
    units = fields.Integer()
    units_with_union = fields.Integer()
    union_coverage = fields.Float()
    unions_with_valid_term = fields.Integer()
    valid_term_rate = fields.Float()
    members = fields.Integer()
    by_domain = fields.List(fields.Nested(DomainCoverage))
    by_unit = fields.List(fields.Nested(UnitCoverage))


class TrainingOut(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    provider = fields.String(allow_none=True)
    organiser_unit_id = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    hours = fields.Integer()
    attendee_ids = fields.List(fields.Integer())


class ActionItemOut(Schema):
    id = fields.Integer()
    source_type = fields.String()
    source_id = fields.Integer()
    description = fields.String()
    owner_unit_id = fields.Integer()
    due_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    closing_note = fields.String(allow_none=True)


class FieldVisitOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    unit_id = fields.Integer()
    visited_on = fields.Date()
    visitor_ids = fields.List(fields.Integer())
    findings = fields.String()
    actions = fields.List(fields.Nested(ActionItemOut))


class MeetingOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    unit_id = fields.Integer()
    held_on = fields.Date()
    attendee_ids = fields.List(fields.Integer())
    tasks = fields.List(fields.Nested(ActionItemOut))


class RegulationVersionOut(Schema):
    number = fields.Integer()
    body = fields.String()
    effective_on = fields.Date(allow_none=True)
    change_summary = fields.String()
    issued_at = fields.DateTime(allow_none=True)


class RegulationOut(Schema):
    id = fields.Integer()
    title = fields.String()
    category = fields.String()
    status = fields.String()
    issuing_unit_id = fields.Integer()
    repealed_on = fields.Date(allow_none=True)
    current_version = fields.Integer()


class RegulationHistoryOut(RegulationOut):
    versions = fields.List(fields.Nested(RegulationVersionOut))


class RowProblem(Schema):
    line = fields.Integer()
    reason = fields.String()


class ImportOut(Schema):
    kind = fields.String()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    valid = fields.Boolean()
    created = fields.Integer()
    updated = fields.Integer()
    problems = fields.List(fields.Nested(RowProblem))


class ExportOut(Schema):
    kind = fields.String()
    file_format = fields.String()
    rows = fields.Integer()
    content_base64 = fields.String()


class SnapshotPage(Arguments):
    part = OneOf(("units", "unions", "members", "roles"), required=True)
    after = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "the last id of the previous page"})
    limit = fields.Integer(strict=True, load_default=1000,
                           validate=validate.Range(min=1, max=5000))


class SnapshotUnit(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String()
    code = fields.String()
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    established_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class SnapshotUnion(Schema):
    union_id = fields.Integer()
    unit_id = fields.Integer()
    union_name = fields.String()
    level = fields.String()
    established_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class SnapshotMember(Schema):
    member_id = fields.Integer()
    employee_no = fields.String()
    name = fields.String()
    gender = fields.String()
    unit_id = fields.Integer()
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)


class SnapshotRole(Schema):
    assignment_id = fields.Integer()
    member_id = fields.Integer()
    union_id = fields.Integer()
    unit_id = fields.Integer()
    role = fields.String()
    term_id = fields.Integer(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


_SNAPSHOT_ROWS = {"units": SnapshotUnit, "unions": SnapshotUnion, "members": SnapshotMember,
                  "roles": SnapshotRole}


class DirectorySnapshot(Schema):
    """One page of the tree; ``rows`` have the shape of the part's ``*Snapshot*`` schema."""

    part = fields.String()
    taken_at = fields.AwareDateTime()
    rows = fields.Method("_rows")
    next_after = fields.Integer(allow_none=True)

    def _rows(self, page):
        return shared(_SNAPSHOT_ROWS[page["part"]]).dump(page["rows"], many=True)
