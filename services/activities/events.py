"""The activities service's events: a public contract (see docs/asyncapi.yaml).

Payloads carry enough to act on without calling back: ids *and* names, the organiser unit,
dates and times, and for reminders the recipients' member ids and unit ids. Check-up events
carry when and by whom, never any medical detail.
"""

from marshmallow import Schema, fields

from gonghui.events import event_type

PRODUCER = "activities"


def _ids(**kwargs):
    return fields.List(fields.Integer(), required=True, **kwargs)


class GoalData(Schema):
    goal_id = fields.Integer(required=True)
    description = fields.String(required=True)
    metric = fields.String(required=True)
    target = fields.Float(required=True)


class CampaignData(Schema):
    campaign_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    theme = fields.String(required=True)
    year = fields.Integer(required=True)
    organiser_unit_id = fields.Integer(required=True)
    organiser_unit_name = fields.String(required=True)
    goals = fields.List(fields.Nested(GoalData), required=True)


class ActivityRef(Schema):
    activity_id = fields.Integer(required=True)
    activity_name = fields.String(required=True)
    kind = fields.String(required=True)
    topic = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True)
    organiser_unit_id = fields.Integer(required=True)
    organiser_unit_name = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    held_on = fields.Date(required=True)
    place = fields.String(allow_none=True)
    facility_id = fields.Integer(allow_none=True)
    facility_name = fields.String(allow_none=True)


class ActivityData(ActivityRef):
    capacity = fields.Integer(allow_none=True)
    audience = fields.String(required=True)
    audience_unit_id = fields.Integer(allow_none=True)
    audience_role = fields.String(allow_none=True)


class ActivityCancelledData(ActivityRef):
    reason = fields.String(required=True)
    recipient_member_ids = _ids()
    recipient_unit_ids = _ids()


class SignupData(ActivityRef):
    member_id = fields.Integer(required=True)
    member_name = fields.String(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    status = fields.String(required=True)
    waitlist_position = fields.Integer(allow_none=True)


class SignupCancelledData(SignupData):
    promoted_member_id = fields.Integer(allow_none=True)


class AttendanceData(ActivityRef):
    member_ids = _ids()
    unit_ids = _ids()
    attended = fields.Integer(required=True)


class AmountRaisedData(ActivityRef):
    amount_raised = fields.String(required=True)  # yuan, two decimals, e.g. "3860.00"


class UpcomingData(ActivityRef):
    as_of = fields.Date(required=True)
    recipient_member_ids = _ids()
    recipient_unit_ids = _ids()


class FacilityData(Schema):
    facility_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    opened_on = fields.Date(required=True)
    closed_on = fields.Date(allow_none=True)
    reason = fields.String(allow_none=True)


class CheckupData(Schema):
    checkup_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    member_name = fields.String(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    year = fields.Integer(required=True)
    checked_on = fields.Date(required=True)
    provider = fields.String(required=True)


class CheckupMissingData(Schema):
    year = fields.Integer(required=True)
    as_of = fields.Date(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    recipient_member_ids = _ids()
    recipient_unit_ids = _ids()


class ScheduleData(Schema):
    schedule_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    campaign_name = fields.String(allow_none=True)
    frequency = fields.String(required=True)
    weekday = fields.Integer(allow_none=True)
    time_of_day = fields.Time(allow_none=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)
    place = fields.String(allow_none=True)


class ParticipationData(Schema):
    schedule_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    unit_id = fields.Integer(required=True)
    unit_name = fields.String(allow_none=True)
    held_on = fields.Date(required=True)
    member_ids = _ids()
    unit_ids = _ids()


class DirectoryResyncedData(Schema):
    units = fields.Integer(required=True)
    unions = fields.Integer(required=True)
    members = fields.Integer(required=True)
    roles = fields.Integer(required=True)
    roles_ended = fields.Integer(required=True)


def _declare(name, schema, description):
    return event_type(PRODUCER, name, schema, description)


CAMPAIGN_CREATED = _declare("campaign_created", CampaignData,
                            "A campaign of the year was set up with its measured goals.")
CAMPAIGN_GOAL_ADDED = _declare("campaign_goal_added", CampaignData,
                               "A measured goal was added to a campaign (all its goals).")
ACTIVITY_SCHEDULED = _declare("activity_scheduled", ActivityData,
                              "An activity was scheduled (kind, time, place, audience).")
ACTIVITY_CANCELLED = _declare("activity_cancelled", ActivityCancelledData,
                              "The organiser cancelled an activity: tell everyone signed up.")
SIGNUP_CONFIRMED = _declare("signup_confirmed", SignupData, "A member got a place.")
SIGNUP_WAITLISTED = _declare("signup_waitlisted", SignupData,
                             "The activity was full: the member is on the waiting list.")
SIGNUP_PROMOTED = _declare("signup_promoted", SignupData,
                           "A place came free: the next member in line got it.")
SIGNUP_CANCELLED = _declare("signup_cancelled", SignupCancelledData,
                            "A member cancelled their sign-up (and who was promoted).")
ATTENDANCE_RECORDED = _declare("attendance_recorded", AttendanceData,
                               "Members attended an activity (what the figures count).")
AMOUNT_RAISED_RECORDED = _declare("amount_raised_recorded", AmountRaisedData,
                                  "The amount a donation drive raised (yuan).")
ACTIVITY_UPCOMING = _declare("activity_upcoming", UpcomingData,
                             "Reminder, the working day before, to those signed up.")
FACILITY_OPENED = _declare("facility_opened", FacilityData,
                           "A sports venue, staff library, reading corner or mobile bookshelf "
                           "opened.")
FACILITY_CLOSED = _declare("facility_closed", FacilityData, "A facility closed.")
CHECKUP_RECORDED = _declare("checkup_recorded", CheckupData,
                            "A member's annual check-up was recorded (no medical details).")
CHECKUP_MISSING = _declare("checkup_missing", CheckupMissingData,
                           "Reminder, in the last quarter, to members of a unit still missing "
                           "the year's check-up; each member once a year.")
RECURRING_SCHEDULE_CREATED = _declare("recurring_schedule_created", ScheduleData,
                                      "A unit set up a recurring activity (e.g. daily "
                                      "workplace exercise) on working days.")
RECURRING_SCHEDULE_ENDED = _declare("recurring_schedule_ended", ScheduleData,
                                    "A recurring activity ended.")
PARTICIPATION_RECORDED = _declare("participation_recorded", ParticipationData,
                                  "Members took part in one session of a recurring activity.")
DIRECTORY_RESYNCED = _declare("directory_resynced", DirectoryResyncedData,
                              "The local copy of organization's directory was pulled afresh.")
