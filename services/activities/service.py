"""The activities service: the all-staff campaigns — health (全民健康), fitness (全民健身) and
reading (全民阅读) — with their measured goals; activities with sign-ups, a waiting list and
attendance; recurring activities such as daily workplace exercise (工间操); facilities (sports
venues, staff libraries 职工书屋, reading corners 读书角, mobile bookshelves 流动书架); annual
health check-ups (健康体检); and the figures of any period and subtree.

The class is the table of contents: each entrypoint's arguments are validated by its schema
(``schemas.py``), and it delegates to the module of its sub-domain, which does the work in
the worker's one transaction (every change with its event and audit row):

- ``campaigns.py``: campaigns and their measured goals;
- ``activities.py``: activities and sign-ups, the waiting list, the reminder the day before;
- ``attendance.py``: attendance and recurring sessions (working days only) with participation;
- ``facilities.py`` and ``checkups.py``: facilities; check-ups, coverage and reminders;
- ``figures.py``: the figures of a period and subtree, and the measure of each goal.

Beside them: the rules in plain Python (``rules.py``, state changes as tables), the
questions to the database (``queries.py``), the events' data (``payloads.py``), the contract
(``events.py``). The read model of organization's union tree is the kit's
(``gonghui.directory``, kept from organization's events, so audiences and coverage never call
organization), with activities' own questions of it in ``tree.py``.
"""

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import MEMBER_ACTS, OFFICE_KINDS
from gonghui.audit import RESYNC_ENTITY
from gonghui.clock import today
from gonghui.daily import begin_day
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, Forbidden, NotFound
from gonghui.rpc_client import ServiceRpc
from services.activities import (
    activities,
    attendance,
    campaigns,
    checkups,
    events,
    facilities,
    figures,
    tree,
)
from services.activities import schemas as s
from services.organization import events as org_events

# Who may see who signed up for or attended an activity: the offices, the platform and
# auditors, never a member's actor.
OFFICE_READS = (*OFFICE_KINDS, "auditor")


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class ActivitiesService(directory.tree_handlers(org_events), kit.DailyTimer, kit.ServiceBase):
    name = "activities"
    tick_name = "activities.tick"

    calendar = kit.WorkingDays()
    organization = ServiceRpc("organization")

    # ------------------------------------------------------------ the tree's read model

    def directory_resyncing(self):
        return tree.roles_held(self.db, today())

    def directory_resynced(self, counts, actor, before):
        """After every resync: the event (whose audit row is the resync's), counting the
        roles held today before it that it found no longer held."""
        roles_ended = len(before - tree.roles_held(self.db, today()))
        self.emit(events.DIRECTORY_RESYNCED, {
            **{key: counts[key] for key in ("units", "unions", "members", "roles")},
            "roles_ended": roles_ended}, RESYNC_ENTITY, actor=actor)

    # ------------------------------------------------------------ campaigns

    @rpc(args=s.CreateCampaign, result=s.CampaignOut, writes=True, errors=(NotFound, Conflict))
    def create_campaign(self, code, name, theme, year, organiser_unit_id, description, goals):
        """A campaign of the year (e.g. code ``reading``, 全民阅读) run by a unit's union, with
        goals that are measured from the data (see ``campaign_progress``)."""
        return campaigns.create_campaign(self, code, name, theme, year, organiser_unit_id,
                                         description, goals)

    @rpc(args=s.AddGoal, result=s.CampaignOut, writes=True, errors=(NotFound,))
    def add_goal(self, campaign_id, **goal):
        """Add a measured goal to a campaign, e.g. "a reading corner in every grassroots
        union" (``units_with_facility``)."""
        return campaigns.add_goal(self, campaign_id, goal)

    @rpc(args=s.CampaignId, result=s.CampaignOut, errors=(NotFound,))
    def get_campaign(self, campaign_id):
        """A campaign with its goals."""
        return campaigns.get_campaign(self, campaign_id)

    @rpc(args=s.ListCampaigns, result=s.CampaignOut, many=True)
    def list_campaigns(self, year, theme, limit, offset):
        """Campaigns by year, optionally of one theme (health, fitness, reading, other)."""
        return campaigns.list_campaigns(self, year, theme, limit, offset)

    @rpc(args=s.CampaignProgress, result=s.CampaignProgressOut, errors=(NotFound,))
    def campaign_progress(self, campaign_id, as_of):
        """Each goal of the campaign measured over its year up to ``as_of``, in the subtree
        of the organiser unit: actual value, target, met or not."""
        return campaigns.progress(self, campaign_id, as_of)

    # ------------------------------------------------------------ facilities

    @rpc(args=s.OpenFacility, result=s.FacilityOut, writes=True, errors=(NotFound, Conflict))
    def open_facility(self, unit_id, kind, name, location, capacity, opened_on):
        """A unit's sports venue, staff library (职工书屋), reading corner (读书角) or mobile
        bookshelf (流动书架) opens."""
        return facilities.open_facility(self, unit_id, kind, name, location, capacity,
                                        opened_on)

    @rpc(args=s.CloseFacility, result=s.FacilityOut, writes=True, errors=(NotFound, Conflict))
    def close_facility(self, facility_id, closed_on, reason):
        """A facility closes (with the reason); activities can no longer take place in it."""
        return facilities.close_facility(self, facility_id, closed_on, reason)

    @rpc(args=s.FacilityId, result=s.FacilityOut, errors=(NotFound,))
    def get_facility(self, facility_id):
        """A facility, open or closed."""
        return facilities.get_facility(self, facility_id)

    @rpc(args=s.ListFacilities, result=s.FacilityOut, many=True, errors=(NotFound,))
    def list_facilities(self, unit_id, kind, status, limit, offset):
        """Facilities of a unit and every unit below it (all units by default)."""
        return facilities.list_facilities(self, unit_id, kind, status, limit, offset)

    # ------------------------------------------------------------ activities and sign-ups

    @rpc(args=s.ScheduleActivity, result=s.ActivityOut, writes=True,
         errors=(NotFound, Conflict))
    def schedule_activity(self, campaign_id, kind, topic, name, description, organiser_unit_id,
                          starts_at, ends_at, place, facility_id, capacity, audience,
                          audience_unit_id, audience_role):
        """An activity — lecture, match, charity visit, donation drive, reading session,
        youth mixer, women workers' health activity (女职工健康活动)… — organised by a unit,
        at a place or in one of the facilities, with an optional capacity (beyond it, a
        waiting list) and an audience: all staff, a unit's subtree, women workers, or the
        holders of a role."""
        return activities.schedule_activity(
            self, campaign_id, kind, topic, name, description, organiser_unit_id, starts_at,
            ends_at, place, facility_id, capacity, audience, audience_unit_id, audience_role)

    @rpc(args=s.CancelActivity, result=s.ActivityOut, writes=True, errors=(NotFound, Conflict))
    def cancel_activity(self, activity_id, reason):
        """The organiser cancels: everyone signed up (or waiting) is told, by the event."""
        return activities.cancel_activity(self, activity_id, reason)

    @rpc(args=s.ActivityId, result=s.ActivityOut, errors=(NotFound,))
    def get_activity(self, activity_id):
        """An activity with its confirmed, waiting and attended counts."""
        return activities.get_activity(self, activity_id)

    @rpc(args=s.ListActivities, result=s.ActivityOut, many=True, errors=(NotFound,))
    def list_activities(self, date_from, date_to, campaign_id, kind, unit_id, status, limit,
                        offset):
        """Activities by date, filtered by campaign, kind, organiser subtree, period."""
        return activities.list_activities(self, date_from, date_to, campaign_id, kind,
                                          unit_id, status, limit, offset)

    @rpc(args=s.RecordAmountRaised, result=s.ActivityOut, writes=True,
         errors=(NotFound, Conflict))
    def record_amount_raised(self, activity_id, amount_raised):
        """The amount a donation drive (爱心募捐) raised, in yuan."""
        return activities.record_amount_raised(self, activity_id, amount_raised)

    @rpc(args=s.MemberSignup, result=s.SignupOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Conflict, Forbidden))
    def sign_up(self, activity_id, member_id):
        """Sign a member up: confirmed while places are left, otherwise on the waiting list
        in arrival order. Refused (Forbidden) for a member outside the audience."""
        return activities.sign_up(self, activity_id, member_id)

    @rpc(args=s.MemberSignup, result=s.CancelSignupOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Conflict, Forbidden))
    def cancel_signup(self, activity_id, member_id):
        """A member withdraws; if they held a place, the first on the waiting list gets it."""
        return activities.cancel_signup(self, activity_id, member_id)

    @rpc(args=s.ActivityId, result=s.SignupOut, many=True, actors=OFFICE_READS,
         errors=(NotFound,))
    def list_signups(self, activity_id):
        """Confirmed and waiting sign-ups in arrival order, with waiting-list positions."""
        return activities.list_signups(self, activity_id)

    @rpc(args=s.MemberSignups, result=s.MySignupOut, many=True,
         actors=(*OFFICE_READS, "member"), errors=(NotFound, Forbidden))
    def member_signups(self, member_id, limit, offset):
        """A member's confirmed and waiting sign-ups with their activities and waiting-list
        places, the latest first; a member reads only their own."""
        return activities.member_signups(self, member_id, limit, offset)

    # ------------------------------------------------------------ attendance and recurring sessions

    @rpc(args=s.RecordAttendance, result=s.AttendanceOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def record_attendance(self, activity_id, member_ids):
        """Members who attended (signed up or not): what the figures count. Recording the
        same member twice changes nothing."""
        return attendance.record_attendance(self, activity_id, member_ids)

    @rpc(args=s.ActivityId, result=s.AttendeeOut, many=True, actors=OFFICE_READS,
         errors=(NotFound,))
    def list_attendance(self, activity_id):
        """Who attended an activity, with their unit when it was recorded."""
        return attendance.list_attendance(self, activity_id)

    @rpc(args=s.CreateRecurring, result=s.ScheduleOut, writes=True, errors=(NotFound, Conflict))
    def create_recurring(self, unit_id, campaign_id, kind, name, frequency, weekday,
                         time_of_day, starts_on, ends_on, place, facility_id):
        """A unit's recurring activity — daily workplace exercise (工间操) or a weekly
        reading club — meeting on working days (Chinese calendar) only."""
        return attendance.create_recurring(self, unit_id, campaign_id, kind, name, frequency,
                                           weekday, time_of_day, starts_on, ends_on, place,
                                           facility_id)

    @rpc(args=s.EndRecurring, result=s.ScheduleOut, writes=True, errors=(NotFound, Conflict))
    def end_recurring(self, schedule_id, ends_on):
        """End a recurring activity; no session after ``ends_on`` may have participation."""
        return attendance.end_recurring(self, schedule_id, ends_on)

    @rpc(args=s.ScheduleId, result=s.ScheduleOut, errors=(NotFound,))
    def get_recurring(self, schedule_id):
        """A recurring activity (its unit, kind, days and period)."""
        return attendance.get_recurring(self, schedule_id)

    @rpc(args=s.ListRecurring, result=s.ScheduleOut, many=True, errors=(NotFound,))
    def list_recurring(self, unit_id, kind, active_on, limit, offset):
        """Recurring activities of a unit's subtree, of a kind, running on a day."""
        return attendance.list_recurring(self, unit_id, kind, active_on, limit, offset)

    @rpc(args=s.ScheduleOccurrences, result=s.OccurrenceOut, many=True, errors=(NotFound,))
    def occurrences(self, schedule_id, date_from, date_to):
        """The days the schedule meets in a period (working days only) and how many took
        part in each (default: the last 31 days up to today)."""
        return attendance.occurrences(self, schedule_id, date_from, date_to)

    @rpc(args=s.RecordParticipation, result=s.ParticipationOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def record_participation(self, schedule_id, held_on, member_ids):
        """Who took part in one session of a recurring activity; the day must be one the
        schedule meets on (a working day), not in the future. Repeats change nothing."""
        return attendance.record_participation(self, schedule_id, held_on, member_ids)

    # ------------------------------------------------------------ check-ups

    @rpc(args=s.RecordCheckup, result=s.CheckupOut, writes=True, errors=(NotFound, Conflict))
    def record_checkup(self, member_id, checked_on, provider):
        """A member's annual health check-up (健康体检): the date and the provider, never any
        medical detail. One per member and year."""
        return checkups.record_checkup(self, member_id, checked_on, provider)

    @rpc(args=s.CheckupCoverageQuery, result=s.CheckupCoverageOut, errors=(NotFound,))
    def checkup_coverage(self, year, unit_id):
        """Check-up coverage of a year per unit, for a subtree (everything by default)."""
        return checkups.coverage(self, year, unit_id)

    @rpc(args=s.MissingCheckupsQuery, result=s.MissingMemberOut, many=True,
         errors=(NotFound, Forbidden))
    def missing_checkups(self, year, unit_id):
        """Members of the subtree still missing the year's check-up — for the unit's union
        officers only (Forbidden otherwise)."""
        return checkups.missing(self, year, unit_id)

    # ------------------------------------------------------------ figures

    @rpc(args=s.FiguresQuery, result=s.FiguresOut, errors=(NotFound,))
    def figures(self, date_from, date_to, unit_id):
        """The figures of a period (default: the year to date) for a subtree (default: all):
        activities held and participants per campaign and kind, recurring sessions,
        facilities per kind, units with daily workplace exercise, check-up coverage, units
        with no activity, and the headline numbers the article reports. Attendance counts,
        not sign-ups."""
        return figures.of_period(self, date_from, date_to, unit_id)

    # ------------------------------------------------------------ periodic work

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's periodic work for ``as_of``: ``activity_upcoming`` to those signed up,
        from the working day before an activity; in the last quarter, ``checkup_missing``
        to members still missing the year's check-up. Each reminder exactly once."""
        return self._tick(as_of)

    def _tick(self, as_of):
        begin_day(self.db, self.tick_name, as_of)
        return {"as_of": as_of, "activity_upcoming": activities.remind_upcoming(self, as_of),
                **checkups.remind_missing(self, as_of)}
