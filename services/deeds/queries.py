"""Questions to the deeds database: look-ups, lists and counts, no writes. The rules they
apply come from ``rules`` (one definition, read by the Python checks and by the SQL alike);
names and union chains come from the kit's read model of the tree (:class:`Lookup`)."""

from collections import Counter, defaultdict

from sqlalchemy import case, func, or_, select

from gonghui import directory
from gonghui.paging import select_page
from services.deeds import rules
from services.deeds.models import (
    Commitment,
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

# Items as an office prints them: the party committee's list first, then by unit.
PRINT_ORDER = (case((Item.level == "party_committee", 0), else_=1), Item.owner_unit_id, Item.id)

# How each comparison of ``rules.OWES_REPORT`` reads in SQL.
SQL_COMPARISONS = {
    "before": lambda column, bound: column < bound,
    "unset_or_not_after": lambda column, bound: or_(column.is_(None), column <= bound),
}


class Lookup(directory.Lookup):
    """The kit's cached names and union chains, and who submitted the golden idea an item
    came from (few items have one), cached for one worker."""

    def __init__(self, session):
        super().__init__(session)
        self._idea_submitters = {}

    def idea_submitter(self, idea_id):
        if idea_id is None:
            return None
        if idea_id not in self._idea_submitters:
            self._idea_submitters[idea_id] = self.session.scalar(
                select(Idea.submitter_member_id).where(Idea.id == idea_id))
        return self._idea_submitters[idea_id]


# ------------------------------------------------------------------ settings


def stored_setting(session, key, default=None):
    """An operator-set value (``Setting``), else ``default``."""
    setting = session.get(Setting, key)
    return setting.value if setting else default


# ------------------------------------------------------------------ ideas, items, reports


def where_given(query, *filters):
    """The query filtered by each ``(column, value)`` whose value was given (not None)."""
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query


def in_subtree(query, column, unit_id):
    """The query limited to rows whose unit (``column``) lies in the subtree of ``unit_id``
    (the kit's read model of the tree), when ``unit_id`` is given."""
    if unit_id is None:
        return query
    return query.where(column.in_(select(directory.subtree_cte(unit_id).c.unit_id)))


def ideas(session, status, submitter_member_id, unit_id, limit, offset):
    query = where_given(select(Idea), (Idea.status, status),
                        (Idea.submitter_member_id, submitter_member_id))
    query = in_subtree(query, Idea.submitter_unit_id, unit_id)
    return select_page(session, query.order_by(Idea.id), limit, offset)


def lists(session, year, level):
    return list(session.scalars(where_given(
        select(DeedList), (DeedList.year, year), (DeedList.level, level)).order_by(
        DeedList.year, case((DeedList.level == "party_committee", 0), else_=1),
        DeedList.unit_id)))


def list_exists(session, level, year, unit_id):
    return session.scalar(select(DeedList.id).where(
        DeedList.level == level, DeedList.year == year, DeedList.unit_id == unit_id)) is not None


def children(session, item_id):
    return list(session.scalars(select(Item).where(Item.parent_id == item_id)))


def has_open_supervision(session, item_id):
    return session.scalar(select(func.count()).select_from(SupervisionOrder).where(
        SupervisionOrder.item_id == item_id, SupervisionOrder.status == "open")) > 0


def report_exists(session, item_id, period):
    return session.scalar(select(Report.id).where(Report.item_id == item_id,
                                                  Report.period == period)) is not None


def reports_of(session, item_id):
    return list(session.scalars(select(Report).where(Report.item_id == item_id)
                                .order_by(Report.period)))


def owes_period_clause(period, due_on):
    """``rules.owes_period`` as a WHERE clause over ``Item``."""
    bounds = rules.period_bounds(period, due_on)
    return [SQL_COMPARISONS[how](getattr(Item, field), bounds[bound])
            for field, how, bound in rules.OWES_REPORT]


def items_owing(session, period, due_on, kind=None):
    """Leaf items not completed that owe a report for ``period``, have none, and (with
    ``kind``) were not yet reminded of that kind: the database does the filtering, so a tick
    on a day without reminders costs two small queries whatever the number of items."""
    parents = select(Item.parent_id).where(Item.parent_id.is_not(None))
    reported = select(Report.id).where(Report.item_id == Item.id,
                                       Report.period == period).exists()
    conditions = [Item.status.in_(rules.REPORTING_STATUSES), Item.id.not_in(parents),
                  *owes_period_clause(period, due_on), ~reported]
    if kind is not None:
        conditions.append(~select(ReminderSent.item_id).where(
            ReminderSent.item_id == Item.id, ReminderSent.period == period,
            ReminderSent.kind == kind).exists())
    return list(session.scalars(select(Item).where(*conditions).order_by(Item.id)))


def items_past_deadline(session, as_of):
    """``(item, cause, deadline)`` for items whose deadline passed before ``as_of`` and
    that have no supervision order for it yet: open items past their planned completion
    (``completion``), non-conforming ones past their new deadline (``rework``)."""
    found = []
    for cause, status, deadline in (("completion", "open", Item.planned_completion),
                                    ("rework", "non_conforming", Item.new_deadline)):
        ordered = select(SupervisionOrder.id).where(
            SupervisionOrder.item_id == Item.id, SupervisionOrder.cause == cause,
            SupervisionOrder.period == func.to_char(deadline, "YYYY-MM")).exists()
        found += [(item, cause, getattr(item, deadline.key)) for item in session.scalars(
            select(Item).where(Item.status == status, deadline < as_of, ~ordered)
            .order_by(Item.id))]
    return found


# ------------------------------------------------------------------ supervision


def open_orders(session, item_id, period=None, cause=None):
    """The item's open supervision orders (of one period and cause, when given)."""
    query = select(SupervisionOrder).where(SupervisionOrder.item_id == item_id,
                                           SupervisionOrder.status == "open")
    if period is not None:
        query = query.where(SupervisionOrder.period == period, SupervisionOrder.cause == cause)
    return list(session.scalars(query.order_by(SupervisionOrder.id)))


def supervision_orders(session, status, owner_unit_id, unit_id, limit, offset):
    query = where_given(select(SupervisionOrder).order_by(SupervisionOrder.id),
                        (SupervisionOrder.status, status))
    if owner_unit_id is not None or unit_id is not None:
        query = in_subtree(where_given(
            query.join(Item, Item.id == SupervisionOrder.item_id),
            (Item.owner_unit_id, owner_unit_id)), Item.owner_unit_id, unit_id)
    return select_page(session, query, limit, offset)


def orders_to_escalate(session, as_of):
    """Open orders past their deadline and not parked at the top, with their items."""
    orders = list(session.scalars(select(SupervisionOrder).where(
        SupervisionOrder.status == "open", SupervisionOrder.deadline < as_of,
        SupervisionOrder.at_top.is_(False)).order_by(SupervisionOrder.id)))
    items = {i.id: i for i in session.scalars(select(Item).where(
        Item.id.in_({o.item_id for o in orders})))} if orders else {}
    return [(order, items[order.item_id]) for order in orders]


# ------------------------------------------------------------------ notices and objections


def notices(session):
    return list(session.scalars(select(Notice).order_by(Notice.year, Notice.quarter)))


def notice_of(session, year, quarter):
    return session.scalar(select(Notice).where(Notice.year == year, Notice.quarter == quarter))


def notices_closing(session, as_of):
    return list(session.scalars(select(Notice).where(Notice.status == "open",
                                                     Notice.closes_on < as_of)))


def items_of_notice(session, notice, order=(Item.id,)):
    return list(session.scalars(select(Item).where(Item.id.in_(notice.item_ids))
                                .order_by(*order)))


def latest_notices(session):
    """``{item_id: the latest notice the item was in}`` (an item sent back and completed
    again is in more than one)."""
    return {item_id: notice
            for notice in session.scalars(select(Notice).order_by(Notice.opens_on))
            for item_id in notice.item_ids}


def items_to_notice(session, last):
    """Items completed by ``last`` and not yet in a notice opened after their completion
    (one sent back, non-conforming, and completed again is noticed again)."""
    latest = latest_notices(session)
    return [i for i in session.scalars(select(Item).where(
        Item.status == "completed", Item.completed_on <= last).order_by(Item.id))
        if i.id not in latest or latest[i.id].opens_on < i.completed_on]


def objections(session, notice_id, status, unit_id, limit, offset):
    """``(objection, the item's owner unit)`` on a notice, in the order they were raised."""
    query = where_given(select(Objection, Item.owner_unit_id)
                        .join(Item, Item.id == Objection.item_id)
                        .where(Objection.notice_id == notice_id), (Objection.status, status))
    query = in_subtree(query, Item.owner_unit_id, unit_id)
    return select_page(session, query.order_by(Objection.id), limit, offset, fetch="execute")


def pending_objections(session, notice_id, item_id=None):
    """Item ids with an objection still raised on the notice (of one item, when given)."""
    query = select(Objection.item_id).where(Objection.notice_id == notice_id,
                                            Objection.status == "raised")
    if item_id is not None:
        query = query.where(Objection.item_id == item_id)
    return set(session.scalars(query))


# ------------------------------------------------------------------ evaluation


def evaluation_of(session, year, quarter):
    return session.scalar(select(Evaluation).where(Evaluation.year == year,
                                                   Evaluation.quarter == quarter))


def has_voted(session, item_id, member_id):
    return session.scalar(select(SatisfactionVote.id).where(
        SatisfactionVote.item_id == item_id, SatisfactionVote.member_id == member_id)) is not None


def idea_submitters_of_year(session, year, last):
    """Who proposed the golden ideas behind the year's items created by ``last``."""
    return sorted(session.scalars(
        select(Idea.submitter_member_id).distinct()
        .join(Item, Item.idea_id == Idea.id).join(DeedList, DeedList.id == Item.list_id)
        .where(DeedList.year == year, Item.created_on <= last,
               Idea.submitter_member_id.is_not(None))))


def quarter_stats(session, year, quarter):
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
        return {unit_id: figures for unit_id, *figures in session.execute(query)}

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


# ------------------------------------------------------------------ commitments


def commitments_of_year(session, year, owner_kind):
    return list(session.scalars(where_given(
        select(Commitment).where(func.extract("year", Commitment.starts_on) <= year,
                                 func.extract("year", Commitment.ends_on) >= year),
        (Commitment.owner_kind, owner_kind))))


# ------------------------------------------------------------------ the ledger


def ledger_items(session, level=None, batch=None, focus_area=None, owner_unit_id=None,
                 status=None, year=None, track=None, limit=None, offset=0, unit_id=None):
    """The ledger's items, filtered and paged by the database: a page costs the same
    whatever the size of the ledger. ``unit_id``: owned in that unit's subtree."""
    open_order = select(SupervisionOrder.id).where(
        SupervisionOrder.item_id == Item.id, SupervisionOrder.status == "open").exists()
    query = where_given(select(Item).order_by(*PRINT_ORDER), (Item.level, level),
                        (Item.batch, batch), (Item.focus_area, focus_area),
                        (Item.owner_unit_id, owner_unit_id), (Item.status, status))
    query = in_subtree(query, Item.owner_unit_id, unit_id)
    if year is not None:
        query = query.join(DeedList, DeedList.id == Item.list_id).where(DeedList.year == year)
    if track is not None:
        track_status, supervised = rules.TRACK_RULES[track]
        query = query.where(Item.status == track_status)
        if supervised is not None:
            query = query.where(open_order if supervised else ~open_order)
    return select_page(session, query, limit, offset)


def report_counts(session, ids):
    """``{item_id: [reports, on time, latest period]}`` (zeros for items without)."""
    reports = defaultdict(lambda: [0, 0, None])
    for item_id, count, on_time, last in session.execute(
            select(Report.item_id, func.count(), func.count().filter(Report.on_time),
                   func.max(Report.period)).where(Report.item_id.in_(ids))
            .group_by(Report.item_id)):
        reports[item_id] = [count, on_time, last]
    return reports


def order_counts(session, ids):
    """(orders per item, the items with an open one)."""
    orders, open_orders = Counter(), set()
    for item_id, order_status in session.execute(
            select(SupervisionOrder.item_id, SupervisionOrder.status)
            .where(SupervisionOrder.item_id.in_(ids))):
        orders[item_id] += 1
        if order_status == "open":
            open_orders.add(item_id)
    return orders, open_orders


def records_of_items(session, model, ids):
    """Reports or supervision orders of the items."""
    return list(session.scalars(select(model).where(model.item_id.in_(ids))))


def objections_of_items(session, ids):
    """``(objection, year, quarter)`` of the notices the items were objected to on."""
    return session.execute(select(Objection, Notice.year, Notice.quarter)
                           .join(Notice, Notice.id == Objection.notice_id)
                           .where(Objection.item_id.in_(ids))
                           .order_by(Notice.year, Notice.quarter, Objection.id)).all()
