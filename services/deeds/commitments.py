"""Commitments (承诺) of units and cadres with a measurable target and a period, reported
on, and compared by the share of their target achieved ("make commitments, compare
performance" 作承诺、比作为).

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint), ``work.emit(declared,
data, aggregate, actor=None, changes=None)`` and ``work.lookup``.
"""

from gonghui import directory
from gonghui.errors import get_or_not_found
from services.deeds import events, payloads, queries, rules
from services.deeds.models import Commitment, CommitmentReport


def commitment_out(commitment, rank=None):
    return {**{c.name: getattr(commitment, c.name) for c in Commitment.__table__.columns},
            "ratio": rules.commitment_ratio(commitment.achieved, commitment.target),
            "rank": rank}


def make_commitment(work, owner_kind, owner_unit_id, owner_member_id, title, metric, target,
                    starts_on, ends_on):
    directory.unit(work.db, owner_unit_id, "owner_unit_id")
    directory.member(work.db, owner_member_id, "owner_member_id")
    rules.check_commitment(owner_kind, owner_member_id, starts_on, ends_on)
    commitment = Commitment(owner_kind=owner_kind, owner_unit_id=owner_unit_id,
                            owner_member_id=owner_member_id, title=title, metric=metric,
                            target=target, achieved=0.0, starts_on=starts_on, ends_on=ends_on)
    work.db.add(commitment)
    work.db.flush()
    work.emit(events.COMMITMENT_MADE, payloads.commitment_data(work, commitment),
              ("commitment", commitment.id))
    return commitment_out(commitment)


def report_commitment(work, commitment_id, value, note, reported_on):
    commitment = get_or_not_found(work.db, Commitment, commitment_id, "commitment")
    rules.check_commitment_report(commitment.starts_on, commitment.ends_on, reported_on)
    work.db.add(CommitmentReport(commitment_id=commitment.id, value=value, note=note,
                                 reported_on=reported_on))
    commitment.achieved = value
    work.emit(events.COMMITMENT_REPORTED, payloads.commitment_data(work, commitment),
              ("commitment", commitment.id))
    return commitment_out(commitment)


def compare_commitments(work, year, owner_kind):
    ranked = sorted(queries.commitments_of_year(work.db, year, owner_kind), key=lambda c: (
        -rules.commitment_ratio(c.achieved, c.target), c.id))
    return [commitment_out(c, rank) for rank, c in enumerate(ranked, start=1)]
