"""The deeds service: the practical-deeds cycle (我为群众办实事) from golden idea to public
notice and evaluation, replayable by date with ``tick(as_of)``.

The class is the table of contents: each entrypoint's arguments are validated by its schema
(``schemas.py``), and it delegates to the module of its sub-domain, which does the work in
the worker's one transaction (every change with its event and audit row):

- ``ideas.py``: golden ideas (金点子), argued, studied, accepted into a list or declined;
- ``items.py``: lists and items with weighted sub-items, monthly reports (月汇报) and their
  reminders, completion, non-conformance (不符合), the five focuses' names;
- ``supervision.py``: supervision orders (督办单), issued, closed, escalated up the tree;
- ``notices.py``: quarterly public notices (季公示) and objections to them;
- ``evaluation.py``: satisfaction votes, weights and the quarterly evaluation (季评价);
- ``commitments.py``: commitments (承诺) and their comparison;
- ``ledger.py``: the ledger (台账), its workbook and the figures per unit;
- ``daily.py``: the day's work of ``tick``, each step from its sub-domain.

Beside them: the rules in plain Python (``rules.py``, state changes as tables), the
questions to the database (``queries.py``), the events' data (``payloads.py``), printable
documents (``documents.py``), the contract (``events.py``). The read model of
organization's union tree is the kit's (``gonghui.directory``), kept from organization's
events so that escalation works while organization is down.
"""

import functools

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import MEMBER_ACTS
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, Forbidden, NotFound, get_or_not_found
from gonghui.rpc_client import ServiceRpc
from services.deeds import (
    commitments,
    daily,
    evaluation,
    ideas,
    items,
    ledger,
    notices,
    queries,
    rules,
    supervision,
)
from services.deeds import schemas as s
from services.deeds.models import Commitment, DeedList, Idea, Item, Notice, SupervisionOrder
from services.organization import events as org_events

# Organization's events after which an order parked at the top may have a union above it.
TREE_GROWS = (org_events.UNIT_MOVED.type, org_events.UNION_ESTABLISHED.type)


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class DeedsService(directory.tree_handlers(org_events), kit.DailyTimer, kit.ServiceBase):
    name = "deeds"
    tick_name = "deeds.tick"
    calendar = kit.WorkingDays()
    organization = ServiceRpc("organization")

    @property
    def settings(self):
        return rules.Settings.from_config(self.config)

    @functools.cached_property
    def lookup(self):
        # One per worker (each worker gets a fresh service instance).
        return queries.Lookup(self.db)

    # ------------------------------------------------------------ read model of the tree

    def directory_changed(self, event):
        """The tree grew above some unit: orders parked at the top union are looked at
        again."""
        if event.type in TREE_GROWS:
            supervision.reopen_orders_at_top(self.db)

    def directory_resynced(self, counts, actor, before):
        """After every resync, orders parked at the top union are looked at again."""
        supervision.reopen_orders_at_top(self.db)
        super().directory_resynced(counts, actor, before)

    # ------------------------------------------------------------ golden ideas

    @rpc(args=s.SubmitIdea, result=s.IdeaOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Forbidden))
    def submit_idea(self, title, description, focus_area, submitter_unit_id,
                    submitter_member_id, submitted_on):
        """A golden idea (金点子) from a member (from their unit) or a unit; a member submits
        only as themselves."""
        return ideas.submit_idea(self, title, description, focus_area, submitter_unit_id,
                                 submitter_member_id, submitted_on)

    @rpc(args=s.ReviewIdea, result=s.IdeaOut, writes=True, errors=(NotFound, Conflict))
    def review_idea(self, idea_id, step, reason):
        """Move an idea: argued (论证) → studied (专题研究), or declined with a reason that goes
        back to its submitter."""
        return ideas.review_idea(self, idea_id, step, reason)

    @rpc(args=s.AcceptIdea, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def accept_idea(self, idea_id, list_id, owner_unit_id, responsible_member_id, batch,
                    planned_completion, accepted_on):
        """A studied idea becomes an item of a deed list."""
        return ideas.accept_idea(self, idea_id, list_id, owner_unit_id, responsible_member_id,
                                 batch, planned_completion, accepted_on)

    @rpc(args=s.IdeaId, result=s.IdeaOut, errors=(NotFound,))
    def get_idea(self, idea_id):
        return get_or_not_found(self.db, Idea, idea_id, "idea")

    @rpc(args=s.ListIdeas, result=s.IdeaOut, many=True, errors=(NotFound,))
    def list_ideas(self, status, submitter_member_id, unit_id, limit, offset):
        """Ideas by status, submitter, or submitting units (``unit_id``'s subtree)."""
        return ideas.list_ideas(self, status, submitter_member_id, unit_id, limit, offset)

    # ------------------------------------------------------------ lists, items and reports

    @rpc(args=s.ListId, result=s.ListOut, errors=(NotFound,))
    def get_list(self, list_id):
        return get_or_not_found(self.db, DeedList, list_id, "list")

    @rpc(args=s.ListLists, result=s.ListOut, many=True)
    def list_lists(self, year, level):
        """The deed lists of a year (or every year), the party committee's first."""
        return queries.lists(self.db, year, level)

    @rpc(args=s.CreateList, result=s.ListOut, writes=True, errors=(NotFound, Conflict))
    def create_list(self, level, year, unit_id, title):
        """A deed list of a level (party committee 党委 / grassroots 基层) for a year."""
        return items.create_list(self, level, year, unit_id, title)

    @rpc(args=s.CreateItem, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def create_item(self, list_id, title, description, focus_area, batch, owner_unit_id,
                    responsible_member_id, planned_completion, parent_item_id, weight,
                    created_on):
        """A deed item (实事项目), or a weighted sub-item whose progress rolls up."""
        return items.item_out(self, items.create_item(
            self, list_id, title, description, focus_area, batch, owner_unit_id,
            responsible_member_id, planned_completion, parent_item_id, weight, created_on))

    @rpc(args=s.ItemId, result=s.ItemOut, errors=(NotFound,))
    def get_item(self, item_id):
        return items.item_out(self, get_or_not_found(self.db, Item, item_id, "item"))

    @rpc(args=s.SubmitReport, result=s.ReportOut, writes=True, errors=(NotFound, Conflict))
    def submit_report(self, item_id, progress, text, attachment_ref, period, submitted_on):
        """The monthly progress report (月汇报) of an item; it closes the period's open
        supervision order."""
        return items.submit_report(self, item_id, progress, text, attachment_ref, period,
                                   submitted_on)

    @rpc(args=s.ItemId, result=s.ReportOut, many=True, errors=(NotFound,))
    def list_reports(self, item_id):
        return items.list_reports(self, item_id)

    @rpc(args=s.CompleteItem, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def complete_item(self, item_id, completed_on, summary):
        """The item is done: it goes to the next quarterly public notice."""
        return items.complete_item(self, item_id, completed_on, summary)

    @rpc(args=s.MarkNonConforming, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def mark_non_conforming(self, item_id, feedback, new_deadline, marked_on):
        """A completed item does not conform (不符合): feedback to the owner saying what must
        change, and a new deadline."""
        return items.mark_non_conforming(self, item_id, feedback, new_deadline, marked_on)

    @rpc(result=s.FocusAreaOut, many=True)
    def list_focus_areas(self):
        """The five focuses (五个聚焦) with the names this federation gives them."""
        return items.focus_areas(self)

    @rpc(args=s.NameFocusAreas, result=s.FocusAreaOut, many=True, writes=True)
    def name_focus_areas(self, names):
        """Rename focus areas (the codes stay, so items and events keep their meaning)."""
        return items.name_focus_areas(self, names)

    # ------------------------------------------------------------ supervision

    @rpc(args=s.CloseSupervision, result=s.SupervisionOut, writes=True,
         errors=(NotFound, Conflict))
    def close_supervision(self, order_id, explanation, closed_on):
        """The supervisor accepts an explanation for the missing report."""
        return supervision.close_supervision(self, order_id, explanation, closed_on)

    @rpc(args=s.OrderId, result=s.SupervisionOut, errors=(NotFound,))
    def get_supervision(self, order_id):
        return get_or_not_found(self.db, SupervisionOrder, order_id, "order")

    @rpc(args=s.ListSupervision, result=s.SupervisionOut, many=True, errors=(NotFound,))
    def list_supervision(self, status, owner_unit_id, unit_id, limit, offset):
        """Orders by status, of one owner unit's items or of ``unit_id``'s subtree."""
        return supervision.list_supervision(self, status, owner_unit_id, unit_id, limit,
                                            offset)

    # ------------------------------------------------------------ notices and objections

    @rpc(args=s.NoticeId, result=s.NoticeOut, errors=(NotFound,))
    def get_notice(self, notice_id):
        return get_or_not_found(self.db, Notice, notice_id, "notice")

    @rpc(result=s.NoticeOut, many=True)
    def list_notices(self):
        return queries.notices(self.db)

    @rpc(args=s.RaiseObjection, result=s.ObjectionOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Conflict, Forbidden))
    def raise_objection(self, notice_id, item_id, member_id, reason, raised_on):
        """A member objects to an item on an open public notice, with a reason; a member
        objects only as themselves."""
        return notices.raise_objection(self, notice_id, item_id, member_id, reason, raised_on)

    @rpc(args=s.ObjectionId, result=s.ObjectionOut, errors=(NotFound,))
    def get_objection(self, objection_id):
        return notices.get_objection(self, objection_id)

    @rpc(args=s.ListObjections, result=s.ObjectionOut, many=True, errors=(NotFound,))
    def list_objections(self, notice_id, status, unit_id, limit, offset):
        """Objections to a notice's items (of ``unit_id``'s subtree), as raised."""
        return notices.list_objections(self, notice_id, status, unit_id, limit, offset)

    @rpc(args=s.ReviewObjection, result=s.ObjectionOut, writes=True,
         errors=(NotFound, Conflict))
    def review_objection(self, objection_id, upheld, note, new_deadline, reviewed_on):
        """Uphold an objection (the item goes back as non-conforming) or reject it."""
        return notices.review_objection(self, objection_id, upheld, note, new_deadline,
                                        reviewed_on)

    @rpc(args=s.RenderNotice, result=s.RenderOut, errors=(NotFound,))
    def render_notice(self, notice_id, file_format):
        """The notice as a printable page: HTML, or PDF."""
        return notices.render_notice(self, notice_id, file_format)

    # ------------------------------------------------------------ evaluation

    @rpc(args=s.Vote, result=s.VoteOut, writes=True, actors=MEMBER_ACTS,
         errors=(NotFound, Conflict, Forbidden))
    def vote_satisfaction(self, item_id, member_id, score, voted_on):
        """A member's satisfaction (1–5) with a completed item; one vote per member, a
        member votes only as themselves."""
        return evaluation.vote_satisfaction(self, item_id, member_id, score, voted_on)

    @rpc(args=s.SetWeights, result=s.WeightsOut, writes=True, errors=(Conflict,))
    def set_evaluation_weights(self, weights):
        """Weights of completion, timeliness, supervision, objections and satisfaction."""
        return evaluation.set_weights(self, weights)

    @rpc(args=s.QuarterQuery, result=s.EvaluationOut, errors=(NotFound,))
    def get_evaluation(self, year, quarter):
        return evaluation.get_evaluation(self, year, quarter)

    # ------------------------------------------------------------ commitments

    @rpc(args=s.MakeCommitment, result=s.CommitmentOut, writes=True,
         errors=(NotFound, Conflict))
    def make_commitment(self, owner_kind, owner_unit_id, owner_member_id, title, metric, target,
                        starts_on, ends_on):
        """A public commitment (承诺) with a measurable target and a period, by a unit or a
        cadre ("make commitments, compare performance" 作承诺、比作为)."""
        return commitments.make_commitment(self, owner_kind, owner_unit_id, owner_member_id,
                                           title, metric, target, starts_on, ends_on)

    @rpc(args=s.CommitmentId, result=s.CommitmentOut, errors=(NotFound,))
    def get_commitment(self, commitment_id):
        return commitments.commitment_out(get_or_not_found(self.db, Commitment, commitment_id,
                                                           "commitment"))

    @rpc(args=s.ReportCommitment, result=s.CommitmentOut, writes=True,
         errors=(NotFound, Conflict))
    def report_commitment(self, commitment_id, value, note, reported_on):
        """Progress on a commitment: the value achieved so far."""
        return commitments.report_commitment(self, commitment_id, value, note, reported_on)

    @rpc(args=s.CompareCommitments, result=s.CommitmentOut, many=True)
    def compare_commitments(self, year, owner_kind):
        """Commitments of a year ranked by the share of their target achieved."""
        return commitments.compare_commitments(self, year, owner_kind)

    # ------------------------------------------------------------ ledger and figures

    @rpc(args=s.LedgerQuery, result=s.LedgerRow, many=True, errors=(NotFound,))
    def ledger(self, level, batch, focus_area, owner_unit_id, status, track, year, unit_id,
               limit, offset):
        """The ledger (台账): every item with its reports, supervision and notice (of
        ``unit_id``'s subtree)."""
        return ledger.rows(self, level, batch, focus_area, owner_unit_id, status, year, track,
                           limit, offset, unit_id)

    @rpc(args=s.LedgerExport, result=s.ExportOut, errors=(NotFound,))
    def export_ledger(self, level, batch, focus_area, owner_unit_id, status, year, unit_id,
                      details):
        """The ledger as an Excel workbook laid out for printing: a sheet of the items and,
        unless ``details`` is false, a sheet each of their monthly reports, supervision
        orders and objections to their public notices."""
        return ledger.export(self, level, batch, focus_area, owner_unit_id, status, year,
                             details, unit_id)

    @rpc(args=s.FiguresQuery, result=s.UnitFigures, many=True, errors=(NotFound,))
    def figures(self, level, year, unit_id):
        """Per unit and level (of ``unit_id``'s subtree): items per track and the on-time
        report rate."""
        return ledger.figures(self, level, year, unit_id)

    # ------------------------------------------------------------ the day's work

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's work for ``as_of``: report reminders before the due day, overdue reports
        and their supervision orders, escalations up the tree, opening and closing the
        quarterly public notice, and the quarterly evaluation. Idempotent."""
        return self._tick(as_of)

    def _tick(self, as_of):  # the kit's daily timer runs each missed day through it
        return daily.run_day(self, as_of)
