"""The gateway's notifications routes over HTTP, with organization and notifications behind
it on the real broker and databases: a member reads their own inbox (and nobody else's:
403), marks items read and sets their preferences; administrators run the robots and the
dead letters, officers do not; notifications itself refuses a member actor naming another
member."""

import pytest

from gonghui.actor import Actor
from gonghui.errors import Forbidden
from services.gateway.policy import SELF
from services.gateway.routes import ROUTES
from services.gateway.routes import notifications as notification_routes
from services.notifications.service import NotificationsService
from tests.service.test_gateway_access import (  # noqa: F401 - stack is a fixture
    admin_session,
    person_session,
    stack,
)
from tests.support.gateway import problem, wait_for_read_models, wait_until

CHAIR, ME, COLLEAGUE = "XN0007", "XN0012", "XN0011"  # of 机关工会 (XNY-JG)
REGULATIONS = {"【制度发布】职工休息室管理办法", "【制度发布】倒班宿舍管理办法"}
MEMBER_OWN = ("list_inbox", "unread_count", "mark_read", "get_preferences", "set_preferences")


def test_no_route_names_another_members_inbox_or_preferences():
    own = [r for r in ROUTES if r.rpc.split(".")[1] in MEMBER_OWN]
    assert len(own) == len(MEMBER_OWN)
    for route in own:
        assert route.path.startswith("/me/") and route.audience == SELF, route.rpc
        assert route.self_member == "member_id" and "member_id" not in route.path
    for route in notification_routes.ROUTES:
        spec = getattr(NotificationsService, route.rpc.split(".")[1]).rpc_spec
        assert (route.args, route.result) == (spec.args, spec.result), route.rpc
        assert spec.many == (route.many or route.paged), route.rpc


@pytest.fixture
def notifications_first(start_service, notifications_config):  # noqa: F811
    """notifications runs before the demo is loaded, so its read model follows the tree."""
    start_service(NotificationsService, **notifications_config)


@pytest.fixture
def site(notifications_first, stack, rpc):  # noqa: F811
    with rpc() as proxy:
        wait_for_read_models(proxy, ["notifications"])
        # Two regulations of 机关工会: every member under it finds them in the inbox.
        for title in ("职工休息室管理办法", "倒班宿舍管理办法"):
            regulation = proxy.organization.draft_regulation(
                title=title, category="management_rule",
                issuing_unit_id=stack["units"]["XNY-JG"], body="……")
            proxy.organization.issue_regulation(regulation_id=regulation["id"],
                                                effective_on="2021-05-01")
    return stack


def test_a_member_reads_marks_and_chooses_for_themselves_only(site):
    members = site["members"]
    admin = admin_session(site)
    me, colleague = (person_session(site, admin, e) for e in (ME, COLLEAGUE))

    def my_inbox():  # the demo's notices, and the two regulations once they arrived
        items = me.get("/api/v1/me/inbox?limit=500").json()["items"]
        return REGULATIONS <= {i["title"] for i in items} and items

    inbox = wait_until(my_inbox)
    assert {i["member_id"] for i in inbox} == {members[ME]["id"]}
    unread = me.get("/api/v1/me/inbox/unread").json()["unread"]
    assert unread == len(inbox) > 2 and all(i["read_at"] is None for i in inbox)
    colleagues = colleague.get("/api/v1/me/inbox/unread").json()["unread"]
    paged = me.get("/api/v1/me/inbox?limit=1").json()
    assert len(paged["items"]) == 1 and paged["next_offset"] == 1
    # Another member's inbox: no route names it, and naming them is refused.
    other = members[COLLEAGUE]["id"]
    problem(me.get(f"/api/v1/me/inbox?member_id={other}"), 403)
    problem(me.get(f"/api/v1/me/inbox/unread?member_id={other}"), 403)
    problem(me.post("/api/v1/me/inbox/read", json={"member_id": other, "all": True}), 403)
    problem(me.patch("/api/v1/me/preferences", json={"member_id": other, "digest": True}), 403)
    assert colleague.get("/api/v1/me/inbox/unread").json()["unread"] == colleagues
    # Marking one read, then all.
    marked = me.post("/api/v1/me/inbox/read", json={"item_ids": [inbox[0]["id"]]})
    assert marked.status_code == 200, marked.text
    assert (marked.json()["marked"], marked.json()["unread"]) == (1, unread - 1)
    problem(me.post("/api/v1/me/inbox/read", json={"item_ids": [inbox[0]["id"] + 10_000]}),
            404)
    assert me.post("/api/v1/me/inbox/read", json={"all": True}).json()["unread"] == 0
    assert me.get("/api/v1/me/inbox?unread_only=true").json()["items"] == []
    # Preferences: mine, changed; bad ones refused with the field named.
    chosen = me.patch("/api/v1/me/preferences", json={
        "channels": {"reminder": ["inbox"]}, "quiet_start": "22:00", "quiet_end": "07:30"})
    assert chosen.status_code == 200, chosen.text
    got = me.get("/api/v1/me/preferences").json()
    assert (got["member_id"], got["channels"], got["quiet_start"]) == (
        members[ME]["id"], {"reminder": ["inbox"]}, "22:00")
    assert "quiet_end" in problem(me.patch("/api/v1/me/preferences", json={
        "quiet_start": "22:00"}), 422)["errors"]
    assert colleague.get("/api/v1/me/preferences").json()["quiet_start"] is None
    assert colleague.get("/api/v1/me/inbox/unread").json()["unread"] == colleagues
    # A token acts for no person.
    made = admin.post("/api/v1/tokens", json={"name": "intranet", "access": "write"}).json()
    problem(me.get("/api/v1/me/inbox", headers={"Authorization": f"Bearer {made['token']}"}),
            403)


def test_notifications_refuses_a_member_actor_naming_another_member(site, rpc):
    members = site["members"]
    mine, other = members[ME]["id"], members[COLLEAGUE]["id"]
    with rpc(actor=Actor("member", ME)) as proxy:
        notif = proxy.notifications
        assert notif.unread_count(member_id=mine)["member_id"] == mine
        for call in (lambda: notif.list_inbox(member_id=other),
                     lambda: notif.unread_count(member_id=other),
                     lambda: notif.mark_read(member_id=other, all=True),
                     lambda: notif.get_preferences(member_id=other),
                     lambda: notif.set_preferences(member_id=other, digest=True)):
            with pytest.raises(Forbidden):
                call()
    with rpc(actor=None) as anonymous, pytest.raises(Forbidden):
        anonymous.notifications.get_preferences(member_id=mine)
    with rpc() as proxy:  # nothing was marked or chosen for the other member
        assert proxy.notifications.get_preferences(member_id=other)["digest"] is False


def test_administrators_run_robots_and_dead_letters_officers_do_not(site):
    jg = site["units"]["XNY-JG"]
    admin = admin_session(site)
    chair = person_session(site, admin, CHAIR)
    robot = {"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=jg-key-123"}
    problem(chair.put(f"/api/v1/units/{jg}/robots/wecom", json=robot), 403)
    set_ = admin.put(f"/api/v1/units/{jg}/robots/wecom", json=robot)
    assert set_.status_code == 200, set_.text
    [listed] = chair.get(f"/api/v1/units/{jg}/robots").json()  # the office sees it, masked
    assert listed["kind"] == "wecom" and "jg-key-123" not in listed["webhook_url"]
    problem(chair.get(f"/api/v1/units/{site['units']['XNY-SMGF']}/robots"), 404)
    problem(chair.delete(f"/api/v1/units/{jg}/robots/wecom"), 403)
    dead = admin.get("/api/v1/dead-letters")
    assert dead.status_code == 200, dead.text
    assert dead.json()["items"] == [] and dead.json()["next_offset"] is None
    problem(chair.get("/api/v1/dead-letters"), 403)
    problem(chair.get("/api/v1/deliveries"), 403)
    problem(chair.post("/api/v1/dead-letters/1/replay"), 403)
    problem(admin.post("/api/v1/dead-letters/999999/replay"), 404)
    problem(chair.post("/api/v1/webhooks", json={
        "name": "x", "url": "https://example.cn/hook", "secret": "s" * 20,
        "event_types": ["*"]}), 403)
    assert admin.get("/api/v1/webhooks").json() == []
