"""Schemas of the activities service's RPC arguments and results."""

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from gonghui.clock import CHINA
from gonghui.schemas import Arguments, AsOf, Id, OneOf, Page, Text, Tick  # noqa: F401 - Tick is used as s.Tick
from services.activities import rules

YEAR = validate.Range(min=2000, max=2100)


def Year(**kwargs):  # noqa: N802 - reads like a field type
    return fields.Integer(strict=True, validate=YEAR, **kwargs)


def Moment(**kwargs):  # noqa: N802
    """A point in time; one given without an offset is taken as China time."""
    return fields.AwareDateTime(format="iso", default_timezone=CHINA, **kwargs)


def MemberIds(**kwargs):  # noqa: N802
    return fields.List(Id(), validate=validate.Length(min=1, max=5000), **kwargs)


# ----------------------------------------------------------------- arguments


class NewGoal(Arguments):
    description = Text(500, required=True)
    metric = OneOf(tuple(rules.GOAL_METRICS), required=True)
    target = fields.Float(required=True, validate=validate.Range(min=0, max=1_000_000))
    facility_kinds = fields.List(OneOf(rules.FACILITY_KINDS), load_default=list)
    activity_kinds = fields.List(OneOf(rules.ACTIVITY_KINDS), load_default=list)
    topic = Text(60, load_default=None, allow_none=True)
    union_level = OneOf(rules.UNION_LEVELS, load_default="grassroots_union")

    @validates_schema
    def metric_needs(self, data, **kwargs):
        metric = data.get("metric")
        if metric in rules.RATIO_METRICS and data.get("target", 0) > 1:
            raise SchemaError("a share is between 0 and 1", "target")
        if metric in ("units_with_facility", "facilities_opened") and not data.get(
                "facility_kinds"):
            raise SchemaError("name the facility kinds this goal counts", "facility_kinds")


class CreateCampaign(Arguments):
    code = fields.String(required=True, validate=[
        validate.Length(min=1, max=40),
        validate.Regexp(r"^[a-z0-9_\-]+$", error="lower-case letters, digits, - and _")])
    name = Text(required=True)
    theme = OneOf(rules.THEMES, required=True)
    year = Year(required=True)
    organiser_unit_id = Id(required=True)
    description = Text(2000, load_default=None, allow_none=True)
    goals = fields.List(fields.Nested(NewGoal), load_default=list,
                        validate=validate.Length(max=20))


class CampaignId(Arguments):
    campaign_id = Id(required=True)


class AddGoal(NewGoal):
    campaign_id = Id(required=True)


class ListCampaigns(Page):
    year = Year(load_default=None)
    theme = OneOf(rules.THEMES, load_default=None)


class CampaignProgress(CampaignId):
    as_of = AsOf()


class ScheduleActivity(Arguments):
    campaign_id = Id(load_default=None, allow_none=True)
    kind = OneOf(rules.ACTIVITY_KINDS, required=True)
    topic = Text(60, load_default=None, allow_none=True)
    name = Text(required=True)
    description = Text(5000, load_default=None, allow_none=True)
    organiser_unit_id = Id(required=True)
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    place = Text(load_default=None, allow_none=True)
    facility_id = Id(load_default=None, allow_none=True)
    capacity = fields.Integer(strict=True, load_default=None, allow_none=True,
                              validate=validate.Range(min=1, max=100_000))
    audience = OneOf(rules.AUDIENCES, load_default="all_staff")
    audience_unit_id = Id(load_default=None, allow_none=True)
    audience_role = OneOf(rules.OFFICER_ROLES, load_default=None, allow_none=True)

    @validates_schema
    def consistent(self, data, **kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise SchemaError("must be after starts_at", "ends_at")
        if data.get("audience") == "subtree" and not data.get("audience_unit_id"):
            raise SchemaError("a subtree audience names its unit", "audience_unit_id")
        if data.get("audience") == "role" and not data.get("audience_role"):
            raise SchemaError("a role audience names the role", "audience_role")
        if data.get("audience") != "role" and data.get("audience_role"):
            raise SchemaError("only for a role audience", "audience_role")


class ActivityId(Arguments):
    activity_id = Id(required=True)


class CancelActivity(ActivityId):
    reason = Text(2000, required=True)


class Period(Arguments):
    date_from = fields.Date(load_default=None, allow_none=True)
    date_to = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise SchemaError("must not be before date_from", "date_to")


class ListActivities(Period, Page):
    campaign_id = Id(load_default=None)
    kind = OneOf(rules.ACTIVITY_KINDS, load_default=None)
    unit_id = Id(load_default=None)
    status = OneOf(("scheduled", "cancelled"), load_default=None)


class MemberSignup(ActivityId):
    member_id = Id(required=True)


class MemberSignups(Page):
    member_id = Id(required=True)


class RecordAttendance(ActivityId):
    member_ids = MemberIds(required=True)


class RecordAmountRaised(ActivityId):
    amount_raised = fields.Decimal(places=2, required=True,
                                   validate=validate.Range(0, 10**11),
                                   metadata={"description": "yuan"})


class OpenFacility(Arguments):
    unit_id = Id(required=True)
    kind = OneOf(rules.FACILITY_KINDS, required=True)
    name = Text(required=True)
    location = Text(load_default=None, allow_none=True)
    capacity = fields.Integer(strict=True, load_default=None, allow_none=True,
                              validate=validate.Range(min=1, max=100_000))
    opened_on = AsOf()


class FacilityId(Arguments):
    facility_id = Id(required=True)


class CloseFacility(FacilityId):
    closed_on = AsOf()
    reason = Text(2000, required=True)


class ListFacilities(Page):
    unit_id = Id(load_default=None)
    kind = OneOf(rules.FACILITY_KINDS, load_default=None)
    status = OneOf(("open", "closed"), load_default=None)


class CreateRecurring(Arguments):
    unit_id = Id(required=True)
    campaign_id = Id(load_default=None, allow_none=True)
    kind = OneOf(rules.RECURRING_KINDS, required=True)
    name = Text(required=True)
    frequency = OneOf(rules.FREQUENCIES, required=True)
    weekday = fields.Integer(strict=True, load_default=None, allow_none=True,
                             validate=validate.Range(min=0, max=6))
    time_of_day = fields.Time(load_default=None, allow_none=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    place = Text(load_default=None, allow_none=True)
    facility_id = Id(load_default=None, allow_none=True)

    @validates_schema
    def consistent(self, data, **kwargs):
        if data.get("frequency") == "weekly" and data.get("weekday") is None:
            raise SchemaError("a weekly schedule names its weekday (0 = Monday)", "weekday")
        if data.get("frequency") == "daily" and data.get("weekday") is not None:
            raise SchemaError("a daily schedule meets every working day", "weekday")
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise SchemaError("must not be before starts_on", "ends_on")


class ScheduleId(Arguments):
    schedule_id = Id(required=True)


class EndRecurring(ScheduleId):
    ends_on = AsOf()


class ScheduleOccurrences(ScheduleId, Period):
    pass


class ListRecurring(Page):
    unit_id = Id(load_default=None)
    kind = OneOf(rules.RECURRING_KINDS, load_default=None)
    active_on = fields.Date(load_default=None)


class RecordParticipation(ScheduleId):
    held_on = fields.Date(required=True)
    member_ids = MemberIds(required=True)


class RecordCheckup(Arguments):
    """When and by whom only: any other field (a result, a diagnosis) is refused."""

    member_id = Id(required=True)
    checked_on = fields.Date(required=True)
    provider = Text(required=True)


class CheckupCoverageQuery(Arguments):
    year = Year(required=True)
    unit_id = Id(load_default=None)


class MissingCheckupsQuery(Arguments):
    year = Year(required=True)
    unit_id = Id(required=True)


class FiguresQuery(Period):
    unit_id = Id(load_default=None)


# ------------------------------------------------------------------- results


class GoalOut(Schema):
    id = fields.Integer()
    description = fields.String()
    metric = fields.String()
    target = fields.Float()
    params = fields.Dict()


class CampaignOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    theme = fields.String()
    year = fields.Integer()
    organiser_unit_id = fields.Integer()
    description = fields.String(allow_none=True)
    goals = fields.List(fields.Nested(GoalOut))


class GoalProgressOut(GoalOut):
    actual = fields.Float()
    met = fields.Boolean()
    progress = fields.Float()


class CampaignProgressOut(Schema):
    campaign_id = fields.Integer()
    name = fields.String()
    year = fields.Integer()
    date_from = fields.Date()
    date_to = fields.Date()
    unit_id = fields.Integer()
    activities_held = fields.Integer()
    participants = fields.Integer()
    goals = fields.List(fields.Nested(GoalProgressOut))
    goals_met = fields.Integer()


class ActivityOut(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    kind = fields.String()
    topic = fields.String(allow_none=True)
    name = fields.String()
    description = fields.String(allow_none=True)
    organiser_unit_id = fields.Integer()
    starts_at = fields.AwareDateTime(format="iso")
    ends_at = fields.AwareDateTime(format="iso")
    held_on = fields.Date()
    place = fields.String(allow_none=True)
    facility_id = fields.Integer(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    audience = fields.String()
    audience_unit_id = fields.Integer(allow_none=True)
    audience_role = fields.String(allow_none=True)
    status = fields.String()
    cancel_reason = fields.String(allow_none=True)
    amount_raised = fields.Decimal(places=2, as_string=True, allow_none=True)
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    attended = fields.Integer()


class SignupOut(Schema):
    activity_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    unit_id = fields.Integer()
    status = fields.String()
    seq = fields.Integer()
    waitlist_position = fields.Integer(allow_none=True)
    signed_up_at = fields.AwareDateTime(format="iso")


class MySignupOut(SignupOut):
    """A member's sign-up with the activity it is for."""

    activity_name = fields.String()
    starts_at = fields.AwareDateTime(format="iso")
    place = fields.String(allow_none=True)
    activity_status = fields.String()


class CancelSignupOut(Schema):
    activity_id = fields.Integer()
    member_id = fields.Integer()
    status = fields.String()
    promoted_member_id = fields.Integer(allow_none=True)


class AttendeeOut(Schema):
    member_id = fields.Integer()
    member_unit_id = fields.Integer()
    recorded_at = fields.AwareDateTime(format="iso")


class AttendanceOut(Schema):
    activity_id = fields.Integer()
    added = fields.Integer()
    attended = fields.Integer()


class FacilityOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    location = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    opened_on = fields.Date()
    status = fields.String()
    closed_on = fields.Date(allow_none=True)
    closing_reason = fields.String(allow_none=True)


class ScheduleOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    kind = fields.String()
    name = fields.String()
    frequency = fields.String()
    weekday = fields.Integer(allow_none=True)
    time_of_day = fields.Time(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    place = fields.String(allow_none=True)
    facility_id = fields.Integer(allow_none=True)


class OccurrenceOut(Schema):
    held_on = fields.Date()
    participants = fields.Integer()


class ParticipationOut(Schema):
    schedule_id = fields.Integer()
    held_on = fields.Date()
    added = fields.Integer()
    participants = fields.Integer()


class CheckupOut(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    year = fields.Integer()
    checked_on = fields.Date()
    provider = fields.String()
    unit_id = fields.Integer()


class UnitCoverageOut(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String(allow_none=True)
    members = fields.Integer()
    checked = fields.Integer()
    coverage = fields.Float()


class CheckupCoverageOut(Schema):
    year = fields.Integer()
    unit_id = fields.Integer(allow_none=True)
    members = fields.Integer()
    checked = fields.Integer()
    coverage = fields.Float()
    by_unit = fields.List(fields.Nested(UnitCoverageOut))


class MissingMemberOut(Schema):
    member_id = fields.Integer()
    employee_no = fields.String()
    name = fields.String()
    unit_id = fields.Integer()
    unit_name = fields.String(allow_none=True)


class UnitRefOut(Schema):
    unit_id = fields.Integer()
    unit_name = fields.String(allow_none=True)


class ActivityFigure(Schema):
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True)
    kind = fields.String()
    activities = fields.Integer()
    participants = fields.Integer()
    attendances = fields.Integer()


class CampaignFigure(Schema):
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True)
    activities = fields.Integer()
    participants = fields.Integer()
    attendances = fields.Integer()


class RecurringFigure(Schema):
    kind = fields.String()
    schedules = fields.Integer()
    occurrences = fields.Integer()
    participations = fields.Integer()
    participants = fields.Integer()


class FacilityFigure(Schema):
    kind = fields.String()
    open = fields.Integer()
    opened = fields.Integer()


class DailyExerciseFigure(Schema):
    count = fields.Integer()
    units = fields.List(fields.Nested(UnitRefOut))


class CheckupFigure(Schema):
    members = fields.Integer()
    checked = fields.Integer()
    coverage = fields.Float()


class TotalsFigure(Schema):
    activities = fields.Integer()
    participants = fields.Integer()
    attendances = fields.Integer()
    members = fields.Integer()
    members_reached = fields.Integer()
    reach = fields.Float()


class DonationFigure(Schema):
    drives = fields.Integer()
    amount_raised = fields.Decimal(places=2, as_string=True)


class HeadlineFigure(Schema):
    sports_venues = fields.Integer()
    sports_events = fields.Integer()
    units_with_daily_exercise = fields.Integer()
    libraries_and_reading_corners = fields.Integer()
    mobile_bookshelves = fields.Integer()
    reading_sessions = fields.Integer()
    mental_health_lectures = fields.Integer()
    womens_health_activities = fields.Integer()
    checkup_coverage = fields.Float()


class FiguresOut(Schema):
    date_from = fields.Date()
    date_to = fields.Date()
    unit_id = fields.Integer(allow_none=True)
    unit_name = fields.String(allow_none=True)
    units = fields.Integer()
    activities = fields.List(fields.Nested(ActivityFigure))
    by_campaign = fields.List(fields.Nested(CampaignFigure))
    totals = fields.Nested(TotalsFigure)
    recurring = fields.List(fields.Nested(RecurringFigure))
    facilities = fields.List(fields.Nested(FacilityFigure))
    units_with_daily_exercise = fields.Nested(DailyExerciseFigure)
    checkups = fields.Nested(CheckupFigure)
    donations = fields.Nested(DonationFigure)
    mental_health_lectures = fields.Integer()
    units_without_activity = fields.List(fields.Nested(UnitRefOut))
    headline = fields.Nested(HeadlineFigure)


class TickOut(Schema):
    as_of = fields.Date()
    activity_upcoming = fields.Integer()
    checkup_missing = fields.Integer()
    members_reminded = fields.Integer()

