"""The organization service's events: a public contract (see docs/asyncapi.yaml).

Each payload carries enough for a consumer to act without calling back: ids *and* names,
the unit and its parent, dates, and for people the unit whose officers should hear of it.
"""

from marshmallow import Schema, fields

from gonghui.events import event_type

PRODUCER = "organization"


class UnitRef(Schema):
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(required=True)


class UnitData(UnitRef):
    code = fields.String(required=True)
    kind = fields.String(required=True)
    domain = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    parent_name = fields.String(allow_none=True)
    established_on = fields.Date(allow_none=True)


class UnitRenamedData(UnitRef):
    old_name = fields.String(required=True)


class UnitMovedData(UnitRef):
    old_parent_id = fields.Integer(allow_none=True)
    new_parent_id = fields.Integer(required=True)
    new_parent_name = fields.String(required=True)


class UnitClosedData(UnitRef):
    closed_on = fields.Date(required=True)


class UnionData(UnitRef):
    union_id = fields.Integer(required=True)
    union_name = fields.String(required=True)
    level = fields.String(required=True)
    parent_union_id = fields.Integer(allow_none=True)
    established_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class MemberData(UnitRef):
    member_id = fields.Integer(required=True)
    employee_no = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True)
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)
    joined_on = fields.Date(required=True)
    left_on = fields.Date(allow_none=True)


class RoleData(UnitRef):
    member_id = fields.Integer(required=True)
    member_name = fields.String(required=True)
    union_id = fields.Integer(required=True)
    role = fields.String(required=True)
    term_id = fields.Integer(allow_none=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)


class TermData(UnitRef):
    union_id = fields.Integer(required=True)
    union_name = fields.String(required=True)
    term_id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class TermReminderData(TermData):
    days_left = fields.Integer(required=True)
    as_of = fields.Date(required=True)
    recipient_member_ids = fields.List(fields.Integer(), required=True)
    parent_unit_id = fields.Integer(allow_none=True)


class CommitteeSeat(Schema):
    member_id = fields.Integer(required=True)
    member_name = fields.String(required=True)
    role = fields.String(required=True)


class ElectionData(TermData):
    election_id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    closed_term_id = fields.Integer(allow_none=True)
    committee = fields.List(fields.Nested(CommitteeSeat), required=True)


class TrainingData(Schema):
    training_id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    organiser_unit_id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    attendee_ids = fields.List(fields.Integer(), required=True)


class FieldVisitData(UnitRef):
    visit_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    visited_on = fields.Date(required=True)
    findings = fields.String(required=True)
    action_item_ids = fields.List(fields.Integer(), required=True)


class MeetingData(UnitRef):
    meeting_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    held_on = fields.Date(required=True)
    task_ids = fields.List(fields.Integer(), required=True)


class ActionItemData(Schema):
    action_item_id = fields.Integer(required=True)
    source_type = fields.String(required=True)
    source_id = fields.Integer(required=True)
    description = fields.String(required=True)
    owner_unit_id = fields.Integer(required=True)
    owner_unit_name = fields.String(required=True)
    due_on = fields.Date(required=True)
    closed_on = fields.Date(allow_none=True)
    closing_note = fields.String(allow_none=True)


class FollowUpOverdueData(Schema):
    action_item_id = fields.Integer(required=True)
    description = fields.String(required=True)
    owner_unit_id = fields.Integer(required=True)
    owner_unit_name = fields.String(required=True)
    due_on = fields.Date(required=True)
    days_overdue = fields.Integer(required=True)
    as_of = fields.Date(required=True)
    visit_id = fields.Integer(required=True)
    visit_kind = fields.String(required=True)
    visited_on = fields.Date(required=True)
    visit_unit_id = fields.Integer(required=True)
    visit_unit_name = fields.String(required=True)
    parent_unit_id = fields.Integer(allow_none=True, metadata={
        "description": "the unit of the union above the one serving the owner unit: the "
                       "union the overdue follow-up is flagged to"})
    parent_unit_name = fields.String(allow_none=True)


class RegulationData(Schema):
    regulation_id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    issuing_unit_id = fields.Integer(required=True)
    issuing_unit_name = fields.String(required=True)
    version = fields.Integer(required=True)
    effective_on = fields.Date(allow_none=True)
    change_summary = fields.String(allow_none=True)


def _declare(name, schema, description):
    return event_type(PRODUCER, name, schema, description)


UNIT_CREATED = _declare("unit_created", UnitData, "A business unit was added to the tree.")
UNIT_RENAMED = _declare("unit_renamed", UnitRenamedData, "A unit got a new name.")
UNIT_MOVED = _declare("unit_moved", UnitMovedData, "A unit moved under another parent.")
UNIT_CLOSED = _declare("unit_closed", UnitClosedData, "A unit was closed.")
UNION_ESTABLISHED = _declare("union_established", UnionData,
                             "A union (company, grassroots or group) was set up in a unit.")
UNION_CLOSED = _declare("union_closed", UnionData, "A union was dissolved.")
MEMBER_JOINED = _declare("member_joined", MemberData, "A worker joined the union.")
MEMBER_UPDATED = _declare("member_updated", MemberData,
                          "A member's unit or contact details changed.")
MEMBER_LEFT = _declare("member_left", MemberData, "A member left the union.")
ROLE_ASSIGNED = _declare("role_assigned", RoleData,
                         "A member took a role (chair, vice-chair, committee member, cadre).")
ROLE_ENDED = _declare("role_ended", RoleData, "A member's role ended.")
TERM_STARTED = _declare("term_started", TermData, "A union's term of office began.")
TERM_EXPIRING = _declare("term_expiring", TermReminderData,
                         "A term ends in 90 or 30 days: the election (换届) is due.")
TERM_EXPIRED = _declare("term_expired", TermReminderData,
                        "A term ended with no election recorded.")
ELECTION_RECORDED = _declare("election_recorded", ElectionData,
                             "An election closed a term, opened the next and seated a committee.")
TRAINING_RECORDED = _declare("training_recorded", TrainingData, "A cadre training took place.")
FIELD_VISIT_RECORDED = _declare("field_visit_recorded", FieldVisitData,
                                "A symposium, visit or heart-to-heart talk was recorded.")
MEETING_RECORDED = _declare("meeting_recorded", MeetingData,
                            "A meeting that sets the union's work was recorded with its tasks.")
ACTION_ITEM_CREATED = _declare("action_item_created", ActionItemData,
                               "A follow-up action or meeting task was assigned to a unit.")
ACTION_ITEM_CLOSED = _declare("action_item_closed", ActionItemData,
                              "A follow-up action or meeting task was closed.")
FOLLOW_UP_OVERDUE = _declare("follow_up_overdue", FollowUpOverdueData,
                             "A field visit's follow-up action passed its due date unclosed: "
                             "its owner unit is reminded and the union above it told, once "
                             "per action.")
REGULATION_DRAFTED = _declare("regulation_drafted", RegulationData, "A regulation was drafted.")
REGULATION_ISSUED = _declare("regulation_issued", RegulationData, "A regulation was issued.")
REGULATION_REVISED = _declare("regulation_revised", RegulationData,
                              "A regulation got a new version.")
REGULATION_REPEALED = _declare("regulation_repealed", RegulationData,
                               "A regulation was repealed.")
