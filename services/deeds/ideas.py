"""Golden ideas (金点子): submitted by a member or a unit, argued (论证), studied (专题研究),
then accepted into a deed list or declined with a reason for the submitter (``IDEA_FLOW``).

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()`` and ``work.lookup``.
"""

from gonghui import directory
from gonghui.actor import require_self, require_today
from gonghui.errors import Forbidden, ValidationError, get_or_not_found
from services.deeds import events, items, payloads, queries, rules
from services.deeds.models import Idea


def submit_idea(work, title, description, focus_area, submitter_unit_id, submitter_member_id,
                submitted_on):
    """A member's idea comes from their unit unless another is named; a member submits only
    as themselves, from their own unit."""
    member = directory.member(work.db, submitter_member_id, "submitter_member_id")
    actor = work.actor()
    if actor.kind == "member":
        require_self(actor, member.employee_no if member else None)
        require_today(actor, submitted_on, "submitted_on")
        if submitter_unit_id not in (None, member.unit_id):
            raise Forbidden("a member's idea comes from their own unit",
                            {"submitter_unit_id": ["not the calling member's unit"]})
    if submitter_unit_id is None:
        submitter_unit_id = member.unit_id if member else None
        if submitter_unit_id is None:
            raise ValidationError("name the unit the idea comes from", {
                "submitter_unit_id": ["required when no member of a unit submits it"]})
    directory.unit(work.db, submitter_unit_id, "submitter_unit_id")
    idea = Idea(title=title, description=description, focus_area=focus_area,
                submitter_unit_id=submitter_unit_id, submitter_member_id=submitter_member_id,
                submitted_on=submitted_on, status="submitted")
    work.db.add(idea)
    work.db.flush()
    work.emit(events.IDEA_SUBMITTED, payloads.idea_data(work, idea), ("idea", idea.id))
    return idea


def review_idea(work, idea_id, step, reason):
    idea = get_or_not_found(work.db, Idea, idea_id, "idea")
    rules.check_idea_step(idea.status, step, reason)
    idea.status, idea.reason = step, reason
    work.emit(events.IDEA_REVIEWED, payloads.idea_data(work, idea), ("idea", idea.id))
    return idea


def accept_idea(work, idea_id, list_id, owner_unit_id, responsible_member_id, batch,
                planned_completion, accepted_on):
    """The studied idea becomes an item of the list, grown from it (``item.idea_id``)."""
    idea = get_or_not_found(work.db, Idea, idea_id, "idea")
    rules.check_idea_step(idea.status, "accepted")
    item = items.create_item(work, list_id, idea.title, idea.description, idea.focus_area,
                             batch, owner_unit_id, responsible_member_id, planned_completion,
                             None, 1.0, accepted_on, idea_id=idea.id)
    idea.status, idea.item_id = "accepted", item.id
    work.emit(events.IDEA_REVIEWED, payloads.idea_data(work, idea), ("idea", idea.id))
    return items.item_out(work, item)


def list_ideas(work, status, submitter_member_id, unit_id, limit, offset):
    directory.member(work.db, submitter_member_id, "submitter_member_id")
    directory.unit(work.db, unit_id)
    return queries.ideas(work.db, status, submitter_member_id, unit_id, limit, offset)
