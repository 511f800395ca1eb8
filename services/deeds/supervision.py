"""Supervision orders (督办单): issued for a missed report or deadline, closed by the report,
the completion or an accepted explanation, else escalated up the union tree."""

from sqlalchemy import update

from services.deeds.models import SupervisionOrder


def reopen_orders_at_top(session):
    """The tree grew above some unit (a move, a new union): orders parked at the top union
    are looked at again by the next tick, which escalates them if there is now a union above
    or parks them again."""
    session.execute(update(SupervisionOrder).where(
        SupervisionOrder.status == "open", SupervisionOrder.at_top.is_(True))
        .values(at_top=False))
