"""Routes to deeds: golden ideas, deed lists and items with their monthly reports,
supervision orders, public notices (JSON, a page, a PDF; for anyone where the union makes
them public) and objections, satisfaction votes, evaluations, commitments, the ledger (a page
of JSON, and the workbook), the figures, the focus areas, and deeds' audit trail.

A member acts for themselves only (ideas, objections, votes: ``self_member``); an item, an
order, an objection or a commitment is the business of the officers over the unit that owns
it (looked up in deeds before the policy decides); lists over the tree are limited to the
officer's subtree (``scope``)."""

from gonghui.audit import AuditHistory, AuditQuery
from services.deeds import schemas as s
from services.gateway.policy import ADMIN, AUDIT, MEMBERS, OFFICE, PERSONAL, PUBLIC, SELF
from services.gateway.routing import arg, lookup, member_unit, read, write

IDEAS, DEEDS, SUPERVISION, NOTICES, EVALUATION, COMMITMENTS, LEDGER = (
    "ideas", "deeds", "supervision", "notices", "evaluation", "commitments", "ledger")
HTML, PDF = "text/html; charset=utf-8", "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The gateway setting that opens the public notice to anyone (off by default).
PUBLIC_NOTICES = "PUBLIC_NOTICES"

# Whose business a record is: the unit it belongs to, asked of deeds before the policy decides.
IDEA_UNIT = lookup("deeds.get_idea", "idea_id", "submitter_unit_id")
IDEA_SUBMITTER = lookup("deeds.get_idea", "idea_id", "submitter_member_id")
LIST_UNIT = lookup("deeds.get_list", "list_id", "unit_id")
ITEM_UNIT = lookup("deeds.get_item", "item_id", "owner_unit_id")
ORDER_UNIT = lookup("deeds.get_supervision", "order_id", "supervising_unit_id")
OBJECTION_UNIT = lookup("deeds.get_objection", "objection_id", "owner_unit_id")
COMMITMENT_UNIT = lookup("deeds.get_commitment", "commitment_id", "owner_unit_id")


def _subtree_list(path_, rpc, **options):
    """A list over the tree for the offices: limited to the officer's subtree (``unit_id``,
    their union's by default), and to units in it where an owner unit is named."""
    return read(path_, rpc, OFFICE, unit=arg("unit_id"), scope="unit_id",
                also=(arg("owner_unit_id"),), **options)


ROUTES = [
    # ------------------------------------------------------------ golden ideas
    _subtree_list("/ideas", "deeds.list_ideas", args=s.ListIdeas, result=s.IdeaOut,
                  paged=True, tag=IDEAS,
                  summary="Golden ideas from the units of my subtree (the review queue)"),
    read("/me/ideas", "deeds.list_ideas", SELF, self_member="submitter_member_id",
         args=s.ListIdeas, result=s.IdeaOut, paged=True, tag=IDEAS,
         operation_id="list_my_ideas", summary="My golden ideas"),
    write("POST", "/ideas", "deeds.submit_idea", SELF, self_member="submitter_member_id",
          args=s.SubmitIdea, result=s.IdeaOut, status=201, tag=IDEAS,
          summary="Submit a golden idea (金点子), as myself, from my unit"),
    write("POST", "/unit-ideas", "deeds.submit_idea", OFFICE, unit=arg("submitter_unit_id"),
          also=(member_unit("submitter_member_id"),), args=s.SubmitIdea, result=s.IdeaOut,
          status=201, tag=IDEAS, operation_id="submit_unit_idea",
          summary="Record a golden idea of a unit of my subtree (or of one of its members)"),
    read("/ideas/<int:idea_id>", "deeds.get_idea", PERSONAL, unit=IDEA_UNIT,
         member=IDEA_SUBMITTER, args=s.IdeaId, result=s.IdeaOut, tag=IDEAS,
         summary="A golden idea (its submitter, or the officers over its unit)"),
    write("POST", "/ideas/<int:idea_id>/review", "deeds.review_idea", OFFICE, unit=IDEA_UNIT,
          args=s.ReviewIdea, result=s.IdeaOut, tag=IDEAS,
          summary="Move an idea on: argued (论证), studied (专题研究), or declined"),
    write("POST", "/ideas/<int:idea_id>/accept", "deeds.accept_idea", OFFICE, unit=IDEA_UNIT,
          also=(LIST_UNIT, arg("owner_unit_id"), member_unit("responsible_member_id")),
          args=s.AcceptIdea, result=s.ItemOut, status=201, tag=IDEAS,
          summary="Accept a studied idea into a deed list of my "
          "subtree (a new item)"),
    # ------------------------------------------------------------ lists, items, reports
    read("/deed-lists", "deeds.list_lists", MEMBERS, args=s.ListLists, result=s.ListOut,
         many=True, tag=DEEDS, summary="Deed lists (实事清单) of a year"),
    write("POST", "/deed-lists", "deeds.create_list", OFFICE, unit=arg("unit_id"),
          args=s.CreateList, result=s.ListOut, status=201, tag=DEEDS,
          summary="Create a unit's deed list for a year"),
    read("/deed-lists/<int:list_id>", "deeds.get_list", MEMBERS, args=s.ListId,
         result=s.ListOut, tag=DEEDS, summary="A deed list"),
    write("POST", "/deed-items", "deeds.create_item", OFFICE, unit=arg("owner_unit_id"),
          also=(LIST_UNIT, member_unit("responsible_member_id")), args=s.CreateItem,
          result=s.ItemOut, status=201, tag=DEEDS,
          summary="Add a deed item (or a weighted sub-item) to a list of my subtree"),
    read("/deed-items/<int:item_id>", "deeds.get_item", OFFICE, unit=ITEM_UNIT,
         args=s.ItemId, result=s.ItemOut, tag=DEEDS, summary="A deed item and its track"),
    write("POST", "/deed-items/<int:item_id>/reports", "deeds.submit_report", OFFICE,
          unit=ITEM_UNIT, args=s.SubmitReport, result=s.ReportOut, status=201, tag=DEEDS,
          summary="Submit an item's monthly report (月汇报)"),
    read("/deed-items/<int:item_id>/reports", "deeds.list_reports", OFFICE, unit=ITEM_UNIT,
         args=s.ItemId, result=s.ReportOut, many=True, tag=DEEDS,
         summary="An item's monthly reports"),
    write("POST", "/deed-items/<int:item_id>/complete", "deeds.complete_item", OFFICE,
          unit=ITEM_UNIT, args=s.CompleteItem, result=s.ItemOut, tag=DEEDS,
          summary="Complete an item (it goes to the next public notice)"),
    write("POST", "/deed-items/<int:item_id>/non-conforming", "deeds.mark_non_conforming",
          OFFICE, unit=ITEM_UNIT, args=s.MarkNonConforming, result=s.ItemOut, tag=DEEDS,
          summary="Find a completed item non-conforming (不符合): feedback, a new deadline"),
    write("POST", "/deed-items/<int:item_id>/votes", "deeds.vote_satisfaction", SELF,
          self_member="member_id", args=s.Vote, result=s.VoteOut, status=201, tag=DEEDS,
          summary="My satisfaction (1–5) with a completed item, once"),
    read("/focus-areas", "deeds.list_focus_areas", MEMBERS, result=s.FocusAreaOut,
         many=True, tag=DEEDS, summary="The five focuses (五个聚焦) and their names"),
    write("PUT", "/focus-areas", "deeds.name_focus_areas", ADMIN, args=s.NameFocusAreas,
          result=s.FocusAreaOut, many=True, tag=DEEDS, summary="Rename focus areas"),
    # ------------------------------------------------------------ supervision
    _subtree_list("/supervision", "deeds.list_supervision", args=s.ListSupervision,
                  result=s.SupervisionOut, paged=True, tag=SUPERVISION,
                  summary="Supervision orders (督办单) over my subtree's items"),
    read("/supervision/<int:order_id>", "deeds.get_supervision", OFFICE, unit=ORDER_UNIT,
         args=s.OrderId, result=s.SupervisionOut, tag=SUPERVISION,
         summary="A supervision order"),
    write("POST", "/supervision/<int:order_id>/close", "deeds.close_supervision", OFFICE,
          unit=ORDER_UNIT, args=s.CloseSupervision, result=s.SupervisionOut,
          tag=SUPERVISION, summary="Close an order, accepting an explanation"),
    # ------------------------------------------------------------ notices and objections
    read("/notices", "deeds.list_notices", MEMBERS, result=s.NoticeOut, many=True,
         tag=NOTICES, summary="Quarterly public notices (季公示)"),
    read("/notices/<int:notice_id>", "deeds.get_notice", MEMBERS, args=s.NoticeId,
         result=s.NoticeOut, tag=NOTICES, summary="A public notice"),
    read("/notices/<int:notice_id>.html", "deeds.render_notice", MEMBERS,
         args=s.RenderNotice, result=s.RenderOut, fixed={"file_format": "html"},
         content=HTML, tag=NOTICES, operation_id="notice_page",
         summary="A public notice as a page"),
    read("/notices/<int:notice_id>.pdf", "deeds.render_notice", MEMBERS,
         args=s.RenderNotice, result=s.RenderOut, fixed={"file_format": "pdf"},
         content=PDF, tag=NOTICES, operation_id="notice_pdf",
         summary="A public notice as a PDF for printing"),
    write("POST", "/notices/<int:notice_id>/objections", "deeds.raise_objection", SELF,
          self_member="member_id", args=s.RaiseObjection, result=s.ObjectionOut,
          status=201, tag=NOTICES,
          summary="Object to an item of an open notice, as myself, with a reason"),
    _subtree_list("/notices/<int:notice_id>/objections", "deeds.list_objections",
                  args=s.ListObjections, result=s.ObjectionOut, paged=True, tag=NOTICES,
                  summary="Objections to a notice's items of my subtree"),
    read("/objections/<int:objection_id>", "deeds.get_objection", OFFICE,
         unit=OBJECTION_UNIT, args=s.ObjectionId, result=s.ObjectionOut, tag=NOTICES,
         summary="An objection"),
    write("POST", "/objections/<int:objection_id>/review", "deeds.review_objection", OFFICE,
          unit=OBJECTION_UNIT, args=s.ReviewObjection, result=s.ObjectionOut, tag=NOTICES,
          summary="Uphold an objection (the item goes back, non-conforming) or reject it"),
    read("/public/notices", "deeds.list_notices", PUBLIC, setting=PUBLIC_NOTICES,
         result=s.NoticeOut, many=True, tag=NOTICES, operation_id="public_notices",
         summary="Public notices, for anyone (where the union makes them public)"),
    read("/public/notices/<int:notice_id>", "deeds.render_notice", PUBLIC,
         setting=PUBLIC_NOTICES, args=s.RenderNotice, result=s.RenderOut,
         fixed={"file_format": "html"}, content=HTML, tag=NOTICES,
         operation_id="public_notice_page",
         summary="A public notice as a page, for anyone (where the union makes it public)"),
    # ------------------------------------------------------------ evaluation
    read("/evaluations/<int:year>/<int:quarter>", "deeds.get_evaluation", MEMBERS,
         args=s.QuarterQuery, result=s.EvaluationOut, tag=EVALUATION,
         summary="A quarter's evaluation (季评价): the units ranked"),
    write("PUT", "/evaluation-weights", "deeds.set_evaluation_weights", ADMIN,
          args=s.SetWeights, result=s.WeightsOut, tag=EVALUATION,
          summary="Weights of completion, timeliness, supervision, objections, satisfaction"),
    # ------------------------------------------------------------ commitments
    read("/commitments", "deeds.compare_commitments", MEMBERS, args=s.CompareCommitments,
         result=s.CommitmentOut, many=True, tag=COMMITMENTS,
         summary="A year's commitments (承诺), ranked by the share of the target achieved"),
    write("POST", "/commitments", "deeds.make_commitment", OFFICE, unit=arg("owner_unit_id"),
          also=(member_unit("owner_member_id"),), args=s.MakeCommitment,
          result=s.CommitmentOut, status=201, tag=COMMITMENTS,
          summary="Make a commitment of a unit or a cadre of my subtree"),
    read("/commitments/<int:commitment_id>", "deeds.get_commitment", MEMBERS,
         args=s.CommitmentId, result=s.CommitmentOut, tag=COMMITMENTS,
         summary="A commitment"),
    write("POST", "/commitments/<int:commitment_id>/reports", "deeds.report_commitment",
          OFFICE, unit=COMMITMENT_UNIT, args=s.ReportCommitment, result=s.CommitmentOut,
          status=201, tag=COMMITMENTS, summary="Report progress on a commitment"),
    # ------------------------------------------------------------ ledger and figures
    _subtree_list("/ledger", "deeds.ledger", args=s.LedgerQuery, result=s.LedgerRow,
                  paged=True, tag=LEDGER,
                  summary="The ledger (台账) of my subtree's items, filtered"),
    _subtree_list("/ledger.xlsx", "deeds.export_ledger", args=s.LedgerExport,
                  result=s.ExportOut, content=XLSX, tag=LEDGER,
                  summary="The ledger as a workbook for printing"),
    read("/ledger/figures", "deeds.figures", OFFICE, unit=arg("unit_id"), scope="unit_id",
         args=s.FiguresQuery, result=s.UnitFigures, many=True, tag=LEDGER,
         summary="Per unit of my subtree: items per track, the on-time report rate"),
    # ------------------------------------------------------------ audit trail
    read("/audit/deeds/<entity_type>/<entity_id>", "deeds.audit_history", AUDIT,
         args=AuditQuery, result=AuditHistory, tag="audit",
         summary="Who changed a record of deeds, and what"),
]
