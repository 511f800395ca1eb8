"""Regulations and work documents (制度), e.g. the year's work points (《工作要点》): drafted,
issued, revised (every version kept with its effective date) and repealed, as
``rules.REGULATION_FLOW`` allows.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

from datetime import UTC, datetime

from gonghui.errors import get_or_not_found
from services.organization import events, payloads, queries, rules
from services.organization.models import Regulation, RegulationVersion

REGULATION_FIELDS = ("id", "title", "category", "status", "issuing_unit_id", "repealed_on")


def regulation_out(session, regulation):
    return {**{c: getattr(regulation, c) for c in REGULATION_FIELDS},
            "current_version": queries.latest_version(session, regulation.id).number}


def _emit(work, declared, regulation, version, **overrides):
    work.emit(declared, {**payloads.regulation(work.db, regulation, version), **overrides},
              ("regulation", regulation.id))
    return regulation_out(work.db, regulation)


def _step(work, regulation_id, action):
    """The regulation, moved by ``action`` to its next status, and its latest version."""
    regulation = get_or_not_found(work.db, Regulation, regulation_id, "regulation")
    regulation.status = rules.regulation_step(regulation.status, action)
    return regulation, queries.latest_version(work.db, regulation.id)


def draft(work, title, category, issuing_unit_id, body):
    queries.open_unit(work.db, issuing_unit_id)
    regulation = Regulation(title=title, category=category, status="draft",
                            issuing_unit_id=issuing_unit_id)
    work.db.add(regulation)
    work.db.flush()
    version = RegulationVersion(regulation_id=regulation.id, number=1, body=body,
                                change_summary="first draft")
    work.db.add(version)
    work.db.flush()
    return _emit(work, events.REGULATION_DRAFTED, regulation, version)


def issue(work, regulation_id, effective_on):
    regulation, version = _step(work, regulation_id, "issue")
    version.effective_on, version.issued_at = effective_on, datetime.now(UTC)
    return _emit(work, events.REGULATION_ISSUED, regulation, version)


def revise(work, regulation_id, body, effective_on, change_summary):
    regulation, latest = _step(work, regulation_id, "revise")
    rules.check_revision_date(effective_on, latest.effective_on)
    version = RegulationVersion(regulation_id=regulation.id, number=latest.number + 1,
                                body=body, effective_on=effective_on,
                                change_summary=change_summary, issued_at=datetime.now(UTC))
    work.db.add(version)
    work.db.flush()
    return _emit(work, events.REGULATION_REVISED, regulation, version)


def repeal(work, regulation_id, repealed_on, reason):
    regulation, version = _step(work, regulation_id, "repeal")
    regulation.repealed_on = repealed_on
    return _emit(work, events.REGULATION_REPEALED, regulation, version, change_summary=reason)


def list_regulations(session, category, status, limit, offset):
    return queries.regulations(session, category, status, limit, offset).map(
        lambda regulation: regulation_out(session, regulation))


def history(session, regulation_id):
    regulation = get_or_not_found(session, Regulation, regulation_id, "regulation")
    return {**regulation_out(session, regulation),
            "versions": queries.versions(session, regulation.id)}
