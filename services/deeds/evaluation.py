"""The quarterly evaluation (季评价): units ranked on completion, timeliness, supervision,
objections and members' satisfaction votes (1–5), with operator-set weights, published once
the quarter's public notice has closed.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)``, ``work.actor()``, ``work.lookup``,
``work.settings`` and ``work.calendar``.
"""

from gonghui import directory
from gonghui.actor import SYSTEM_TICK, require_self, require_today
from gonghui.errors import Conflict, NotFound, get_or_not_found
from gonghui.events import record_change
from services.deeds import events, queries, rules
from services.deeds.models import Evaluation, Item, SatisfactionVote, Setting


def weights(work):
    return queries.stored_setting(work.db, "evaluation_weights", dict(rules.DEFAULT_WEIGHTS))


def set_weights(work, new_weights):
    rules.check_weights(new_weights)
    work.db.merge(Setting(key="evaluation_weights", value=new_weights))
    record_change(work.db, work.actor(), "deeds.evaluation_weights_set",
                  ("settings", "evaluation_weights"), new_weights)
    return {"weights": new_weights}


def vote_satisfaction(work, item_id, member_id, score, voted_on):
    item = get_or_not_found(work.db, Item, item_id, "item")
    require_self(work.actor(), directory.member(work.db, member_id).employee_no)
    require_today(work.actor(), voted_on, "voted_on")
    rules.check_item_step("vote", item.status)
    if queries.has_voted(work.db, item_id, member_id):
        raise Conflict("the member has voted on this item", {"member_id": ["voted"]})
    vote = SatisfactionVote(item_id=item_id, member_id=member_id, score=score,
                            voted_on=voted_on)
    work.db.add(vote)
    work.db.flush()
    record_change(work.db, work.actor(), "deeds.satisfaction_voted", ("item", item_id),
                  {"member_id": member_id, "score": score})
    return vote


def get_evaluation(work, year, quarter):
    evaluation = queries.evaluation_of(work.db, year, quarter)
    if evaluation is None:
        raise NotFound(f"no evaluation for {year} Q{quarter} yet", {"quarter": ["none"]})
    return evaluation


def publish(work, as_of, counts):
    """The last quarter's evaluation, once its notice's objections are in: a notice opened
    late closes late, and the evaluation waits for it."""
    year, quarter = rules.previous_quarter(*rules.quarter_of(as_of))
    _, closes_on = rules.notice_window(year, quarter, work.settings, work.calendar)
    notice = queries.notice_of(work.db, year, quarter)
    closes_on = max(closes_on, notice.closes_on if notice else closes_on)
    if as_of <= closes_on or queries.evaluation_of(work.db, year, quarter):
        return
    used = weights(work)
    ranking = rules.score_units(queries.quarter_stats(work.db, year, quarter), used)
    for row in ranking:
        row["unit_name"] = work.lookup.unit_name(row["unit_id"])
    if not ranking:
        return
    evaluation = Evaluation(year=year, quarter=quarter, published_on=as_of, weights=used,
                            ranking=ranking)
    work.db.add(evaluation)
    work.db.flush()
    _, last = rules.quarter_bounds(year, quarter)
    work.emit(events.EVALUATION_PUBLISHED, {
        "evaluation_id": evaluation.id, "year": year, "quarter": quarter, "weights": used,
        "ranking": ranking,
        "idea_submitter_member_ids": queries.idea_submitters_of_year(work.db, year, last)},
        ("evaluation", evaluation.id), actor=SYSTEM_TICK)
    counts["evaluation_published"] += 1
