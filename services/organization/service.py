"""The organization service: the union tree, members and roles, terms and elections (换届),
coverage, cadre training, field visits and meetings, regulations (制度), spreadsheets.

A table of contents: each entrypoint validates (the schemas), delegates to its sub-domain —
``tree`` (units, unions), ``members`` (and roles), ``terms`` (elections, term reminders),
``gatherings`` (trainings, field visits, meetings, action items, overdue follow-ups),
``regulations``, ``coverage``, ``spreadsheets`` (import, export; formats in ``importer``),
``snapshot`` (the consumers' read models) — and returns. Rules and state tables in
``rules``, questions in ``queries``, event data in ``payloads``; each change is audited and
written to the outbox in the worker's transaction (``self.emit``).
"""

from gonghui import service as kit
from gonghui.clock import today
from gonghui.daily import begin_day
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, NotFound, get_or_not_found
from services.organization import (
    coverage,
    gatherings,
    members,
    queries,
    regulations,
    snapshot,
    spreadsheets,
    terms,
    tree,
)
from services.organization import schemas as s
from services.organization.models import Member


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class OrganizationService(kit.DailyTimer, kit.ServiceBase):
    name = "organization"
    tick_name = "organization.tick"

    # ------------------------------------------------------------ units

    @rpc(args=s.CreateUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def create_unit(self, code, name, kind, domain, parent_id, established_on):
        """Add a business unit under ``parent_id`` (none: the company at the top)."""
        return tree.unit_out(tree.create_unit(self, code, name, kind, domain, parent_id,
                                              established_on))

    @rpc(args=s.RenameUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def rename_unit(self, unit_id, name):
        return tree.unit_out(tree.rename_unit(self, unit_id, name))

    @rpc(args=s.MoveUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def move_unit(self, unit_id, parent_id):
        """Move a unit (and its subtree) under another parent; cycles are refused."""
        return tree.unit_out(tree.move_unit(self, unit_id, parent_id))

    @rpc(args=s.CloseUnit, result=s.UnitOut, writes=True, errors=(NotFound, Conflict))
    def close_unit(self, unit_id, closed_on):
        """Close a unit that has no open units, union or members below it."""
        return tree.unit_out(tree.close_unit(self, unit_id, closed_on))

    @rpc(args=s.UnitId, result=s.UnitOut, errors=(NotFound,))
    def get_unit(self, unit_id):
        return tree.get_unit(self.db, unit_id)

    @rpc(args=s.ListUnits, result=s.UnitOut, many=True)
    def list_units(self, domain, kind, include_closed, limit, offset):
        """Units with each one's depth in the tree (0 for the top unit)."""
        return tree.list_units(self.db, domain, kind, include_closed, limit, offset)

    @rpc(args=s.UnitQuery, result=s.UnitOut, many=True, errors=(NotFound,))
    def subtree(self, unit_id, include_closed):
        """The unit and every unit below it, with each one's depth."""
        return tree.subtree(self.db, unit_id, include_closed)

    @rpc(args=s.UnitId, result=s.UnitOut, many=True, errors=(NotFound,))
    def ancestors(self, unit_id):
        """Units above this one, nearest first."""
        return tree.ancestors(self.db, unit_id)

    # ------------------------------------------------------------ unions

    @rpc(args=s.EstablishUnion, result=s.UnionOut, writes=True, errors=(NotFound, Conflict))
    def establish_union(self, unit_id, level, name, established_on):
        """Set up a union in a unit: company union at the top, grassroots unions under it,
        union groups under those."""
        return tree.union_out(*tree.establish_union(self, unit_id, level, name, established_on))

    @rpc(args=s.CloseUnion, result=s.UnionOut, writes=True, errors=(NotFound, Conflict))
    def close_union(self, unit_id, closed_on):
        return tree.close_union(self, unit_id, closed_on)

    @rpc(args=s.UnitId, result=s.UnionOut, errors=(NotFound,))
    def get_union(self, unit_id):
        """The union serving a unit: its own, or the nearest one above it."""
        return tree.union_serving(self.db, unit_id)

    # ------------------------------------------------------------ members

    @rpc(args=s.AddMember, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def add_member(self, employee_no, name, gender, unit_id, email, mobile, wecom_id,
                   joined_on):
        """A worker joins the union (employee number unique)."""
        return members.add_member(self, employee_no, name, gender, unit_id, email, mobile,
                                  wecom_id, joined_on)

    @rpc(args=s.UpdateMember, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def update_member(self, member_id, **changes):
        """Change a member's name, unit or contact details."""
        return members.update_member(self, member_id, **changes)

    @rpc(args=s.MemberLeaves, result=s.MemberOut, writes=True, errors=(NotFound, Conflict))
    def member_leaves(self, member_id, left_on):
        """A member leaves the union; their roles end the same day."""
        return members.member_leaves(self, member_id, left_on)

    @rpc(args=s.MemberId, result=s.MemberOut, errors=(NotFound,))
    def get_member(self, member_id):
        return get_or_not_found(self.db, Member, member_id, "member")

    @rpc(args=s.ListMembers, result=s.MemberOut, many=True, errors=(NotFound,))
    def list_members(self, unit_id, subtree, include_left, limit, offset):
        """Members of a unit (and, by default, of every unit under it)."""
        return members.list_members(self.db, unit_id, subtree, include_left, limit, offset)

    # ------------------------------------------------------------ roles

    @rpc(args=s.AssignRole, result=s.RoleOut, writes=True, errors=(NotFound, Conflict))
    def assign_role(self, member_id, unit_id, role, starts_on):
        """Give a member a role in the union of ``unit_id``."""
        return members.assign_role(self, member_id, unit_id, role, starts_on)

    @rpc(args=s.EndRole, result=s.RoleOut, writes=True, errors=(NotFound, Conflict))
    def end_role(self, assignment_id, ends_on):
        return members.end_role(self, assignment_id, ends_on)

    @rpc(args=s.RoleQuery, result=s.RecipientOut, many=True, errors=(NotFound,))
    def recipients(self, unit_id, role, as_of):
        """Who holds ``role`` in the union serving the unit (its own or the nearest above)."""
        return members.recipients(self.db, unit_id, role, as_of)

    # ------------------------------------------------------------ terms and elections

    @rpc(args=s.StartTerm, result=s.TermOut, writes=True, errors=(NotFound, Conflict))
    def start_term(self, unit_id, starts_on, ends_on):
        """Record a union's current term when it is first put on the platform."""
        return terms.start_term(self, unit_id, starts_on, ends_on)

    @rpc(args=s.UnitId, result=s.TermOut, errors=(NotFound,))
    def current_term(self, unit_id):
        return terms.current_term(self.db, unit_id)

    @rpc(args=s.TermsDueQuery, result=s.TermDueOut, many=True, errors=(NotFound,))
    def terms_due(self, unit_id, as_of, within_days, limit, offset):
        """Unions of the unit and every unit below it whose term open on ``as_of`` has
        expired (``status`` ``expired``: no election recorded) or ends within
        ``within_days`` (``due``; default 90), the longest expired first: what a union's
        office chases for the elections (换届) below it."""
        return terms.terms_due(self.db, unit_id, as_of, within_days, limit, offset)

    @rpc(args=s.RecordElection, result=s.ElectionOut, writes=True,
         errors=(NotFound, Conflict))
    def record_election(self, unit_id, held_on, term_starts_on, term_ends_on, committee,
                        notes):
        """An election (换届): closes the current term, opens the next and replaces the
        committee roster (chair, vice-chairs, committee members)."""
        return terms.record_election(self, unit_id, held_on, term_starts_on, term_ends_on,
                                     committee, notes)

    # ------------------------------------------------------------ the day's work

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's periodic work for ``as_of``: term reminders 90 and 30 days before a
        term ends and once after it ended, and a reminder of each field visit's follow-up
        action still open after its due date, each exactly once. Idempotent."""
        return self._tick(as_of)

    def _tick(self, as_of):
        begin_day(self.db, self.tick_name, as_of)
        return {"as_of": as_of, **terms.send_reminders(self, as_of),
                "follow_up_overdue": gatherings.remind_overdue_follow_ups(self, as_of)}

    # ------------------------------------------------------------ coverage

    @rpc(args=s.CoverageQuery, result=s.CoverageOut, errors=(NotFound,))
    def coverage_report(self, as_of, unit_id):
        """Units with a union, unions with a valid term, members per unit, by domain, on
        any date, for the whole company or a subtree."""
        return coverage.report(self.db, as_of, unit_id)

    # ------------------------------------------------------------ trainings, visits, meetings

    @rpc(args=s.RecordTraining, result=s.TrainingOut, writes=True,
         errors=(NotFound, Conflict))
    def record_training(self, title, kind, provider, organiser_unit_id, starts_on, ends_on,
                        hours, attendee_ids):
        """A training of union cadres: external (走出去) or internal online/offline
        (请进来), with its attendees."""
        return gatherings.record_training(self, title, kind, provider, organiser_unit_id,
                                          starts_on, ends_on, hours, attendee_ids)

    @rpc(args=s.ListTrainings, result=s.TrainingOut, many=True)
    def list_trainings(self, year, kind, member_id, limit, offset):
        return gatherings.list_trainings(self.db, year, kind, member_id, limit, offset)

    @rpc(args=s.RecordFieldVisit, result=s.FieldVisitOut, writes=True,
         errors=(NotFound, Conflict))
    def record_field_visit(self, unit_id, kind, visited_on, visitor_ids, findings, actions):
        """A symposium (座谈), visit (走访) or heart-to-heart talk (谈心谈话) at a unit, with
        findings and the follow-up actions it set."""
        return gatherings.record(self, gatherings.FIELD_VISIT, unit_id, kind, visited_on,
                                 visitor_ids, {"findings": findings}, actions)

    @rpc(args=s.ListByUnit, result=s.FieldVisitOut, many=True)
    def list_field_visits(self, unit_id, kind, limit, offset):
        return gatherings.list_gatherings(self.db, gatherings.FIELD_VISIT, unit_id, kind,
                                          limit, offset)

    @rpc(args=s.RecordMeeting, result=s.MeetingOut, writes=True, errors=(NotFound, Conflict))
    def record_meeting(self, unit_id, kind, title, held_on, attendee_ids, tasks):
        """A meeting that sets the union's work (workers' congress 职代会, seminar,
        half-year review) and the tasks it set, each owned by a unit with a due date."""
        return gatherings.record(self, gatherings.MEETING, unit_id, kind, held_on,
                                 attendee_ids, {"title": title}, tasks)

    @rpc(args=s.ListByUnit, result=s.MeetingOut, many=True)
    def list_meetings(self, unit_id, kind, limit, offset):
        return gatherings.list_gatherings(self.db, gatherings.MEETING, unit_id, kind, limit,
                                          offset)

    @rpc(args=s.CloseActionItem, result=s.ActionItemOut, writes=True,
         errors=(NotFound, Conflict))
    def close_action_item(self, action_item_id, closing_note, closed_on):
        return gatherings.close_action_item(self, action_item_id, closing_note, closed_on)

    @rpc(args=s.ListActionItems, result=s.ActionItemOut, many=True)
    def list_action_items(self, owner_unit_id, open_only, overdue_as_of, limit, offset):
        return queries.action_items(self.db, owner_unit_id, open_only, overdue_as_of, limit,
                                    offset)

    # ------------------------------------------------------------ regulations

    @rpc(args=s.DraftRegulation, result=s.RegulationOut, writes=True, errors=(NotFound,))
    def draft_regulation(self, title, category, issuing_unit_id, body):
        """Draft a regulation or work document, e.g. the year's work points (工作要点)."""
        return regulations.draft(self, title, category, issuing_unit_id, body)

    @rpc(args=s.IssueRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def issue_regulation(self, regulation_id, effective_on):
        return regulations.issue(self, regulation_id, effective_on)

    @rpc(args=s.ReviseRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def revise_regulation(self, regulation_id, body, effective_on, change_summary):
        """A new version; every earlier version is kept with its effective date."""
        return regulations.revise(self, regulation_id, body, effective_on, change_summary)

    @rpc(args=s.RepealRegulation, result=s.RegulationOut, writes=True,
         errors=(NotFound, Conflict))
    def repeal_regulation(self, regulation_id, repealed_on, reason):
        return regulations.repeal(self, regulation_id, repealed_on, reason)

    @rpc(args=s.ListRegulations, result=s.RegulationOut, many=True)
    def list_regulations(self, category, status, limit, offset):
        return regulations.list_regulations(self.db, category, status, limit, offset)

    @rpc(args=s.RegulationId, result=s.RegulationHistoryOut, errors=(NotFound,))
    def regulation_history(self, regulation_id):
        """A regulation with every version, oldest first."""
        return regulations.history(self.db, regulation_id)

    # ------------------------------------------------------------ spreadsheets

    @rpc(args=s.ImportFile, result=s.ImportOut, writes=True)
    def import_file(self, kind, file_format, content_base64, dry_run):
        """Import units or members from the office's Excel (.xlsx) or CSV file. Every bad
        row is reported with its line number and reason; the import is all or nothing, and
        a dry run (the default) checks everything, the database's rules included, and
        writes nothing."""
        return spreadsheets.import_file(self, kind, file_format, content_base64, dry_run)

    @rpc(args=s.ExportFile, result=s.ExportOut)
    def export_file(self, kind, file_format):
        """Export units (with their unions) or current members in the import layout."""
        return spreadsheets.export_file(self.db, kind, file_format)

    # ------------------------------------------------------------ the consumers' read models

    @rpc(args=s.SnapshotPage, result=s.DirectorySnapshot)
    def directory_snapshot(self, part, after, limit):
        """One page of the tree for a consumer's read model (units, unions, members or role
        assignments, in id order after ``after``), each row shaped as the event that writes
        it; ``taken_at`` is when it was read."""
        return snapshot.page(self.db, part, after, limit)

    @rpc(result=s.DirectoryStatus)
    def directory_status(self):
        """The counts of the tree today, as a complete read model of it would count them."""
        return snapshot.status(self.db, today())
