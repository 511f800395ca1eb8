"""Coverage (组织覆盖): on any date, the units with a union, the unions with a valid term and
the members per unit, by domain, for the company or a subtree. The counting is
``rules.coverage``; this reads what it counts."""

from gonghui.errors import get_or_not_found
from services.organization import queries, rules
from services.organization.models import Unit


def report(session, as_of, unit_id):
    unit_ids = None
    if unit_id is not None:
        get_or_not_found(session, Unit, unit_id, "unit")
        unit_ids = list(queries.subtree_ids(session, unit_id))
    return rules.coverage(as_of, *queries.coverage_facts(session, as_of, unit_ids))
