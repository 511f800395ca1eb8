"""The kit's paged lists without a database: a page computed in Python and its total, the
``with_total`` flag last among a list's arguments (positions unchanged), and ``@rpc``
answering ``{"items", "total"}`` only when asked, the list as before otherwise."""

import pytest
from marshmallow import Schema, fields

from gonghui.entrypoints import rpc
from gonghui.errors import ValidationError
from gonghui.paging import ListPage, slice_page, with_total
from gonghui.schemas import Id, Page


class ListThings(Page):
    colour = fields.String(load_default=None)
    owner_id = Id(load_default=None)


class NoticeFirst(Schema):
    notice_id = Id(required=True)


class ListNoticeThings(Page, NoticeFirst):
    status = fields.String(load_default=None)


class ThingOut(Schema):
    name = fields.String()


THINGS = [{"name": f"thing {i}", "colour": "red" if i % 3 else "blue"} for i in range(10)]


class Things:
    counted = 0

    def count(self, colour):
        self.counted += 1
        return sum(1 for t in THINGS if colour in (None, t["colour"]))

    @rpc(args=ListThings, result=ThingOut, many=True)
    def list_things(self, limit, offset, colour, owner_id):
        rows = [t for t in THINGS if colour in (None, t["colour"])]
        return ListPage(rows[offset:offset + limit], lambda: self.count(colour))

    @rpc(args=ListThings, result=ThingOut, many=True)
    def plain_list(self, limit, offset, colour, owner_id):
        return THINGS[offset:offset + limit]


def test_slice_page_counts_the_whole_list():
    page = slice_page(range(10), 3, 6)
    assert page == [6, 7, 8] and page.total() == 10
    assert slice_page(range(10), 3, 9) == [9] and slice_page(range(10), 3, 40) == []
    assert slice_page(range(10), 3, 40).total() == 10
    assert slice_page([], 5, 0).total() == 0
    assert slice_page(range(4), None, 1) == [1, 2, 3]


def test_map_keeps_the_count_and_counts_only_when_asked():
    calls = []
    page = ListPage([1, 2], lambda: calls.append(1) or 7)
    doubled = page.map(lambda n: n * 2)
    assert doubled == [2, 4] and isinstance(doubled, ListPage) and calls == []
    assert doubled.total() == 7 and calls == [1]


def test_with_total_refuses_a_plain_list():
    assert with_total(ListPage(["a"], lambda: 3), list) == {"items": ["a"], "total": 3}
    with pytest.raises(TypeError, match="ListPage"):
        with_total(["a"], list)


def test_the_flag_comes_after_every_filter():
    assert list(ListThings().fields) == ["limit", "offset", "colour", "owner_id", "with_total"]
    assert list(ListNoticeThings().fields) == ["notice_id", "limit", "offset", "status",
                                               "with_total"]
    assert list(Page().fields) == ["limit", "offset", "with_total"]
    assert Page().load({}) == {"limit": 200, "offset": 0, "with_total": False}


def test_rpc_answers_the_total_only_when_asked():
    things = Things()
    plain = things.list_things(limit=4, offset=0, colour="red")
    assert plain == [{"name": t["name"]} for t in THINGS if t["colour"] == "red"][:4]
    assert things.counted == 0  # no count without the flag
    # by position, as before: limit, offset, colour, owner_id; the flag last
    assert things.list_things(4, 0, "red") == plain
    counted = things.list_things(limit=4, offset=4, colour="red", with_total=True)
    reds = [{"name": t["name"]} for t in THINGS if t["colour"] == "red"]
    assert counted == {"items": reds[4:8], "total": len(reds)} and things.counted == 1
    assert things.list_things(4, 0, "blue", None, True)["total"] == 10 - len(reds)
    with pytest.raises(ValidationError):
        things.list_things(with_total="sometimes")


def test_a_list_that_cannot_count_fails_loudly_when_asked():
    things = Things()
    assert things.plain_list(limit=2) == [{"name": "thing 0"}, {"name": "thing 1"}]
    with pytest.raises(TypeError, match="ListPage"):
        things.plain_list(limit=2, with_total=True)


def test_a_paged_rpc_must_answer_a_list():
    with pytest.raises(TypeError, match="many=True"):
        rpc(args=ListThings, result=ThingOut)
    with pytest.raises(TypeError, match="many=True"):
        rpc(args=ListThings, many=True)
