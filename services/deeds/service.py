"""The deeds service: the practical-deeds cycle (我为群众办实事) from golden idea to public
notice and evaluation, replayable by date with ``tick(as_of)``.

Entrypoints are thin: rules live in ``rules.py``, the read model of the union tree in
``directory.py``, documents in ``documents.py``; every change goes to the audit trail and
the outbox in the worker's transaction.
"""

import base64
import functools
from collections import Counter, defaultdict

from sqlalchemy import case, func, select

from gonghui import directory
from gonghui import service as kit
from gonghui.actor import SYSTEM_TICK
from gonghui.daily import begin_day
from gonghui.entrypoints import rpc
from gonghui.errors import Conflict, NotFound
from gonghui.errors import get_or_not_found as get
from gonghui.events import emit, record_change
from gonghui.rpc_client import ServiceRpc
from services.deeds import documents, events, queries, rules, supervision
from services.deeds import schemas as s
from services.deeds.models import (
    Commitment,
    CommitmentReport,
    DeedList,
    Evaluation,
    Idea,
    Item,
    Notice,
    Objection,
    ReminderSent,
    Report,
    SatisfactionVote,
    Setting,
    SupervisionOrder,
)
from services.organization import events as org_events

# Organization's events after which an order parked at the top may have a union above it.
TREE_GROWS = (org_events.UNIT_MOVED.type, org_events.UNION_ESTABLISHED.type)


# Items as an office prints them: the party committee's list first, then by unit.
PRINT_ORDER = (case((Item.level == "party_committee", 0), else_=1), Item.owner_unit_id, Item.id)


# The kit's base is reached through its module: `nameko run` starts every service class
# found at the top level of this module.
class DeedsService(directory.tree_handlers(org_events), kit.DailyTimer, kit.ServiceBase):
    name = "deeds"
    tick_name = "deeds.tick"
    calendar = kit.WorkingDays()
    organization = ServiceRpc("organization")

    # ------------------------------------------------------------ helpers

    @property
    def settings(self):
        config = self.config
        return rules.Settings(
            report_due_day=int(config.get("DEEDS_REPORT_DUE_DAY", 25)),
            due_notice_working_days=int(config.get("DEEDS_DUE_NOTICE_WORKING_DAYS", 3)),
            supervision_working_days=int(config.get("DEEDS_SUPERVISION_WORKING_DAYS", 5)),
            notice_working_days=int(config.get("DEEDS_NOTICE_WORKING_DAYS", 5)))

    def _emit(self, declared, data, aggregate, actor=None, changes=None):
        emit(self.db, declared, data, actor=actor or self.actor(), aggregate=aggregate,
             changes=changes)

    @functools.cached_property
    def _lookup(self):
        # One per worker (each worker gets a fresh service instance).
        return directory.Lookup(self.db)

    @functools.cached_property
    def _idea_submitters(self):
        return {}

    def _idea_submitter(self, idea_id):
        """Who submitted the idea an item came from (cached per worker: few items have one)."""
        if idea_id is None:
            return None
        if idea_id not in self._idea_submitters:
            self._idea_submitters[idea_id] = self.db.scalar(
                select(Idea.submitter_member_id).where(Idea.id == idea_id))
        return self._idea_submitters[idea_id]

    def _has_open_supervision(self, item_id):
        return self.db.scalar(select(func.count()).select_from(SupervisionOrder).where(
            SupervisionOrder.item_id == item_id, SupervisionOrder.status == "open")) > 0

    def _item_ref(self, item):
        return {"item_id": item.id, "item_title": item.title, "level": item.level,
                "focus_area": item.focus_area, "batch": item.batch,
                "owner_unit_id": item.owner_unit_id,
                "owner_unit_name": self._lookup.unit_name(item.owner_unit_id),
                "responsible_member_id": item.responsible_member_id,
                "responsible_member_name": self._lookup.member_name(item.responsible_member_id),
                "idea_id": item.idea_id,
                "idea_submitter_member_id": self._idea_submitter(item.idea_id)}

    def _item_data(self, item):
        deed_list = self.db.get(DeedList, item.list_id)
        return {**self._item_ref(item), "list_id": item.list_id, "year": deed_list.year,
                "planned_completion": item.planned_completion, "parent_item_id": item.parent_id,
                "status": item.status, "progress": item.progress,
                "track": rules.track(item.status, self._has_open_supervision(item.id))}

    def _item_out(self, item):
        out = {c.name: getattr(item, c.name) for c in Item.__table__.columns}
        out["track"] = rules.track(item.status, self._has_open_supervision(item.id))
        return out

    def _idea_data(self, idea):
        return {"idea_id": idea.id, "title": idea.title, "focus_area": idea.focus_area,
                "status": idea.status, "submitter_member_id": idea.submitter_member_id,
                "submitter_name": self._lookup.member_name(idea.submitter_member_id),
                "submitter_unit_id": idea.submitter_unit_id,
                "submitter_unit_name": self._lookup.unit_name(idea.submitter_unit_id),
                "reason": idea.reason, "item_id": idea.item_id}

    def _children(self, item_id):
        return list(self.db.scalars(select(Item).where(Item.parent_id == item_id)))

    # ------------------------------------------------------------ read model of the tree

    def directory_changed(self, event):
        """The tree grew above some unit: orders parked at the top union are looked at
        again."""
        if event.type in TREE_GROWS:
            supervision.reopen_orders_at_top(self.db)

    def directory_resynced(self, counts):
        supervision.reopen_orders_at_top(self.db)
        super().directory_resynced(counts)

    # ------------------------------------------------------------ golden ideas

    @rpc(args=s.SubmitIdea, result=s.IdeaOut, writes=True, errors=(NotFound,))
    def submit_idea(self, title, description, focus_area, submitter_unit_id,
                    submitter_member_id, submitted_on):
        """A golden idea (金点子) from a member or a unit."""
        directory.unit(self.db, submitter_unit_id, "submitter_unit_id")
        directory.member(self.db, submitter_member_id, "submitter_member_id")
        idea = Idea(title=title, description=description, focus_area=focus_area,
                    submitter_unit_id=submitter_unit_id,
                    submitter_member_id=submitter_member_id, submitted_on=submitted_on,
                    status="submitted")
        self.db.add(idea)
        self.db.flush()
        self._emit(events.IDEA_SUBMITTED, self._idea_data(idea), ("idea", idea.id))
        return idea

    @rpc(args=s.ReviewIdea, result=s.IdeaOut, writes=True, errors=(NotFound, Conflict))
    def review_idea(self, idea_id, step, reason):
        """Move an idea: argued (论证) → studied (专题研究), or declined with a reason that goes
        back to its submitter."""
        idea = get(self.db, Idea, idea_id, "idea")
        rules.check_idea_step(idea.status, step)
        if step == "declined" and not reason:
            raise Conflict("a declined idea needs a reason for its submitter",
                           {"reason": ["required when declining"]})
        idea.status, idea.reason = step, reason
        self._emit(events.IDEA_REVIEWED, self._idea_data(idea), ("idea", idea.id))
        return idea

    @rpc(args=s.AcceptIdea, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def accept_idea(self, idea_id, list_id, owner_unit_id, responsible_member_id, batch,
                    planned_completion, accepted_on):
        """A studied idea becomes an item of a deed list."""
        idea = get(self.db, Idea, idea_id, "idea")
        rules.check_idea_step(idea.status, "accepted")
        item = self._create_item(list_id, idea.title, idea.description, idea.focus_area, batch,
                                 owner_unit_id, responsible_member_id, planned_completion,
                                 None, 1.0, accepted_on, idea_id=idea.id)
        idea.status, idea.item_id = "accepted", item.id
        self._emit(events.IDEA_REVIEWED, self._idea_data(idea), ("idea", idea.id))
        return self._item_out(item)

    @rpc(args=s.IdeaId, result=s.IdeaOut, errors=(NotFound,))
    def get_idea(self, idea_id):
        return get(self.db, Idea, idea_id, "idea")

    @rpc(args=s.ListIdeas, result=s.IdeaOut, many=True, errors=(NotFound,))
    def list_ideas(self, status, submitter_member_id, limit, offset):
        directory.member(self.db, submitter_member_id, "submitter_member_id")
        query = select(Idea).order_by(Idea.id).limit(limit).offset(offset)
        if status:
            query = query.where(Idea.status == status)
        if submitter_member_id:
            query = query.where(Idea.submitter_member_id == submitter_member_id)
        return list(self.db.scalars(query))

    # ------------------------------------------------------------ lists and items

    @rpc(args=s.CreateList, result=s.ListOut, writes=True, errors=(NotFound, Conflict))
    def create_list(self, level, year, unit_id, title):
        """A deed list of a level (party committee 党委 / grassroots 基层) for a year."""
        directory.unit(self.db, unit_id)
        if self.db.scalar(select(DeedList.id).where(DeedList.level == level,
                                                    DeedList.year == year,
                                                    DeedList.unit_id == unit_id)):
            raise Conflict("that list exists", {"level": ["one list per level, year, unit"]})
        deed_list = DeedList(level=level, year=year, unit_id=unit_id, title=title)
        self.db.add(deed_list)
        self.db.flush()
        record_change(self.db, self.actor(), "deeds.list_created", ("list", deed_list.id),
                      {"level": level, "year": year, "unit_id": unit_id, "title": title})
        return deed_list

    def _create_item(self, list_id, title, description, focus_area, batch, owner_unit_id,
                     responsible_member_id, planned_completion, parent_item_id, weight,
                     created_on, idea_id=None):
        deed_list = get(self.db, DeedList, list_id, "list")
        directory.unit(self.db, owner_unit_id, "owner_unit_id")
        directory.member(self.db, responsible_member_id, "responsible_member_id")
        if parent_item_id is not None:
            parent = get(self.db, Item, parent_item_id, "item")
            if parent.list_id != list_id or parent.parent_id is not None:
                raise Conflict("sub-items sit one level under an item of the same list",
                               {"parent_item_id": ["not a top item of this list"]})
        item = Item(list_id=list_id, parent_id=parent_item_id, title=title,
                    description=description, level=deed_list.level, focus_area=focus_area,
                    batch=batch, owner_unit_id=owner_unit_id,
                    responsible_member_id=responsible_member_id,
                    planned_completion=planned_completion, weight=weight, progress=0,
                    status="open", created_on=created_on, idea_id=idea_id)
        self.db.add(item)
        self.db.flush()
        self._emit(events.ITEM_CREATED, self._item_data(item), ("item", item.id))
        return item

    @rpc(args=s.CreateItem, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def create_item(self, list_id, title, description, focus_area, batch, owner_unit_id,
                    responsible_member_id, planned_completion, parent_item_id, weight,
                    created_on):
        """A deed item (实事项目), or a weighted sub-item whose progress rolls up."""
        return self._item_out(self._create_item(
            list_id, title, description, focus_area, batch, owner_unit_id,
            responsible_member_id, planned_completion, parent_item_id, weight, created_on))

    @rpc(args=s.ItemId, result=s.ItemOut, errors=(NotFound,))
    def get_item(self, item_id):
        return self._item_out(get(self.db, Item, item_id, "item"))

    def _roll_up(self, item):
        if item.parent_id is None:
            return
        parent = self.db.get(Item, item.parent_id)
        progress = rules.weighted_progress([(c.weight, c.progress)
                                            for c in self._children(parent.id)])
        if progress != parent.progress:
            parent.progress = progress
            self._emit(events.ITEM_PROGRESSED, self._item_data(parent), ("item", parent.id))

    @rpc(args=s.SubmitReport, result=s.ReportOut, writes=True, errors=(NotFound, Conflict))
    def submit_report(self, item_id, progress, text, attachment_ref, period, submitted_on):
        """The monthly progress report (月汇报) of an item; it closes the period's open
        supervision order."""
        item = get(self.db, Item, item_id, "item")
        rules.check_can_report(item.status)
        if self._children(item.id):
            raise Conflict("an item with sub-items reports through them",
                           {"item_id": ["has sub-items"]})
        period = period or rules.period_of(submitted_on)
        if self.db.scalar(select(Report.id).where(Report.item_id == item.id,
                                                  Report.period == period)):
            raise Conflict(f"the report for {period} is already in",
                           {"period": ["already reported"]})
        due_on = rules.due_date(period, self.settings.report_due_day, self.calendar)
        report = Report(item_id=item.id, period=period, progress=progress, text=text,
                        attachment_ref=attachment_ref, submitted_on=submitted_on, due_on=due_on,
                        on_time=submitted_on <= due_on)
        self.db.add(report)
        item.progress = progress
        self.db.flush()
        order = self.db.scalar(select(SupervisionOrder).where(
            SupervisionOrder.item_id == item.id, SupervisionOrder.period == period,
            SupervisionOrder.cause == "report", SupervisionOrder.status == "open"))
        if order is not None:
            self._close_order(order, "report", submitted_on, None)
        self._emit(events.REPORT_SUBMITTED, {
            **self._item_ref(item), "report_id": report.id, "period": period,
            "progress": progress, "submitted_on": submitted_on, "on_time": report.on_time},
            ("item", item.id))
        self._roll_up(item)
        return report

    @rpc(args=s.ItemId, result=s.ReportOut, many=True, errors=(NotFound,))
    def list_reports(self, item_id):
        get(self.db, Item, item_id, "item")
        return list(self.db.scalars(select(Report).where(Report.item_id == item_id)
                                    .order_by(Report.period)))

    @rpc(args=s.CompleteItem, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def complete_item(self, item_id, completed_on, summary):
        """The item is done: it goes to the next quarterly public notice."""
        item = get(self.db, Item, item_id, "item")
        if item.status not in ("open", "non_conforming"):
            raise Conflict(f"an item that is {item.status} cannot be completed",
                           {"item_id": [f"item is {item.status}"]})
        if any(c.status in ("open", "non_conforming") for c in self._children(item.id)):
            raise Conflict("complete its sub-items first", {"item_id": ["open sub-items"]})
        item.status, item.completed_on, item.progress = "completed", completed_on, 100
        item.feedback = None
        for order in self.db.scalars(select(SupervisionOrder).where(
                SupervisionOrder.item_id == item.id, SupervisionOrder.status == "open")):
            self._close_order(order, "completion", completed_on, summary)
        self._emit(events.ITEM_COMPLETED, {**self._item_ref(item), "completed_on": completed_on},
                   ("item", item.id), changes={"summary": summary})
        self._roll_up(item)
        return self._item_out(item)

    def _make_non_conforming(self, item, feedback, new_deadline, source, on, actor=None):
        item.status, item.feedback, item.new_deadline = "non_conforming", feedback, new_deadline
        item.completed_on, item.reopened_on = None, on
        self._emit(events.ITEM_NON_CONFORMING, {
            **self._item_ref(item), "feedback": feedback, "new_deadline": new_deadline,
            "source": source}, ("item", item.id), actor=actor)

    @rpc(args=s.MarkNonConforming, result=s.ItemOut, writes=True, errors=(NotFound, Conflict))
    def mark_non_conforming(self, item_id, feedback, new_deadline, marked_on):
        """A completed item does not conform (不符合): feedback to the owner saying what must
        change, and a new deadline."""
        item = get(self.db, Item, item_id, "item")
        if item.status != "completed":
            raise Conflict("only a completed item awaiting its notice can be found "
                           "non-conforming", {"item_id": [f"item is {item.status}"]})
        self._make_non_conforming(item, feedback, new_deadline, "review", marked_on)
        return self._item_out(item)

    # ------------------------------------------------------------ supervision

    def _order_data(self, order, item, recipients):
        return {**self._item_ref(item), "order_id": order.id, "period": order.period,
                "cause": order.cause, "reason": order.reason,
                "supervising_unit_id": order.supervising_unit_id,
                "supervising_unit_name": self._lookup.unit_name(order.supervising_unit_id),
                "deadline": order.deadline, "escalation_level": order.escalation_level,
                "escalated_to_unit_id": order.escalated_to_unit_id,
                "escalated_to_unit_name": (self._lookup.unit_name(order.escalated_to_unit_id)
                                           if order.escalated_to_unit_id else None),
                "recipient_member_ids": recipients, "status": order.status,
                "closed_by": order.closed_by}

    def _close_order(self, order, closed_by, closed_on, explanation, actor=None):
        order.status, order.closed_by = "closed", closed_by
        order.closed_on, order.explanation = closed_on, explanation
        item = self.db.get(Item, order.item_id)
        self._emit(events.SUPERVISION_CLOSED, self._order_data(order, item, []),
                   ("item", item.id), actor=actor)

    @rpc(args=s.CloseSupervision, result=s.SupervisionOut, writes=True,
         errors=(NotFound, Conflict))
    def close_supervision(self, order_id, explanation, closed_on):
        """The supervisor accepts an explanation for the missing report."""
        order = get(self.db, SupervisionOrder, order_id, "order")
        if order.status != "open":
            raise Conflict("the order is already closed", {"order_id": ["closed"]})
        self._close_order(order, "explanation", closed_on, explanation)
        return order

    @rpc(args=s.ListSupervision, result=s.SupervisionOut, many=True, errors=(NotFound,))
    def list_supervision(self, status, owner_unit_id, limit, offset):
        directory.unit(self.db, owner_unit_id, "owner_unit_id")
        query = select(SupervisionOrder).order_by(SupervisionOrder.id)
        if status:
            query = query.where(SupervisionOrder.status == status)
        if owner_unit_id:
            query = query.join(Item, Item.id == SupervisionOrder.item_id).where(
                Item.owner_unit_id == owner_unit_id)
        return list(self.db.scalars(query.limit(limit).offset(offset)))

    # ------------------------------------------------------------ public notices

    @rpc(args=s.NoticeId, result=s.NoticeOut, errors=(NotFound,))
    def get_notice(self, notice_id):
        return get(self.db, Notice, notice_id, "notice")

    @rpc(result=s.NoticeOut, many=True)
    def list_notices(self):
        return list(self.db.scalars(select(Notice).order_by(Notice.year, Notice.quarter)))

    def _objection_data(self, objection, item):
        return {**self._item_ref(item), "notice_id": objection.notice_id,
                "objection_id": objection.id, "member_id": objection.member_id,
                "reason": objection.reason, "status": objection.status}

    @rpc(args=s.RaiseObjection, result=s.ObjectionOut, writes=True,
         errors=(NotFound, Conflict))
    def raise_objection(self, notice_id, item_id, member_id, reason, raised_on):
        """A member objects to an item on an open public notice, with a reason."""
        notice = get(self.db, Notice, notice_id, "notice")
        directory.member(self.db, member_id)
        rules.check_objection_window(notice.status, notice.closes_on, raised_on)
        if item_id not in notice.item_ids:
            raise Conflict("the item is not on this notice", {"item_id": ["not noticed here"]})
        item = self.db.get(Item, item_id)
        objection = Objection(notice_id=notice.id, item_id=item_id, member_id=member_id,
                              reason=reason, raised_on=raised_on, status="raised")
        self.db.add(objection)
        self.db.flush()
        self._emit(events.OBJECTION_RAISED, self._objection_data(objection, item),
                   ("item", item.id))
        return objection

    @rpc(args=s.ReviewObjection, result=s.ObjectionOut, writes=True,
         errors=(NotFound, Conflict))
    def review_objection(self, objection_id, upheld, note, new_deadline, reviewed_on):
        """Uphold an objection (the item goes back as non-conforming) or reject it."""
        objection = get(self.db, Objection, objection_id, "objection")
        if objection.status != "raised":
            raise Conflict("the objection was already reviewed", {"objection_id": ["reviewed"]})
        if upheld and new_deadline is None:
            raise Conflict("an upheld objection needs a new deadline for the owner",
                           {"new_deadline": ["required when upheld"]})
        item = self.db.get(Item, objection.item_id)
        objection.status, objection.review_note = ("upheld" if upheld else "rejected"), note
        self._emit(events.OBJECTION_REVIEWED, self._objection_data(objection, item),
                   ("item", item.id))
        notice = self.db.get(Notice, objection.notice_id)
        if upheld and item.status in ("completed", "noticed"):
            self._make_non_conforming(item, note, new_deadline, "objection", reviewed_on)
        elif (notice.status == "closed" and item.status == "completed"
              and not self._pending_objections(notice, item)):
            # The notice closed while this objection was pending; now the item is noticed.
            item.status, item.noticed_on = "noticed", reviewed_on
        return objection

    @rpc(args=s.RenderNotice, result=s.RenderOut, errors=(NotFound,))
    def render_notice(self, notice_id, file_format):
        """The notice as a printable page: HTML, or PDF."""
        notice = get(self.db, Notice, notice_id, "notice")
        items = list(self.db.scalars(select(Item).where(Item.id.in_(notice.item_ids))
                                     .order_by(*PRINT_ORDER)))
        rows = [{**self._item_ref(i), "completed_on": i.completed_on, "status": i.status}
                for i in items]
        content = documents.render_notice(notice, rows, file_format)
        return {"file_format": file_format, "content_base64": base64.b64encode(content).decode()}

    @rpc(args=s.Vote, result=s.VoteOut, writes=True, errors=(NotFound, Conflict))
    def vote_satisfaction(self, item_id, member_id, score, voted_on):
        """A member's satisfaction (1–5) with a completed item; one vote per member."""
        item = get(self.db, Item, item_id, "item")
        directory.member(self.db, member_id)
        if item.status not in ("completed", "noticed"):
            raise Conflict("votes are on completed items", {"item_id": [f"item is {item.status}"]})
        if self.db.scalar(select(SatisfactionVote.id).where(
                SatisfactionVote.item_id == item_id, SatisfactionVote.member_id == member_id)):
            raise Conflict("the member has voted on this item", {"member_id": ["voted"]})
        vote = SatisfactionVote(item_id=item_id, member_id=member_id, score=score,
                                voted_on=voted_on)
        self.db.add(vote)
        self.db.flush()
        record_change(self.db, self.actor(), "deeds.satisfaction_voted", ("item", item_id),
                      {"member_id": member_id, "score": score})
        return vote

    # ------------------------------------------------------------ evaluation

    def _weights(self):
        setting = self.db.get(Setting, "evaluation_weights")
        return setting.value if setting else dict(rules.DEFAULT_WEIGHTS)

    @rpc(args=s.SetWeights, result=s.WeightsOut, writes=True, errors=(Conflict,))
    def set_evaluation_weights(self, weights):
        """Weights of completion, timeliness, supervision, objections and satisfaction."""
        rules.check_weights(weights)
        setting = self.db.get(Setting, "evaluation_weights")
        if setting is None:
            self.db.add(Setting(key="evaluation_weights", value=weights))
        else:
            setting.value = weights
        record_change(self.db, self.actor(), "deeds.evaluation_weights_set",
                      ("settings", "evaluation_weights"), weights)
        return {"weights": weights}

    @rpc(result=s.FocusAreaOut, many=True)
    def list_focus_areas(self):
        """The five focuses (五个聚焦) with the names this federation gives them."""
        setting = self.db.get(Setting, "focus_area_names")
        names = {**rules.FOCUS_AREAS, **(setting.value if setting else {})}
        return [{"code": code, "name": names[code]} for code in rules.FOCUS_AREAS]

    @rpc(args=s.NameFocusAreas, result=s.FocusAreaOut, many=True, writes=True)
    def name_focus_areas(self, names):
        """Rename focus areas (the codes stay, so items and events keep their meaning)."""
        setting = self.db.get(Setting, "focus_area_names")
        merged = {**(setting.value if setting else {}), **names}
        if setting is None:
            self.db.add(Setting(key="focus_area_names", value=merged))
        else:
            setting.value = merged
        record_change(self.db, self.actor(), "deeds.focus_areas_named",
                      ("settings", "focus_area_names"), names)
        all_names = {**rules.FOCUS_AREAS, **merged}
        return [{"code": code, "name": all_names[code]} for code in rules.FOCUS_AREAS]

    @rpc(args=s.QuarterQuery, result=s.EvaluationOut, errors=(NotFound,))
    def get_evaluation(self, year, quarter):
        evaluation = self.db.scalar(select(Evaluation).where(Evaluation.year == year,
                                                             Evaluation.quarter == quarter))
        if evaluation is None:
            raise NotFound(f"no evaluation for {year} Q{quarter} yet", {"quarter": ["none"]})
        return evaluation

    # ------------------------------------------------------------ commitments

    def _commitment_data(self, commitment):
        return {"commitment_id": commitment.id, "owner_kind": commitment.owner_kind,
                "owner_unit_id": commitment.owner_unit_id,
                "owner_unit_name": self._lookup.unit_name(commitment.owner_unit_id),
                "owner_member_id": commitment.owner_member_id,
                "owner_member_name": self._lookup.member_name(commitment.owner_member_id),
                "title": commitment.title, "metric": commitment.metric,
                "target": commitment.target, "achieved": commitment.achieved,
                "starts_on": commitment.starts_on, "ends_on": commitment.ends_on}

    def _commitment_out(self, commitment, rank=None):
        return {**{c.name: getattr(commitment, c.name) for c in Commitment.__table__.columns},
                "ratio": rules.commitment_ratio(commitment.achieved, commitment.target),
                "rank": rank}

    @rpc(args=s.MakeCommitment, result=s.CommitmentOut, writes=True,
         errors=(NotFound, Conflict))
    def make_commitment(self, owner_kind, owner_unit_id, owner_member_id, title, metric, target,
                        starts_on, ends_on):
        """A public commitment (承诺) with a measurable target and a period, by a unit or a
        cadre ("make commitments, compare performance" 作承诺、比作为)."""
        directory.unit(self.db, owner_unit_id, "owner_unit_id")
        directory.member(self.db, owner_member_id, "owner_member_id")
        if ends_on <= starts_on:
            raise Conflict("a commitment's period must end after it starts",
                           {"ends_on": ["not after starts_on"]})
        if (owner_kind == "member") != (owner_member_id is not None):
            raise Conflict("a cadre's commitment names the cadre; a unit's does not",
                           {"owner_member_id": ["required exactly for owner_kind member"]})
        commitment = Commitment(owner_kind=owner_kind, owner_unit_id=owner_unit_id,
                                owner_member_id=owner_member_id, title=title, metric=metric,
                                target=target, achieved=0.0, starts_on=starts_on,
                                ends_on=ends_on)
        self.db.add(commitment)
        self.db.flush()
        self._emit(events.COMMITMENT_MADE, self._commitment_data(commitment),
                   ("commitment", commitment.id))
        return self._commitment_out(commitment)

    @rpc(args=s.ReportCommitment, result=s.CommitmentOut, writes=True,
         errors=(NotFound, Conflict))
    def report_commitment(self, commitment_id, value, note, reported_on):
        """Progress on a commitment: the value achieved so far."""
        commitment = get(self.db, Commitment, commitment_id, "commitment")
        if not commitment.starts_on <= reported_on <= commitment.ends_on:
            raise Conflict("the report falls outside the commitment's period",
                           {"reported_on": [f"{commitment.starts_on}..{commitment.ends_on}"]})
        self.db.add(CommitmentReport(commitment_id=commitment.id, value=value, note=note,
                                     reported_on=reported_on))
        commitment.achieved = value
        self._emit(events.COMMITMENT_REPORTED, self._commitment_data(commitment),
                   ("commitment", commitment.id))
        return self._commitment_out(commitment)

    @rpc(args=s.CompareCommitments, result=s.CommitmentOut, many=True)
    def compare_commitments(self, year, owner_kind):
        """Commitments of a year ranked by the share of their target achieved."""
        query = select(Commitment).where(func.extract("year", Commitment.starts_on) <= year,
                                         func.extract("year", Commitment.ends_on) >= year)
        if owner_kind:
            query = query.where(Commitment.owner_kind == owner_kind)
        ranked = sorted(self.db.scalars(query), key=lambda c: (
            -rules.commitment_ratio(c.achieved, c.target), c.id))
        return [self._commitment_out(c, rank) for rank, c in enumerate(ranked, start=1)]

    # ------------------------------------------------------------ ledger and figures

    def _ledger(self, level=None, batch=None, focus_area=None, owner_unit_id=None,
                status=None, year=None, track=None, limit=None, offset=0):
        """Ledger rows, filtered and paged by the database: a page costs the same whatever
        the size of the ledger."""
        directory.unit(self.db, owner_unit_id, "owner_unit_id")
        open_order = select(SupervisionOrder.id).where(
            SupervisionOrder.item_id == Item.id, SupervisionOrder.status == "open").exists()
        query = select(Item).order_by(*PRINT_ORDER)
        for column, value in ((Item.level, level), (Item.batch, batch),
                              (Item.focus_area, focus_area),
                              (Item.owner_unit_id, owner_unit_id), (Item.status, status)):
            if value is not None:
                query = query.where(column == value)
        if year is not None:
            query = query.join(DeedList, DeedList.id == Item.list_id).where(
                DeedList.year == year)
        if track is not None:
            track_status, supervised = rules.TRACK_RULES[track]
            query = query.where(Item.status == track_status)
            if supervised is not None:
                query = query.where(open_order if supervised else ~open_order)
        items = list(self.db.scalars(query.offset(offset).limit(limit)))
        ids = [i.id for i in items]
        reports = defaultdict(lambda: [0, 0, None])
        for item_id, count, on_time, last in self.db.execute(
                select(Report.item_id, func.count(), func.count().filter(Report.on_time),
                       func.max(Report.period)).where(Report.item_id.in_(ids))
                .group_by(Report.item_id)):
            reports[item_id] = [count, on_time, last]
        orders = Counter()
        open_orders = set()
        for item_id, order_status in self.db.execute(
                select(SupervisionOrder.item_id, SupervisionOrder.status)
                .where(SupervisionOrder.item_id.in_(ids))):
            orders[item_id] += 1
            if order_status == "open":
                open_orders.add(item_id)
        latest = self._latest_notices()
        rows = []
        for item in items:
            count, on_time, last = reports[item.id]
            rows.append({
                **{c.name: getattr(item, c.name) for c in Item.__table__.columns},
                "track": rules.track(item.status, item.id in open_orders),
                "owner_unit_name": self._lookup.unit_name(item.owner_unit_id),
                "responsible_member_name": self._lookup.member_name(
                    item.responsible_member_id),
                "reports": count, "reports_on_time": on_time, "last_report_period": last,
                "supervision_orders": orders[item.id], "open_supervision": item.id in open_orders,
                "notice_id": latest[item.id].id if item.id in latest else None})
        return rows

    @rpc(args=s.LedgerQuery, result=s.LedgerRow, many=True, errors=(NotFound,))
    def ledger(self, level, batch, focus_area, owner_unit_id, status, track, year, limit,
               offset):
        """The ledger (台账): every item with its reports, supervision and notice."""
        return self._ledger(level, batch, focus_area, owner_unit_id, status, year, track,
                            limit, offset)

    @rpc(args=s.LedgerExport, result=s.ExportOut, errors=(NotFound,))
    def export_ledger(self, level, batch, focus_area, owner_unit_id, status, year, details):
        """The ledger as an Excel workbook laid out for printing: a sheet of the items and,
        unless ``details`` is false, a sheet each of their monthly reports, supervision
        orders and objections to their public notices."""
        rows = self._ledger(level, batch, focus_area, owner_unit_id, status, year)
        reports, orders, objections = self._ledger_details(rows) if details else (None,) * 3
        content = documents.ledger_workbook(rows, year, reports, orders, objections)
        return {"rows": len(rows), "content_base64": base64.b64encode(content).decode(),
                **{name: (len(found) if found is not None else None) for name, found in (
                    ("reports", reports), ("supervision_orders", orders),
                    ("objections", objections))}}

    def _ledger_details(self, rows):
        items = {r["id"]: {"item_title": r["title"], "owner_unit_name": r["owner_unit_name"]}
                 for r in rows}
        ids = list(items)
        position = {item_id: n for n, item_id in enumerate(ids)}  # the items sheet's order

        def columns(record, names):
            return {**items[record.item_id], **{n: getattr(record, n) for n in names}}

        reports = [columns(r, ("period", "progress", "text", "attachment_ref", "submitted_on",
                               "due_on", "on_time"))
                   for r in sorted(self.db.scalars(select(Report).where(
                       Report.item_id.in_(ids))), key=lambda r: (position[r.item_id], r.period))]
        orders = [{**columns(o, ("period", "reason", "issued_on", "deadline",
                                 "escalation_level", "status", "closed_on", "closed_by",
                                 "explanation")),
                   "supervising_unit_name": self._lookup.unit_name(o.supervising_unit_id),
                   "escalated_to_unit_name": (self._lookup.unit_name(o.escalated_to_unit_id)
                                              if o.escalated_to_unit_id else None)}
                  for o in sorted(self.db.scalars(select(SupervisionOrder).where(
                      SupervisionOrder.item_id.in_(ids))),
                      key=lambda o: (position[o.item_id], o.period))]
        objections = [{**columns(o, ("reason", "raised_on", "status", "review_note")),
                       "year": year, "quarter": quarter,
                       "member_name": self._lookup.member_name(o.member_id)}
                      for o, year, quarter in self.db.execute(
                          select(Objection, Notice.year, Notice.quarter)
                          .join(Notice, Notice.id == Objection.notice_id)
                          .where(Objection.item_id.in_(ids))
                          .order_by(Notice.year, Notice.quarter, Objection.id))]
        return reports, orders, objections

    @rpc(args=s.FiguresQuery, result=s.UnitFigures, many=True)
    def figures(self, level, year):
        """Per unit and level: items per track and the on-time report rate."""
        table = {}
        for row in self._ledger(level=level, year=year):
            key = (row["owner_unit_id"], row["level"])
            entry = table.setdefault(key, {
                "unit_id": row["owner_unit_id"], "unit_name": row["owner_unit_name"],
                "level": row["level"], "items": 0, "tracks": dict.fromkeys(rules.TRACKS, 0),
                "reports": 0, "reports_on_time": 0})
            entry["items"] += 1
            entry["tracks"][row["track"]] += 1
            entry["reports"] += row["reports"]
            entry["reports_on_time"] += row["reports_on_time"]
        for entry in table.values():
            entry["on_time_rate"] = round(entry["reports_on_time"] / entry["reports"], 4) \
                if entry["reports"] else 0.0
        return [table[k] for k in sorted(table)]

    # ------------------------------------------------------------ the day's work

    @rpc(args=s.Tick, result=s.TickOut, writes=True)
    def tick(self, as_of):
        """The day's work for ``as_of``: report reminders before the due day, overdue reports
        and their supervision orders, escalations up the tree, opening and closing the
        quarterly public notice, and the quarterly evaluation. Idempotent."""
        return self._tick(as_of)


    def _tick(self, as_of):
        begin_day(self.db, self.tick_name, as_of)
        counts = Counter()
        self._report_reminders(as_of, counts)
        self._missed_deadlines(as_of, counts)
        self._escalations(as_of, counts)
        self._notices(as_of, counts)
        self._evaluation(as_of, counts)
        return {"as_of": as_of, **{key: counts[key] for key in (
            "report_due", "report_overdue", "supervision_issued", "supervision_escalated",
            "notice_published", "notice_closed", "evaluation_published")}}

    def _report_reminders(self, as_of, counts):
        settings, calendar = self.settings, self.calendar
        current = rules.period_of(as_of)
        for period in (rules.previous_period(current), current):
            due_on = rules.due_date(period, settings.report_due_day, calendar)
            remind_from = calendar.add_working_days(due_on, -settings.due_notice_working_days)
            if remind_from <= as_of <= due_on:
                for item in queries.items_owing(self.db, period, due_on, "due"):
                    self._remind(item, period, due_on, as_of, "due", events.REPORT_DUE)
                    counts["report_due"] += 1
            elif as_of > due_on:
                for item in queries.items_owing(self.db, period, due_on, "overdue"):
                    self._remind(item, period, due_on, as_of, "overdue", events.REPORT_OVERDUE)
                    counts["report_overdue"] += 1
                    self._issue_supervision(item, "report", period, due_on, as_of)
                    counts["supervision_issued"] += 1

    def _missed_deadlines(self, as_of, counts):
        """An item past its planned completion, or a non-conforming one past its new
        deadline, is overdue like a missed report: a supervision order on the same ladder."""
        for item, cause, deadline in queries.items_past_deadline(self.db, as_of):
            self._issue_supervision(item, cause, rules.period_of(deadline), deadline, as_of)
            counts["supervision_issued"] += 1

    def _remind(self, item, period, due_on, as_of, kind, declared):
        self.db.add(ReminderSent(item_id=item.id, period=period, kind=kind))
        recipients = [item.responsible_member_id] if item.responsible_member_id else []
        self._emit(declared, {**self._item_ref(item), "period": period, "due_on": due_on,
                              "as_of": as_of, "recipient_member_ids": recipients},
                   ("item", item.id), actor=SYSTEM_TICK)

    def _issue_supervision(self, item, cause, period, missed_on, as_of):
        chain = self._lookup.union_chain(item.owner_unit_id)
        supervising_unit = chain[0][0] if chain else item.owner_unit_id
        order = SupervisionOrder(
            item_id=item.id, period=period, cause=cause, supervising_unit_id=supervising_unit,
            reason=rules.order_reason(cause, period, missed_on),
            issued_on=as_of, status="open", escalation_level=0,
            deadline=self.calendar.add_working_days(as_of,
                                                    self.settings.supervision_working_days))
        self.db.add(order)
        self.db.flush()
        # The supervising union's officers are named by unit (supervising_unit_id) and
        # resolved by notifications: who is told is decided there once.
        recipients = [item.responsible_member_id] if item.responsible_member_id else []
        self._emit(events.SUPERVISION_ISSUED, self._order_data(order, item, recipients),
                   ("item", item.id), actor=SYSTEM_TICK)

    def _escalations(self, as_of, counts):
        orders = list(self.db.scalars(select(SupervisionOrder).where(
            SupervisionOrder.status == "open", SupervisionOrder.deadline < as_of,
            SupervisionOrder.at_top.is_(False)).order_by(SupervisionOrder.id)))
        items = {i.id: i for i in self.db.scalars(select(Item).where(
            Item.id.in_({o.item_id for o in orders})))} if orders else {}
        for order in orders:
            item = items[order.item_id]
            chain = self._lookup.union_chain(item.owner_unit_id)
            level = order.escalation_level + 1
            if level >= len(chain):
                order.at_top = True  # no union above: it stays open at the top one
                continue
            order.escalation_level, order.escalated_to_unit_id = level, chain[level][0]
            order.deadline = self.calendar.add_working_days(
                as_of, self.settings.supervision_working_days)
            # escalated_to_unit_id names the union told; notifications resolves its officers
            self._emit(events.SUPERVISION_ESCALATED, self._order_data(order, item, []),
                       ("item", item.id), actor=SYSTEM_TICK)
            counts["supervision_escalated"] += 1

    def _notices(self, as_of, counts):
        year, quarter = rules.previous_quarter(*rules.quarter_of(as_of))
        due_to_open, _ = rules.notice_window(year, quarter, self.settings, self.calendar)
        exists = self.db.scalar(select(Notice.id).where(Notice.year == year,
                                                        Notice.quarter == quarter))
        if as_of >= due_to_open and not exists:
            opens_on, closes_on = rules.notice_window(year, quarter, self.settings,
                                                      self.calendar, opened_on=as_of)
            _, last = rules.quarter_bounds(year, quarter)
            # An item is in an earlier notice if that notice opened after its completion;
            # one sent back (non-conforming) and completed again is noticed again.
            latest = self._latest_notices()
            items = [i for i in self.db.scalars(select(Item).where(
                Item.status == "completed", Item.completed_on <= last).order_by(Item.id))
                if i.id not in latest or latest[i.id].opens_on < i.completed_on]
            if items:
                notice = Notice(year=year, quarter=quarter, opens_on=opens_on,
                                closes_on=closes_on, status="open",
                                item_ids=[i.id for i in items])
                self.db.add(notice)
                self.db.flush()
                self._emit(events.NOTICE_PUBLISHED, self._notice_data(notice),
                           ("notice", notice.id), actor=SYSTEM_TICK)
                counts["notice_published"] += 1
        for notice in self.db.scalars(select(Notice).where(Notice.status == "open",
                                                           Notice.closes_on < as_of)):
            notice.status = "closed"
            pending = set(self.db.scalars(select(Objection.item_id).where(
                Objection.notice_id == notice.id, Objection.status == "raised")))
            for item in self.db.scalars(select(Item).where(Item.id.in_(notice.item_ids))):
                if item.status == "completed" and item.id not in pending:
                    item.status, item.noticed_on = "noticed", as_of
            self._emit(events.NOTICE_CLOSED, self._notice_data(notice), ("notice", notice.id),
                       actor=SYSTEM_TICK)
            counts["notice_closed"] += 1

    def _latest_notices(self):
        """``{item_id: the latest notice the item was in}`` (an item sent back and completed
        again is in more than one)."""
        return {item_id: notice
                for notice in self.db.scalars(select(Notice).order_by(Notice.opens_on))
                for item_id in notice.item_ids}

    def _pending_objections(self, notice, item):
        return self.db.scalar(select(func.count()).select_from(Objection).where(
            Objection.notice_id == notice.id, Objection.item_id == item.id,
            Objection.status == "raised"))

    def _notice_data(self, notice):
        items = list(self.db.scalars(select(Item).where(Item.id.in_(notice.item_ids))))
        noticed = [i for i in items if i.status == "noticed"]
        # An open notice concerns all its items; a closed one those it publicly noticed.
        concerned = items if notice.status == "open" else noticed
        return {"notice_id": notice.id, "year": notice.year, "quarter": notice.quarter,
                "opens_on": notice.opens_on, "closes_on": notice.closes_on,
                "item_ids": notice.item_ids,
                "noticed_item_ids": sorted(i.id for i in noticed),
                "non_conforming_item_ids": sorted(i.id for i in items
                                                  if i.status == "non_conforming"),
                "idea_submitter_member_ids": sorted(
                    {self._idea_submitter(i.idea_id) for i in concerned} - {None})}

    def _evaluation(self, as_of, counts):
        year, quarter = rules.previous_quarter(*rules.quarter_of(as_of))
        _, closes_on = rules.notice_window(year, quarter, self.settings, self.calendar)
        # a notice opened late closes late: the evaluation waits for its objections
        notice_closes = self.db.scalar(select(Notice.closes_on).where(
            Notice.year == year, Notice.quarter == quarter))
        closes_on = max(closes_on, notice_closes or closes_on)
        if as_of <= closes_on or self.db.scalar(select(Evaluation.id).where(
                Evaluation.year == year, Evaluation.quarter == quarter)):
            return
        weights = self._weights()
        ranking = rules.score_units(self._quarter_stats(year, quarter), weights)
        for row in ranking:
            row["unit_name"] = self._lookup.unit_name(row["unit_id"])
        if not ranking:
            return
        evaluation = Evaluation(year=year, quarter=quarter, published_on=as_of,
                                weights=weights, ranking=ranking)
        self.db.add(evaluation)
        self.db.flush()
        _, last = rules.quarter_bounds(year, quarter)
        submitters = self.db.scalars(
            select(Idea.submitter_member_id).distinct()
            .join(Item, Item.idea_id == Idea.id).join(DeedList, DeedList.id == Item.list_id)
            .where(DeedList.year == year, Item.created_on <= last,
                   Idea.submitter_member_id.is_not(None)))
        self._emit(events.EVALUATION_PUBLISHED, {
            "evaluation_id": evaluation.id, "year": year, "quarter": quarter,
            "weights": weights, "ranking": ranking,
            "idea_submitter_member_ids": sorted(submitters)}, ("evaluation", evaluation.id),
            actor=SYSTEM_TICK)
        counts["evaluation_published"] += 1

    def _quarter_stats(self, year, quarter):
        """Each unit's figures of the quarter for its items of the year's lists: one grouped
        query per figure, whatever the number of units."""
        first, last = rules.quarter_bounds(year, quarter)
        periods = [rules.period_of(first.replace(month=first.month + k)) for k in range(3)]
        scope = (select(Item.id.label("item_id"), Item.owner_unit_id.label("unit_id"))
                 .join(DeedList, DeedList.id == Item.list_id)
                 .where(DeedList.year == year, Item.created_on <= last).subquery())

        def per_unit(model, *figures, where=()):
            query = (select(scope.c.unit_id, *figures).select_from(model)
                     .join(scope, scope.c.item_id == model.id if model is Item
                           else scope.c.item_id == model.item_id)
                     .where(*where).group_by(scope.c.unit_id))
            return {unit_id: figures for unit_id, *figures in self.db.execute(query)}

        done = Item.status.in_(("completed", "noticed")) & (Item.completed_on <= last)
        items = per_unit(Item, func.count(), func.count().filter(done))
        on_time = per_unit(Report, func.count(), where=[Report.period.in_(periods),
                                                       Report.on_time.is_(True)])
        missed = per_unit(ReminderSent, func.count(), where=[
            ReminderSent.period.in_(periods), ReminderSent.kind == "overdue"])
        orders = per_unit(SupervisionOrder, func.count(), where=[
            SupervisionOrder.issued_on.between(first, last)])
        upheld = per_unit(Objection, func.count(), where=[
            Objection.status == "upheld", Objection.raised_on.between(first, last)])
        votes = per_unit(SatisfactionVote, func.count(), func.sum(SatisfactionVote.score),
                         where=[SatisfactionVote.voted_on.between(first, last)])
        stats = {}
        for unit_id, (count, completed) in items.items():
            reported_on_time = on_time.get(unit_id, (0,))[0]
            voted, score_sum = votes.get(unit_id, (0, 0))
            stats[unit_id] = {
                "items": count, "completed": completed, "reports_on_time": reported_on_time,
                # Owed: the reports sent on time, and every one that went overdue (a late
                # report went overdue first, so it is counted there once).
                "reports_owed": reported_on_time + missed.get(unit_id, (0,))[0],
                "supervision_orders": orders.get(unit_id, (0,))[0],
                "upheld_objections": upheld.get(unit_id, (0,))[0],
                "satisfaction": (round((int(score_sum) / voted - 1) / 4, 4) if voted
                                 else None)}
        return stats
