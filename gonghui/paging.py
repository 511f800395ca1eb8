"""Paged lists that can tell their total.

A list RPC (its arguments derive from :class:`gonghui.schemas.Page`) answers one page: the
rows ``limit`` from ``offset``. Called with ``with_total=True`` it answers
``{"items": [...], "total": n}`` instead, ``n`` the number of rows the same filters match on
every page. The method does not take the flag: it returns a :class:`ListPage` (made by
:func:`select_page` for a SQL query, :func:`slice_page` for a list computed in Python), which
is the page's rows and knows how to count the whole list; the kit's ``@rpc`` counts only when
the caller asked, so a plain page costs what it cost before.
"""

from sqlalchemy import func, select


class ListPage(list):
    """One page of a list (the rows themselves: a list, usable as one), and how to count
    every row of the list with the same filters (``total()``, run only when called)."""

    def __init__(self, items, count):
        super().__init__(items)
        self._count = count

    def total(self):
        return self._count()

    def map(self, make):
        """The same page with each row made into something else (the count unchanged)."""
        return ListPage([make(row) for row in self], self._count)


def count_rows(session, query):
    """How many rows the select ``query`` matches: the statement itself as a subquery, its
    order, limit and offset dropped (so the same filters, joins, grouping and DISTINCT)."""
    whole = query.order_by(None).limit(None).offset(None).subquery()
    return session.scalar(select(func.count()).select_from(whole))


def select_page(session, query, limit, offset, fetch="scalars"):
    """The page ``limit`` rows from ``offset`` of the filtered, ordered select ``query``
    (``fetch``: ``"scalars"`` for one entity or column, ``"execute"`` for rows of several),
    and its total: the count of the same statement, in the same transaction (a second
    statement: under READ COMMITTED a row committed between the two counts in one and not
    in the other, as it would on the next page)."""
    found = getattr(session, fetch)(query.limit(limit).offset(offset)).all()
    return ListPage(found, lambda: count_rows(session, query))


def slice_page(rows, limit, offset):
    """A page of a list computed in full (in Python, e.g. sorted by a figure no column
    holds): its total is the length of the whole list, exact by construction."""
    rows = list(rows)
    total = len(rows)
    return ListPage(rows[offset:offset + limit] if limit is not None else rows[offset:],
                    lambda: total)


def with_total(value, dump):
    """The answer of a list RPC asked ``with_total``: ``{"items", "total"}``, the items
    dumped by ``dump`` (the result schema's, ``many=True``)."""
    if not isinstance(value, ListPage):
        raise TypeError(f"a paged RPC returned {type(value).__name__}, not a ListPage: build "
                        "its page with gonghui.paging.select_page or slice_page")
    return {"items": dump(value), "total": value.total()}
