"""Routes to activities: the all-staff campaigns and their goals, activities with sign-ups
(a member signs themselves up or off), attendance, recurring sessions and their
participation, facilities, check-ups, the figures, and activities' audit trail.

What every member may read (campaigns, activities, facilities, recurring sessions, check-up
coverage, which names nobody) is ``MEMBERS``; what a union office does or sees with names
(scheduling, sign-up lists, attendance, who is missing a check-up, the figures of its
subtree) is ``OFFICE`` of the organising unit, looked up from the record the path names."""

from gonghui.audit import AuditHistory, AuditQuery
from services.activities import schemas as s
from services.gateway.policy import AUDIT, MEMBERS, OFFICE, SELF
from services.gateway.routing import arg, lookup, member_unit, read, write

CAMPAIGNS, ACTIVITIES, SIGNUPS, RECURRING, FACILITIES, CHECKUPS = (
    "campaigns", "activities", "sign-ups", "recurring", "facilities", "check-ups")

# The unit a record belongs to, asked of activities before the policy decides.
CAMPAIGN_UNIT = lookup("activities.get_campaign", "campaign_id", "organiser_unit_id")
ACTIVITY_UNIT = lookup("activities.get_activity", "activity_id", "organiser_unit_id")
SCHEDULE_UNIT = lookup("activities.get_recurring", "schedule_id", "unit_id")
FACILITY_UNIT = lookup("activities.get_facility", "facility_id", "unit_id")

ROUTES = [
    # ------------------------------------------------------------ campaigns and goals
    read("/campaigns", "activities.list_campaigns", MEMBERS, args=s.ListCampaigns,
         result=s.CampaignOut, paged=True, tag=CAMPAIGNS,
         summary="Campaigns of a year (全民健康, 全民健身, 全民阅读 …)"),
    write("POST", "/campaigns", "activities.create_campaign", OFFICE,
          unit=arg("organiser_unit_id"), args=s.CreateCampaign, result=s.CampaignOut,
          status=201, tag=CAMPAIGNS, summary="Start a campaign of my union, with its goals"),
    read("/campaigns/<int:campaign_id>", "activities.get_campaign", MEMBERS,
         args=s.CampaignId, result=s.CampaignOut, tag=CAMPAIGNS,
         summary="A campaign with its goals"),
    write("POST", "/campaigns/<int:campaign_id>/goals", "activities.add_goal", OFFICE,
          unit=CAMPAIGN_UNIT, args=s.AddGoal, result=s.CampaignOut, status=201,
          tag=CAMPAIGNS, summary="Add a measured goal to a campaign"),
    read("/campaigns/<int:campaign_id>/progress", "activities.campaign_progress", MEMBERS,
         args=s.CampaignProgress, result=s.CampaignProgressOut, tag=CAMPAIGNS,
         summary="Each goal of a campaign measured: actual, target, met"),
    # ------------------------------------------------------------ activities
    read("/activities", "activities.list_activities", MEMBERS, unit=arg("unit_id"),
         args=s.ListActivities, result=s.ActivityOut, paged=True, tag=ACTIVITIES,
         summary="Activities by date, campaign, kind, organiser subtree"),
    write("POST", "/activities", "activities.schedule_activity", OFFICE,
          unit=arg("organiser_unit_id"), also=(arg("audience_unit_id"),),
          args=s.ScheduleActivity, result=s.ActivityOut, status=201, tag=ACTIVITIES,
          summary="Schedule an activity of my union (for all staff, a subtree of mine, "
          "women workers or a role's holders)"),
    read("/activities/<int:activity_id>", "activities.get_activity", MEMBERS,
         args=s.ActivityId, result=s.ActivityOut, tag=ACTIVITIES,
         summary="An activity with its confirmed, waiting and attended counts"),
    write("POST", "/activities/<int:activity_id>/cancel", "activities.cancel_activity",
          OFFICE, unit=ACTIVITY_UNIT, args=s.CancelActivity, result=s.ActivityOut,
          tag=ACTIVITIES, summary="Cancel an activity (everyone signed up is told)"),
    write("PUT", "/activities/<int:activity_id>/amount-raised",
          "activities.record_amount_raised", OFFICE, unit=ACTIVITY_UNIT,
          args=s.RecordAmountRaised, result=s.ActivityOut, tag=ACTIVITIES,
          summary="The amount a donation drive (爱心募捐) raised"),
    # ------------------------------------------------------------ sign-ups
    read("/activities/<int:activity_id>/signups", "activities.list_signups", OFFICE,
         unit=ACTIVITY_UNIT, args=s.ActivityId, result=s.SignupOut, many=True, tag=SIGNUPS,
         summary="Who signed up, in arrival order, with waiting-list places"),
    write("POST", "/activities/<int:activity_id>/signups", "activities.sign_up", SELF,
          self_member="member_id", args=s.MemberSignup, result=s.SignupOut, status=201,
          tag=SIGNUPS, summary="Sign me up (confirmed while places are left, else on the "
          "waiting list)"),
    read("/me/signups", "activities.member_signups", SELF, self_member="member_id",
         args=s.MemberSignups, result=s.MySignupOut, paged=True, tag=SIGNUPS,
         summary="My sign-ups, confirmed and waiting (with my place), the latest first"),
    write("DELETE", "/activities/<int:activity_id>/signups/me", "activities.cancel_signup",
          SELF, self_member="member_id", args=s.MemberSignup, result=s.CancelSignupOut,
          tag=SIGNUPS, summary="Withdraw my sign-up (the first waiting gets my place)"),
    # ------------------------------------------------------------ attendance
    read("/activities/<int:activity_id>/attendance", "activities.list_attendance", OFFICE,
         unit=ACTIVITY_UNIT, args=s.ActivityId, result=s.AttendeeOut, many=True,
         tag=ACTIVITIES, summary="Who attended an activity"),
    write("POST", "/activities/<int:activity_id>/attendance", "activities.record_attendance",
          OFFICE, unit=ACTIVITY_UNIT, args=s.RecordAttendance, result=s.AttendanceOut,
          tag=ACTIVITIES, summary="Record who attended (signed up or not)"),
    # ------------------------------------------------------------ recurring sessions
    read("/recurring", "activities.list_recurring", MEMBERS, unit=arg("unit_id"),
         args=s.ListRecurring, result=s.ScheduleOut, paged=True, tag=RECURRING,
         summary="Recurring activities (工间操, reading clubs) of a subtree"),
    write("POST", "/recurring", "activities.create_recurring", OFFICE, unit=arg("unit_id"),
          args=s.CreateRecurring, result=s.ScheduleOut, status=201, tag=RECURRING,
          summary="Start a recurring activity of a unit (working days only)"),
    read("/recurring/<int:schedule_id>", "activities.get_recurring", MEMBERS,
         args=s.ScheduleId, result=s.ScheduleOut, tag=RECURRING,
         summary="A recurring activity"),
    write("POST", "/recurring/<int:schedule_id>/end", "activities.end_recurring", OFFICE,
          unit=SCHEDULE_UNIT, args=s.EndRecurring, result=s.ScheduleOut, tag=RECURRING,
          summary="End a recurring activity"),
    read("/recurring/<int:schedule_id>/occurrences", "activities.occurrences", MEMBERS,
         args=s.ScheduleOccurrences, result=s.OccurrenceOut, many=True, tag=RECURRING,
         summary="The days a recurring activity meets and how many took part"),
    write("POST", "/recurring/<int:schedule_id>/participation",
          "activities.record_participation", OFFICE, unit=SCHEDULE_UNIT,
          args=s.RecordParticipation, result=s.ParticipationOut, tag=RECURRING,
          summary="Record who took part in one session"),
    # ------------------------------------------------------------ facilities
    read("/facilities", "activities.list_facilities", MEMBERS, unit=arg("unit_id"),
         args=s.ListFacilities, result=s.FacilityOut, paged=True, tag=FACILITIES,
         summary="Sports venues, staff libraries, reading corners, mobile bookshelves"),
    write("POST", "/facilities", "activities.open_facility", OFFICE, unit=arg("unit_id"),
          args=s.OpenFacility, result=s.FacilityOut, status=201, tag=FACILITIES,
          summary="A unit's facility opens"),
    read("/facilities/<int:facility_id>", "activities.get_facility", MEMBERS,
         args=s.FacilityId, result=s.FacilityOut, tag=FACILITIES, summary="A facility"),
    write("POST", "/facilities/<int:facility_id>/close", "activities.close_facility", OFFICE,
          unit=FACILITY_UNIT, args=s.CloseFacility, result=s.FacilityOut, tag=FACILITIES,
          summary="A facility closes"),
    # ------------------------------------------------------------ check-ups
    write("POST", "/checkups", "activities.record_checkup", OFFICE,
          unit=member_unit("member_id"), args=s.RecordCheckup, result=s.CheckupOut,
          status=201, tag=CHECKUPS, summary="Record a member's annual check-up (when and "
          "by whom, never what it found)"),
    read("/checkups/coverage", "activities.checkup_coverage", MEMBERS, unit=arg("unit_id"),
         args=s.CheckupCoverageQuery, result=s.CheckupCoverageOut, tag=CHECKUPS,
         summary="Check-up coverage of a year per unit (counts, no names)"),
    read("/checkups/missing", "activities.missing_checkups", OFFICE, unit=arg("unit_id"),
         scope="unit_id", args=s.MissingCheckupsQuery, result=s.MissingMemberOut,
         many=True, tag=CHECKUPS, summary="Members of my subtree still missing the year's "
         "check-up"),
    # ------------------------------------------------------------ figures, audit trail
    read("/figures", "activities.figures", OFFICE, unit=arg("unit_id"), scope="unit_id",
         args=s.FiguresQuery, result=s.FiguresOut, tag="figures",
         summary="The figures of a period for my subtree"),
    read("/audit/activities/<entity_type>/<entity_id>", "activities.audit_history", AUDIT,
         args=AuditQuery, result=AuditHistory, tag="audit",
         summary="Who changed a record of activities, and what"),
]
