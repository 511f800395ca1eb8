"""The activities service: the all-staff campaigns — health (全民健康), fitness (全民健身) and
reading (全民阅读) — with their measured goals; activities with sign-ups, a waiting list and
attendance; recurring activities such as daily workplace exercise (工间操); facilities (sports
venues, staff libraries 职工书屋, reading corners 读书角, mobile bookshelves 流动书架); annual
health check-ups (健康体检); and the figures of any period and subtree.

Entrypoints are thin: arguments are validated by the schemas, the rules live in
``rules.py``, the figures in ``figures.py``; the read model of organization's union tree is
the kit's (``gonghui.directory``, kept from organization's events, so audiences and coverage
never call it), with activities' own questions of it in ``tree.py``; every change goes to
the audit trail and the outbox in the worker's transaction.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import SYSTEM_TICK
from gonghui.audit import RESYNC_ENTITY
from gonghui.clock import CHINA, today
from gonghui.daily import begin_day
from gonghui.directory import DirectoryMember
from gonghui.entrypoints import rpc
from gonghui.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationError,
    get_or_not_found,
)
from gonghui.events import emit
from gonghui.rpc_client import ServiceRpc
from services.activities import events, figures, rules, tree
from services.activities import schemas as s
from services.activities.models import (
    Activity,
    Attendance,
    Campaign,
    Checkup,
    CheckupReminder,
    Facility,
    Goal,
    Participation,
    RecurringSchedule,
    Signup,
    UpcomingNotice,
)
from services.organization import events as org_events


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class ActivitiesService(directory.tree_handlers(org_events), kit.DailyTimer, kit.ServiceBase):
    name = "activities"
    tick_name = "activities.tick"

    calendar = kit.WorkingDays()
    organization = ServiceRpc("organization")

    # ------------------------------------------------------------ helpers

    def _emit(self, declared, data, aggregate, actor=None, changes=None):
        emit(self.db, declared, data, actor=actor or self.actor(), aggregate=aggregate,
             changes=changes)

    def _unit(self, unit_id, field="unit_id", day=None):
        return tree.open_unit(self.db, unit_id, field, day)

    def _member(self, member_id, field="member_id"):
        return directory.member(self.db, member_id, field)

    def _campaign(self, campaign_id, field="campaign_id"):
        if campaign_id is None:
            return None
        campaign = self.db.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"campaign {campaign_id} not found", {field: ["not found"]})
        return campaign

    def _facility(self, facility_id, day):
        if facility_id is None:
            return None
        facility = get_or_not_found(self.db, Facility, facility_id, "facility")
        if not rules.active_on(facility.opened_on, facility.closed_on, day):
            raise Conflict(f"facility {facility_id} is not open on {day}",
                           {"facility_id": ["not open that day"]})
        return facility

    def _unit_name(self, unit_id):
        return directory.unit_name(self.db, unit_id)

    def _check_self_service(self, member):
        """A member acting for themselves may only sign themselves up or off."""
        actor = self.actor()
        if actor.kind == "member" and actor.id != member.employee_no:
            raise Forbidden("a member may only sign up themselves",
                            {"member_id": ["not the calling member"]})

    # ------------------------------------------------------------ the tree's read model

    def _resync(self):
        """The kit's resync, counting the roles held today that it found no longer held."""
        before = tree.roles_held(self.db, today())
        read = super()._resync()
        self._roles_ended = len(before - tree.roles_held(self.db, today()))
        return read

    def directory_resynced(self, counts):
        """After ``resync_directory``: the event (its audit row is the resync's)."""
        self._emit(events.DIRECTORY_RESYNCED, {
            "units": counts["units"], "unions": counts["unions"],
            "members": counts["members"], "roles": counts["roles"],
            "roles_ended": self._roles_ended}, RESYNC_ENTITY)

    # ------------------------------------------------------------ campaigns

    def _campaign_out(self, campaign):
        goals = self.db.scalars(select(Goal).where(Goal.campaign_id == campaign.id)
                                .order_by(Goal.id)).all()
        return {**{c: getattr(campaign, c) for c in ("id", "code", "name", "theme", "year",
                                                     "organiser_unit_id", "description")},
                "goals": [self._goal_out(g) for g in goals]}

    @staticmethod
    def _goal_out(goal):
        return {"id": goal.id, "description": goal.description, "metric": goal.metric,
                "target": float(goal.target), "params": goal.params}

    def _add_goal(self, campaign, goal):
        row = Goal(campaign_id=campaign.id, description=goal["description"],
                   metric=goal["metric"], target=goal["target"],
                   params={k: goal[k] for k in ("facility_kinds", "activity_kinds", "topic",
                                                "union_level") if goal.get(k)})
        self.db.add(row)
        return row

    def _campaign_data(self, campaign):
        out = self._campaign_out(campaign)
        return {"campaign_id": campaign.id, "code": campaign.code, "name": campaign.name,
                "theme": campaign.theme, "year": campaign.year,
                "organiser_unit_id": campaign.organiser_unit_id,
                "organiser_unit_name": self._unit_name(campaign.organiser_unit_id) or "",
                "goals": [{"goal_id": g["id"], "description": g["description"],
                           "metric": g["metric"], "target": g["target"]} for g in out["goals"]]}

    @rpc(args=s.CreateCampaign, result=s.CampaignOut, writes=True, errors=(NotFound, Conflict))
    def create_campaign(self, code, name, theme, year, organiser_unit_id, description, goals):
        """A campaign of the year (e.g. code ``reading``, 全民阅读) run by a unit's union, with
        goals that are measured from the data (see ``campaign_progress``)."""
        self._unit(organiser_unit_id, "organiser_unit_id")
        if self.db.scalar(select(Campaign.id).where(Campaign.code == code,
                                                    Campaign.year == year)):
            raise Conflict(f"campaign {code} of {year} exists", {"code": ["already used"]})
        campaign = Campaign(code=code, name=name, theme=theme, year=year,
                            organiser_unit_id=organiser_unit_id, description=description)
        self.db.add(campaign)
        self.db.flush()
        for goal in goals:
            self._add_goal(campaign, goal)
        self.db.flush()
        self._emit(events.CAMPAIGN_CREATED, self._campaign_data(campaign),
                   ("campaign", campaign.id))
        return self._campaign_out(campaign)

    @rpc(args=s.AddGoal, result=s.CampaignOut, writes=True, errors=(NotFound,))
    def add_goal(self, campaign_id, **goal):
        """Add a measured goal to a campaign, e.g. "a reading corner in every grassroots
        union" (``units_with_facility``)."""
        campaign = self._campaign(campaign_id)
        row = self._add_goal(campaign, goal)
        self.db.flush()
        self._emit(events.CAMPAIGN_GOAL_ADDED, self._campaign_data(campaign),
                   ("campaign", campaign.id), changes={"goal_added": self._goal_out(row)})
        return self._campaign_out(campaign)

    @rpc(args=s.CampaignId, result=s.CampaignOut, errors=(NotFound,))
    def get_campaign(self, campaign_id):
        """A campaign with its goals."""
        return self._campaign_out(self._campaign(campaign_id))

    @rpc(args=s.ListCampaigns, result=s.CampaignOut, many=True)
    def list_campaigns(self, year, theme, limit, offset):
        """Campaigns by year, optionally of one theme (health, fitness, reading, other)."""
        query = select(Campaign).order_by(Campaign.year, Campaign.id).limit(limit).offset(offset)
        if year:
            query = query.where(Campaign.year == year)
        if theme:
            query = query.where(Campaign.theme == theme)
        return [self._campaign_out(c) for c in self.db.scalars(query)]

    @rpc(args=s.CampaignProgress, result=s.CampaignProgressOut, errors=(NotFound,))
    def campaign_progress(self, campaign_id, as_of):
        """Each goal of the campaign measured over its year up to ``as_of``, in the subtree
        of the organiser unit: actual value, target, met or not."""
        campaign = self._campaign(campaign_id)
        date_from, date_to = figures.campaign_period(campaign.year, as_of)
        unit_ids = directory.subtree_ids(self.db, campaign.organiser_unit_id)
        goals = []
        for goal in self.db.scalars(select(Goal).where(Goal.campaign_id == campaign.id)
                                    .order_by(Goal.id)):
            actual = figures.measure_goal(self.db, campaign, goal, unit_ids, date_from,
                                          max(date_from, date_to))
            goals.append({**self._goal_out(goal),
                          **rules.goal_result(goal.metric, float(goal.target), actual)})
        held, people = figures.campaign_activity_counts(self.db, campaign.id, date_from,
                                                        max(date_from, date_to))
        return {"campaign_id": campaign.id, "name": campaign.name, "year": campaign.year,
                "date_from": date_from, "date_to": date_to,
                "unit_id": campaign.organiser_unit_id, "activities_held": held,
                "participants": people, "goals": goals,
                "goals_met": sum(1 for g in goals if g["met"])}

    # ------------------------------------------------------------ facilities

    def _facility_data(self, facility, reason=None):
        return {"facility_id": facility.id, "name": facility.name, "kind": facility.kind,
                "unit_id": facility.unit_id, "unit_name": self._unit_name(facility.unit_id),
                "location": facility.location, "opened_on": facility.opened_on,
                "closed_on": facility.closed_on, "reason": reason}

    @rpc(args=s.OpenFacility, result=s.FacilityOut, writes=True, errors=(NotFound, Conflict))
    def open_facility(self, unit_id, kind, name, location, capacity, opened_on):
        """A unit's sports venue, staff library (职工书屋), reading corner (读书角) or mobile
        bookshelf (流动书架) opens."""
        self._unit(unit_id, day=opened_on)
        facility = Facility(unit_id=unit_id, kind=kind, name=name, location=location,
                            capacity=capacity, opened_on=opened_on, status="open")
        self.db.add(facility)
        self.db.flush()
        self._emit(events.FACILITY_OPENED, self._facility_data(facility),
                   ("facility", facility.id))
        return facility

    @rpc(args=s.CloseFacility, result=s.FacilityOut, writes=True, errors=(NotFound, Conflict))
    def close_facility(self, facility_id, closed_on, reason):
        """A facility closes (with the reason); activities can no longer take place in it."""
        facility = get_or_not_found(self.db, Facility, facility_id, "facility")
        if facility.status == "closed":
            raise Conflict("the facility is already closed", {"facility_id": ["closed"]})
        if closed_on < facility.opened_on:
            raise Conflict("a facility cannot close before it opened",
                           {"closed_on": ["before opened_on"]})
        facility.status, facility.closed_on, facility.closing_reason = "closed", closed_on, reason
        self._emit(events.FACILITY_CLOSED, self._facility_data(facility, reason),
                   ("facility", facility.id))
        return facility

    @rpc(args=s.ListFacilities, result=s.FacilityOut, many=True, errors=(NotFound,))
    def list_facilities(self, unit_id, kind, status, limit, offset):
        """Facilities of a unit and every unit below it (all units by default)."""
        query = select(Facility).order_by(Facility.id).limit(limit).offset(offset)
        if unit_id is not None:
            self._unit(unit_id)
            query = query.where(Facility.unit_id.in_(directory.subtree_ids(self.db, unit_id)))
        if kind:
            query = query.where(Facility.kind == kind)
        if status:
            query = query.where(Facility.status == status)
        return list(self.db.scalars(query))

    # ------------------------------------------------------------ activities

    def _activity_ref(self, activity):
        campaign = self.db.get(Campaign, activity.campaign_id) if activity.campaign_id else None
        facility = self.db.get(Facility, activity.facility_id) if activity.facility_id else None
        return {"activity_id": activity.id, "activity_name": activity.name,
                "kind": activity.kind, "topic": activity.topic,
                "campaign_id": activity.campaign_id,
                "campaign_name": campaign.name if campaign else None,
                "organiser_unit_id": activity.organiser_unit_id,
                "organiser_unit_name": self._unit_name(activity.organiser_unit_id) or "",
                "starts_at": activity.starts_at, "ends_at": activity.ends_at,
                "held_on": activity.held_on,
                "place": activity.place or (facility.location if facility else None),
                "facility_id": activity.facility_id,
                "facility_name": facility.name if facility else None}

    def _counts(self, activity_ids):
        counts = defaultdict(lambda: {"confirmed": 0, "waitlisted": 0, "attended": 0})
        for activity_id, status, n in self.db.execute(
                select(Signup.activity_id, Signup.status, func.count())
                .where(Signup.activity_id.in_(activity_ids))
                .group_by(Signup.activity_id, Signup.status)):
            if status in ("confirmed", "waitlisted"):
                counts[activity_id][status] = n
        for activity_id, n in self.db.execute(
                select(Attendance.activity_id, func.count())
                .where(Attendance.activity_id.in_(activity_ids))
                .group_by(Attendance.activity_id)):
            counts[activity_id]["attended"] = n
        return counts

    def _activity_out(self, activity, counts=None):
        counts = counts if counts is not None else self._counts([activity.id])
        return {**{c.key: getattr(activity, c.key) for c in Activity.__table__.columns
                   if c.key != "next_seq"}, **counts[activity.id]}

    def _activity(self, activity_id, lock=False):
        query = select(Activity).where(Activity.id == activity_id)
        if lock:
            # Sign-ups of one activity queue here: capacity is counted under the lock, so
            # concurrent sign-ups are confirmed in arrival order and never overbook.
            query = query.with_for_update()
        activity = self.db.scalar(query)
        if activity is None:
            raise NotFound(f"activity {activity_id} not found", {"activity_id": ["not found"]})
        return activity

    def _audience(self, activity):
        unit_ids, label = None, ""
        if activity.audience_unit_id is not None:
            unit_ids = frozenset(directory.subtree_ids(self.db, activity.audience_unit_id))
            label = (self._unit_name(activity.audience_unit_id)
                     or f"unit {activity.audience_unit_id}")
        return rules.Audience(activity.audience, unit_ids, activity.audience_role, label)

    def _check_audience(self, activity, member_ids, field):
        facts = tree.member_facts(self.db, member_ids, activity.held_on)
        missing = sorted(set(member_ids) - set(facts))
        if missing:
            raise NotFound("unknown members", {field: [f"member {m} is not in the directory"
                                                       for m in missing]})
        audience = self._audience(activity)
        refused = {m: rules.audience_refusal(audience, facts[m], activity.held_on)
                   for m in member_ids}
        refused = {m: why for m, why in refused.items() if why}
        if refused:
            raise Forbidden("not in the activity's audience",
                            {field: [f"member {m}: {why}" for m, why in sorted(refused.items())]})
        return facts

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
        held_on = starts_at.astimezone(CHINA).date()
        self._unit(organiser_unit_id, "organiser_unit_id", day=held_on)
        if audience_unit_id is not None:
            self._unit(audience_unit_id, "audience_unit_id")
        campaign = self._campaign(campaign_id)
        if campaign is not None and campaign.year != held_on.year:
            raise Conflict("the activity is not in its campaign's year",
                           {"starts_at": [f"not in {campaign.year}"]})
        self._facility(facility_id, held_on)
        activity = Activity(campaign_id=campaign_id, kind=kind, topic=topic, name=name,
                            description=description, organiser_unit_id=organiser_unit_id,
                            starts_at=starts_at, ends_at=ends_at, held_on=held_on, place=place,
                            facility_id=facility_id, capacity=capacity, audience=audience,
                            audience_unit_id=audience_unit_id, audience_role=audience_role,
                            status="scheduled", next_seq=0)
        self.db.add(activity)
        self.db.flush()
        self._emit(events.ACTIVITY_SCHEDULED, {
            **self._activity_ref(activity), "capacity": capacity, "audience": audience,
            "audience_unit_id": audience_unit_id, "audience_role": audience_role},
            ("activity", activity.id))
        return self._activity_out(activity)

    def _signed_up(self, activity_id):
        return self.db.scalars(select(Signup).where(
            Signup.activity_id == activity_id,
            Signup.status.in_(("confirmed", "waitlisted"))).order_by(Signup.seq)).all()

    @rpc(args=s.CancelActivity, result=s.ActivityOut, writes=True, errors=(NotFound, Conflict))
    def cancel_activity(self, activity_id, reason):
        """The organiser cancels: everyone signed up (or waiting) is told, by the event."""
        activity = self._activity(activity_id, lock=True)
        if activity.status == "cancelled":
            raise Conflict("the activity is already cancelled", {"activity_id": ["cancelled"]})
        if self.db.scalar(select(func.count()).select_from(Attendance).where(
                Attendance.activity_id == activity.id)):
            raise Conflict("the activity took place: attendance is recorded",
                           {"activity_id": ["held"]})
        activity.status, activity.cancel_reason = "cancelled", reason
        signed = self._signed_up(activity.id)
        units = tree.units_of(self.db, [x.member_id for x in signed])
        self._emit(events.ACTIVITY_CANCELLED, {
            **self._activity_ref(activity), "reason": reason,
            "recipient_member_ids": [x.member_id for x in signed],
            "recipient_unit_ids": sorted({units[x.member_id] for x in signed
                                          if x.member_id in units})},
            ("activity", activity.id))
        return self._activity_out(activity)

    @rpc(args=s.ActivityId, result=s.ActivityOut, errors=(NotFound,))
    def get_activity(self, activity_id):
        """An activity with its confirmed, waiting and attended counts."""
        return self._activity_out(self._activity(activity_id))

    @rpc(args=s.ListActivities, result=s.ActivityOut, many=True, errors=(NotFound,))
    def list_activities(self, date_from, date_to, campaign_id, kind, unit_id, status, limit,
                        offset):
        """Activities by date, filtered by campaign, kind, organiser subtree, period."""
        query = select(Activity).order_by(Activity.starts_at, Activity.id)
        if campaign_id:
            query = query.where(Activity.campaign_id == campaign_id)
        if kind:
            query = query.where(Activity.kind == kind)
        if unit_id:
            self._unit(unit_id)
            query = query.where(Activity.organiser_unit_id.in_(
                directory.subtree_ids(self.db, unit_id)))
        if status:
            query = query.where(Activity.status == status)
        if date_from:
            query = query.where(Activity.held_on >= date_from)
        if date_to:
            query = query.where(Activity.held_on <= date_to)
        rows = self.db.scalars(query.limit(limit).offset(offset)).all()
        counts = self._counts([a.id for a in rows])
        return [self._activity_out(a, counts) for a in rows]

    def _signup_data(self, activity, signup, member, position=None):
        return {**self._activity_ref(activity), "member_id": member.member_id,
                "member_name": member.name, "unit_id": member.unit_id,
                "unit_name": self._unit_name(member.unit_id), "status": signup.status,
                "waitlist_position": position}

    def _waitlist_position(self, activity_id, seq):
        return self.db.scalar(select(func.count()).select_from(Signup).where(
            Signup.activity_id == activity_id, Signup.status == "waitlisted",
            Signup.seq <= seq))

    def _signup_out(self, signup, member):
        position = (self._waitlist_position(signup.activity_id, signup.seq)
                    if signup.status == "waitlisted" else None)
        return {"activity_id": signup.activity_id, "member_id": member.member_id,
                "member_name": member.name, "unit_id": member.unit_id, "status": signup.status,
                "seq": signup.seq, "waitlist_position": position,
                "signed_up_at": signup.signed_up_at}

    @rpc(args=s.MemberSignup, result=s.SignupOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def sign_up(self, activity_id, member_id):
        """Sign a member up: confirmed while places are left, otherwise on the waiting list
        in arrival order. Refused (Forbidden) for a member outside the audience."""
        activity = self._activity(activity_id, lock=True)
        if activity.status != "scheduled":
            raise Conflict("the activity is cancelled", {"activity_id": ["cancelled"]})
        if self.db.scalar(select(func.count()).select_from(Attendance).where(
                Attendance.activity_id == activity.id)):
            raise Conflict("the activity has taken place", {"activity_id": ["held"]})
        member = self._member(member_id)
        self._check_self_service(member)
        self._check_audience(activity, [member.member_id], "member_id")
        signup = self.db.scalar(select(Signup).where(Signup.activity_id == activity.id,
                                                     Signup.member_id == member.member_id))
        if signup is not None and signup.status != "cancelled":
            raise Conflict("the member is already signed up",
                           {"member_id": [f"already {signup.status}"]})
        confirmed = self.db.scalar(select(func.count()).select_from(Signup).where(
            Signup.activity_id == activity.id, Signup.status == "confirmed"))
        status = rules.signup_status(activity.capacity, confirmed)
        activity.next_seq += 1
        now = datetime.now(UTC)
        if signup is None:  # a member who cancelled and comes back goes to the end
            signup = Signup(activity_id=activity.id, member_id=member.member_id, signed_up_at=now)
            self.db.add(signup)
        signup.seq, signup.status, signup.signed_up_at, signup.changed_at = (
            activity.next_seq, status, now, now)
        self.db.flush()
        out = self._signup_out(signup, member)
        declared = events.SIGNUP_CONFIRMED if status == "confirmed" else events.SIGNUP_WAITLISTED
        self._emit(declared, self._signup_data(activity, signup, member,
                                               out["waitlist_position"]),
                   ("activity", activity.id))
        return out

    @rpc(args=s.MemberSignup, result=s.CancelSignupOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def cancel_signup(self, activity_id, member_id):
        """A member withdraws; if they held a place, the first on the waiting list gets it."""
        activity = self._activity(activity_id, lock=True)
        member = self._member(member_id)
        self._check_self_service(member)
        signup = self.db.scalar(select(Signup).where(Signup.activity_id == activity.id,
                                                     Signup.member_id == member.member_id))
        if signup is None or signup.status == "cancelled":
            raise Conflict("the member is not signed up", {"member_id": ["not signed up"]})
        if activity.status != "scheduled":
            raise Conflict("the activity is cancelled", {"activity_id": ["cancelled"]})
        was = signup.status
        signup.status, signup.changed_at = "cancelled", datetime.now(UTC)
        promoted = None
        if was == "confirmed":
            promoted = self.db.scalar(select(Signup).where(
                Signup.activity_id == activity.id, Signup.status == "waitlisted")
                .order_by(Signup.seq).limit(1))
        self.db.flush()
        self._emit(events.SIGNUP_CANCELLED, {
            **self._signup_data(activity, signup, member),
            "promoted_member_id": promoted.member_id if promoted else None},
            ("activity", activity.id))
        if promoted is not None:
            promoted.status, promoted.changed_at = "confirmed", datetime.now(UTC)
            self.db.flush()
            lucky = self._member(promoted.member_id)
            self._emit(events.SIGNUP_PROMOTED, self._signup_data(activity, promoted, lucky),
                       ("activity", activity.id))
        return {"activity_id": activity.id, "member_id": member.member_id, "status": "cancelled",
                "promoted_member_id": promoted.member_id if promoted else None}

    @rpc(args=s.ActivityId, result=s.SignupOut, many=True, errors=(NotFound,))
    def list_signups(self, activity_id):
        """Confirmed and waiting sign-ups in arrival order, with waiting-list positions."""
        activity = self._activity(activity_id)
        signed = self._signed_up(activity.id)
        members = {m.member_id: m for m in self.db.scalars(select(DirectoryMember).where(
            DirectoryMember.member_id.in_([x.member_id for x in signed])))}
        position, out = 0, []
        for signup in signed:
            member = members[signup.member_id]
            if signup.status == "waitlisted":
                position += 1
            out.append({"activity_id": activity.id, "member_id": member.member_id,
                        "member_name": member.name, "unit_id": member.unit_id,
                        "status": signup.status, "seq": signup.seq,
                        "waitlist_position": position if signup.status == "waitlisted"
                        else None, "signed_up_at": signup.signed_up_at})
        return out

    @rpc(args=s.RecordAttendance, result=s.AttendanceOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def record_attendance(self, activity_id, member_ids):
        """Members who attended (signed up or not): what the figures count. Recording the
        same member twice changes nothing."""
        activity = self._activity(activity_id, lock=True)
        if activity.status != "scheduled":
            raise Conflict("the activity is cancelled", {"activity_id": ["cancelled"]})
        if activity.held_on > today():
            raise Conflict("the activity has not taken place yet",
                           {"activity_id": [f"held on {activity.held_on}"]})
        member_ids = sorted(set(member_ids))
        facts = self._check_audience(activity, member_ids, "member_ids")
        added = self.db.scalars(pg_insert(Attendance).values([
            {"activity_id": activity.id, "member_id": m, "member_unit_id": facts[m].unit_id,
             "organiser_unit_id": activity.organiser_unit_id,
             "campaign_id": activity.campaign_id, "kind": activity.kind,
             "held_on": activity.held_on} for m in member_ids])
            .on_conflict_do_nothing().returning(Attendance.member_id)).all()
        if added:
            self._emit(events.ATTENDANCE_RECORDED, {
                **self._activity_ref(activity), "member_ids": sorted(added),
                "unit_ids": sorted({facts[m].unit_id for m in added}),
                "attended": self._counts([activity.id])[activity.id]["attended"]},
                ("activity", activity.id),
                changes={"attended": sorted(added)})
        return {"activity_id": activity.id, "added": len(added),
                "attended": self._counts([activity.id])[activity.id]["attended"]}

    @rpc(args=s.ActivityId, result=s.AttendeeOut, many=True, errors=(NotFound,))
    def list_attendance(self, activity_id):
        """Who attended an activity, with their unit when it was recorded."""
        activity = self._activity(activity_id)
        return self.db.scalars(select(Attendance).where(Attendance.activity_id == activity.id)
                               .order_by(Attendance.member_id)).all()

    @rpc(args=s.RecordAmountRaised, result=s.ActivityOut, writes=True,
         errors=(NotFound, Conflict))
    def record_amount_raised(self, activity_id, amount_raised):
        """The amount a donation drive (爱心募捐) raised, in yuan."""
        activity = self._activity(activity_id, lock=True)
        if activity.kind != "donation_drive":
            raise Conflict("only a donation drive raises money", {"activity_id": ["not a drive"]})
        if activity.status != "scheduled":
            raise Conflict("the activity is cancelled", {"activity_id": ["cancelled"]})
        old = activity.amount_raised
        activity.amount_raised = amount_raised
        self._emit(events.AMOUNT_RAISED_RECORDED, {
            **self._activity_ref(activity), "amount_raised": _money(amount_raised)},
            ("activity", activity.id),
            changes={"amount_raised": [_money(old), _money(amount_raised)]})
        return self._activity_out(activity)

    # ------------------------------------------------------------ recurring activities

    def _schedule_data(self, schedule):
        campaign = self.db.get(Campaign, schedule.campaign_id) if schedule.campaign_id else None
        return {"schedule_id": schedule.id, "name": schedule.name, "kind": schedule.kind,
                "unit_id": schedule.unit_id, "unit_name": self._unit_name(schedule.unit_id),
                "campaign_id": schedule.campaign_id,
                "campaign_name": campaign.name if campaign else None,
                "frequency": schedule.frequency, "weekday": schedule.weekday,
                "time_of_day": schedule.time_of_day, "starts_on": schedule.starts_on,
                "ends_on": schedule.ends_on, "place": schedule.place}

    @rpc(args=s.CreateRecurring, result=s.ScheduleOut, writes=True, errors=(NotFound, Conflict))
    def create_recurring(self, unit_id, campaign_id, kind, name, frequency, weekday,
                         time_of_day, starts_on, ends_on, place, facility_id):
        """A unit's recurring activity — daily workplace exercise (工间操) or a weekly
        reading club — meeting on working days (Chinese calendar) only."""
        self._unit(unit_id, day=starts_on)
        self._campaign(campaign_id)
        self._facility(facility_id, starts_on)
        schedule = RecurringSchedule(unit_id=unit_id, campaign_id=campaign_id, kind=kind,
                                     name=name, frequency=frequency, weekday=weekday,
                                     time_of_day=time_of_day, starts_on=starts_on,
                                     ends_on=ends_on, place=place, facility_id=facility_id)
        self.db.add(schedule)
        self.db.flush()
        self._emit(events.RECURRING_SCHEDULE_CREATED, self._schedule_data(schedule),
                   ("recurring_schedule", schedule.id))
        return schedule

    @rpc(args=s.EndRecurring, result=s.ScheduleOut, writes=True, errors=(NotFound, Conflict))
    def end_recurring(self, schedule_id, ends_on):
        """End a recurring activity; no session after ``ends_on`` may have participation."""
        schedule = get_or_not_found(self.db, RecurringSchedule, schedule_id, "schedule")
        if schedule.ends_on is not None and schedule.ends_on <= ends_on:
            raise Conflict("the schedule already ends by then", {"ends_on": ["already ended"]})
        if ends_on < schedule.starts_on:
            raise Conflict("cannot end before it starts", {"ends_on": ["before starts_on"]})
        if self.db.scalar(select(func.count()).select_from(Participation).where(
                Participation.schedule_id == schedule.id, Participation.held_on > ends_on)):
            raise Conflict("participation is recorded after that day", {"ends_on": ["too early"]})
        schedule.ends_on = ends_on
        self._emit(events.RECURRING_SCHEDULE_ENDED, self._schedule_data(schedule),
                   ("recurring_schedule", schedule.id))
        return schedule

    @rpc(args=s.ListRecurring, result=s.ScheduleOut, many=True, errors=(NotFound,))
    def list_recurring(self, unit_id, kind, active_on, limit, offset):
        """Recurring activities of a unit's subtree, of a kind, running on a day."""
        query = select(RecurringSchedule).order_by(RecurringSchedule.id)
        if unit_id:
            self._unit(unit_id)
            query = query.where(RecurringSchedule.unit_id.in_(
                directory.subtree_ids(self.db, unit_id)))
        if kind:
            query = query.where(RecurringSchedule.kind == kind)
        if active_on:
            query = query.where(RecurringSchedule.starts_on <= active_on,
                                (RecurringSchedule.ends_on.is_(None))
                                | (RecurringSchedule.ends_on >= active_on))
        return self.db.scalars(query.limit(limit).offset(offset)).all()

    @rpc(args=s.ScheduleOccurrences, result=s.OccurrenceOut, many=True, errors=(NotFound,))
    def occurrences(self, schedule_id, date_from, date_to):
        """The days the schedule meets in a period (working days only) and how many took
        part in each (default: the last 31 days up to today)."""
        schedule = get_or_not_found(self.db, RecurringSchedule, schedule_id, "schedule")
        date_to = date_to or today()
        date_from = date_from or date_to - timedelta(days=30)
        if (date_to - date_from).days > 400:
            raise ValidationError("at most 400 days at once", {"date_to": ["period too long"]})
        days = rules.occurrences(schedule.frequency, schedule.weekday, schedule.starts_on,
                                 schedule.ends_on, date_from, date_to,
                                 self.calendar.is_working_day)
        counts = dict(self.db.execute(
            select(Participation.held_on, func.count()).where(
                Participation.schedule_id == schedule.id,
                Participation.held_on.between(date_from, date_to))
            .group_by(Participation.held_on)).all())
        return [{"held_on": d, "participants": counts.get(d, 0)} for d in days]

    @rpc(args=s.RecordParticipation, result=s.ParticipationOut, writes=True,
         errors=(NotFound, Conflict, Forbidden))
    def record_participation(self, schedule_id, held_on, member_ids):
        """Who took part in one session of a recurring activity; the day must be one the
        schedule meets on (a working day), not in the future. Repeats change nothing."""
        schedule = get_or_not_found(self.db, RecurringSchedule, schedule_id, "schedule")
        if not rules.is_occurrence(schedule.frequency, schedule.weekday, schedule.starts_on,
                                   schedule.ends_on, held_on, self.calendar.is_working_day):
            raise Conflict(f"the schedule does not meet on {held_on}",
                           {"held_on": ["not a session day (working days only)"]})
        if held_on > today():
            raise Conflict("the session has not taken place yet", {"held_on": ["in the future"]})
        member_ids = sorted(set(member_ids))
        facts = tree.member_facts(self.db, member_ids, held_on)
        missing = sorted(set(member_ids) - set(facts))
        if missing:
            raise NotFound("unknown members", {"member_ids": [
                f"member {m} is not in the directory" for m in missing]})
        audience = rules.Audience("subtree", frozenset(
            directory.subtree_ids(self.db, schedule.unit_id)), label="the organising unit")
        refused = {m: rules.audience_refusal(audience, facts[m], held_on) for m in member_ids}
        refused = {m: why for m, why in refused.items() if why}
        if refused:
            raise Forbidden("not in the schedule's audience", {"member_ids": [
                f"member {m}: {why}" for m, why in sorted(refused.items())]})
        added = self.db.scalars(pg_insert(Participation).values([
            {"schedule_id": schedule.id, "held_on": held_on, "member_id": m,
             "member_unit_id": facts[m].unit_id, "organiser_unit_id": schedule.unit_id,
             "campaign_id": schedule.campaign_id, "kind": schedule.kind}
            for m in member_ids]).on_conflict_do_nothing()
            .returning(Participation.member_id)).all()
        total = self.db.scalar(select(func.count()).select_from(Participation).where(
            Participation.schedule_id == schedule.id, Participation.held_on == held_on))
        if added:
            self._emit(events.PARTICIPATION_RECORDED, {
                "schedule_id": schedule.id, "name": schedule.name, "kind": schedule.kind,
                "unit_id": schedule.unit_id, "unit_name": self._unit_name(schedule.unit_id),
                "held_on": held_on, "member_ids": sorted(added),
                "unit_ids": sorted({facts[m].unit_id for m in added})},
                ("recurring_schedule", schedule.id))
        return {"schedule_id": schedule.id, "held_on": held_on, "added": len(added),
                "participants": total}

    # ------------------------------------------------------------ check-ups

    @rpc(args=s.RecordCheckup, result=s.CheckupOut, writes=True, errors=(NotFound, Conflict))
    def record_checkup(self, member_id, checked_on, provider):
        """A member's annual health check-up (健康体检): the date and the provider, never any
        medical detail. One per member and year."""
        if checked_on > today():
            raise ValidationError("a check-up is recorded once it took place",
                                  {"checked_on": ["in the future"]})
        member = self._member(member_id)
        if not rules.active_on(member.joined_on, member.left_on, checked_on):
            raise Conflict("not a member of the union that day", {"checked_on": ["not a member"]})
        if self.db.scalar(select(Checkup.id).where(Checkup.member_id == member.member_id,
                                                   Checkup.year == checked_on.year)):
            raise Conflict(f"the member's {checked_on.year} check-up is already recorded",
                           {"member_id": ["already recorded this year"]})
        checkup = Checkup(member_id=member.member_id, year=checked_on.year, checked_on=checked_on,
                          provider=provider, unit_id=member.unit_id)
        self.db.add(checkup)
        self.db.flush()
        self._emit(events.CHECKUP_RECORDED, {
            "checkup_id": checkup.id, "member_id": member.member_id, "member_name": member.name,
            "unit_id": member.unit_id, "unit_name": self._unit_name(member.unit_id),
            "year": checkup.year, "checked_on": checked_on, "provider": provider},
            ("member", member.member_id))
        return checkup

    def _year_members(self, unit_ids, year):
        """Members counted for a year's coverage: in the union at the year's end, or today
        for the current year."""
        day = min(datetime(year, 12, 31).date(), max(today(), datetime(year, 1, 1).date()))
        return day, directory.current_members(self.db, unit_ids, day)

    def _checked(self, member_ids, year):
        return set(self.db.scalars(select(Checkup.member_id).where(
            Checkup.year == year, Checkup.member_id.in_(member_ids))))

    @rpc(args=s.CheckupCoverageQuery, result=s.CheckupCoverageOut, errors=(NotFound,))
    def checkup_coverage(self, year, unit_id):
        """Check-up coverage of a year per unit, for a subtree (everything by default)."""
        unit_ids = None
        if unit_id is not None:
            self._unit(unit_id)
            unit_ids = directory.subtree_ids(self.db, unit_id)
        _, members = self._year_members(unit_ids, year)
        checked = self._checked([m.member_id for m in members], year)
        per_unit = defaultdict(lambda: [0, 0])
        for member in members:
            per_unit[member.unit_id][0] += 1
            per_unit[member.unit_id][1] += member.member_id in checked
        names = figures.unit_names(self.db, set(per_unit))
        return {"year": year, "unit_id": unit_id, "members": len(members),
                "checked": len(checked), "coverage": rules.ratio(len(checked), len(members)),
                "by_unit": [{"unit_id": u, "unit_name": names.get(u), "members": n,
                             "checked": c, "coverage": rules.ratio(c, n)}
                            for u, (n, c) in sorted(per_unit.items())]}

    def _require_officer(self, unit_id):
        """Only the unit's officers (chair, vice-chair, committee member, cadre of its union
        or a union above, per the local directory) and company-union administrators."""
        actor = self.actor()
        if actor.kind == "admin":
            return
        if actor.kind in ("officer", "member"):
            chain = directory.ancestor_ids(self.db, unit_id)
            if tree.officer_units(self.db, actor.id, today()) & set(chain):
                return
        raise Forbidden("only the unit's union officers may see who is missing a check-up",
                        {"actor": [f"{actor} holds no officer role over unit {unit_id}"]})

    @rpc(args=s.MissingCheckupsQuery, result=s.MissingMemberOut, many=True,
         errors=(NotFound, Forbidden))
    def missing_checkups(self, year, unit_id):
        """Members of the subtree still missing the year's check-up — for the unit's union
        officers only (Forbidden otherwise)."""
        self._unit(unit_id)
        self._require_officer(unit_id)
        _, members = self._year_members(directory.subtree_ids(self.db, unit_id), year)
        checked = self._checked([m.member_id for m in members], year)
        names = figures.unit_names(self.db, {m.unit_id for m in members})
        return [{"member_id": m.member_id, "employee_no": m.employee_no, "name": m.name,
                 "unit_id": m.unit_id, "unit_name": names.get(m.unit_id)}
                for m in members if m.member_id not in checked]

    # ------------------------------------------------------------ figures

    @rpc(args=s.FiguresQuery, result=s.FiguresOut, errors=(NotFound,))
    def figures(self, date_from, date_to, unit_id):
        """The figures of a period (default: the year to date) for a subtree (default: all):
        activities held and participants per campaign and kind, recurring sessions,
        facilities per kind, units with daily workplace exercise, check-up coverage, units
        with no activity, and the headline numbers the article reports. Attendance counts,
        not sign-ups."""
        date_to = date_to or today()
        date_from = date_from or date_to.replace(month=1, day=1)
        if unit_id is not None:
            self._unit(unit_id)
        return figures.figures(self.db, date_from, date_to, unit_id)

    # ------------------------------------------------------------ periodic work

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's periodic work for ``as_of``: ``activity_upcoming`` to those signed up,
        from the working day before an activity; in the last quarter, ``checkup_missing``
        to members still missing the year's check-up. Each reminder exactly once."""
        return self._tick(as_of)


    def _tick(self, as_of):
        begin_day(self.db, self.tick_name, as_of)
        counts = {"activity_upcoming": 0, "checkup_missing": 0, "members_reminded": 0}
        # Activities within the next two weeks cover any run of holidays before them.
        due = self.db.scalars(select(Activity).where(
            Activity.status == "scheduled", Activity.held_on > as_of,
            Activity.held_on <= as_of + timedelta(days=15),
            Activity.id.notin_(select(UpcomingNotice.activity_id)))
            .order_by(Activity.held_on, Activity.id)).all()
        for activity in due:
            if not rules.upcoming_due(activity.held_on, as_of,
                                      self.calendar.previous_working_day):
                continue
            confirmed = self.db.scalars(select(Signup.member_id).where(
                Signup.activity_id == activity.id, Signup.status == "confirmed")
                .order_by(Signup.seq)).all()
            if not confirmed:
                continue  # nobody to remind yet; whoever signs up later still will be
            self.db.add(UpcomingNotice(activity_id=activity.id, sent_for=as_of,
                                       recipients=len(confirmed)))
            units = sorted(set(tree.units_of(self.db, confirmed).values()))
            self._emit(events.ACTIVITY_UPCOMING, {
                **self._activity_ref(activity), "as_of": as_of,
                "recipient_member_ids": list(confirmed), "recipient_unit_ids": units},
                ("activity", activity.id), actor=SYSTEM_TICK,
                changes={"notice": "upcoming", "as_of": as_of.isoformat()})
            counts["activity_upcoming"] += 1
        if rules.checkup_reminders_due(as_of, self.calendar.is_working_day):
            self._checkup_reminders(as_of, counts)
        return {"as_of": as_of, **counts}

    def _checkup_reminders(self, as_of, counts):
        year = as_of.year
        members = directory.current_members(self.db, None, as_of)
        checked = set(self.db.scalars(select(Checkup.member_id).where(Checkup.year == year)))
        reminded = set(self.db.scalars(select(CheckupReminder.member_id).where(
            CheckupReminder.year == year)))
        by_unit = defaultdict(list)
        for member in members:
            if member.member_id not in checked and member.member_id not in reminded:
                by_unit[member.unit_id].append(member.member_id)
        names = figures.unit_names(self.db, set(by_unit))
        for unit_id, member_ids in sorted(by_unit.items()):
            self.db.add_all([CheckupReminder(member_id=m, year=year, sent_for=as_of)
                             for m in member_ids])
            self._emit(events.CHECKUP_MISSING, {
                "year": year, "as_of": as_of, "unit_id": unit_id,
                "unit_name": names.get(unit_id), "recipient_member_ids": member_ids,
                "recipient_unit_ids": [unit_id]}, ("unit", unit_id), actor=SYSTEM_TICK,
                changes={"notice": "checkup_missing", "year": year,
                         "as_of": as_of.isoformat()})
            counts["checkup_missing"] += 1
            counts["members_reminded"] += len(member_ids)


def _money(value):
    return None if value is None else f"{value:.2f}"

