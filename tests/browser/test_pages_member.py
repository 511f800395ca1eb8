"""A member's home in a real browser (the demo's XN0012, a member of 机关工会 with no office),
on a phone-sized screen: their own home (the idea they proposed), not the officers'
figures; no horizontal scrolling; Chinese throughout. The pages' plumbing seen from outside:
the vendored libraries served as pinned (bytes, type, cache), a page refuses a form without
the session's CSRF token, logging out ends the session, the login form keeps the rate
limit."""

import hashlib

import requests

from services.gateway.pages import vendor
from tests.browser.pages_checks import english_runs, visible_text
from tests.support.gateway import Client

MEMBER = "XN0012"
PHONE = {"width": 375, "height": 740, "mobile": True}


def log_in(browser, base, login, password, going="/"):
    browser.goto(url=f"{base}{going}")
    browser.fill(selector="#login", value=login)
    browser.fill(selector="#password", value=password)
    return browser.submit(selector="form button[type=submit]")


def test_a_member_sees_their_own_home_on_a_phone(site, browser):
    base = site["base"]
    api = Client(base)
    assert api.post("/api/v1/session", json={"login": MEMBER, "password": site[
        "password"]}).status_code == 201
    idea = api.post("/api/v1/ideas", json={"title": "夜班职工热餐", "description": "倒班无热餐",
                                          "focus_area": "conditions"})
    assert idea.status_code == 201, idea.text
    # An activity of their union's, which they sign up for (as themselves, over the API).
    chair = Client(base)
    assert chair.post("/api/v1/session", json={"login": "XN0007", "password": site[
        "password"]}).status_code == 201
    jg = site["units"]["XNY-JG"]["id"]
    lecture = chair.post("/api/v1/activities", json={
        "kind": "lecture", "name": "秋季心理健康讲座", "organiser_unit_id": jg,
        "starts_at": "2021-09-10T14:00:00+08:00", "ends_at": "2021-09-10T16:00:00+08:00",
        "capacity": 30, "audience": "subtree", "audience_unit_id": jg})
    assert lecture.status_code == 201, lecture.text
    signed = api.post(f"/api/v1/activities/{lecture.json()['id']}/signups", json={})
    assert signed.status_code == 201 and signed.json()["status"] == "confirmed", signed.text
    browser.open(**PHONE)
    assert log_in(browser, base, MEMBER, site["password"])["url"] == f"{base}/"
    assert browser.text(selector="h1") == "我的主页"
    assert browser.text(selector=".masthead .role") == "会员"
    assert browser.text(selector=".masthead .union") == "机关工会"
    # Their own things, none of the officers' figures or their screens.
    assert browser.evaluate(expression="""['#completion', '#supervision', '#missing-reports',
        '#terms'].filter(s => document.querySelector(s))""") == []
    navigation = browser.texts(selector="nav.screens li")
    assert "工作台" in navigation and "金点子" in navigation
    assert "实事台账" not in navigation and "审计" not in navigation
    unread = api.get("/api/v1/me/inbox/unread").json()["unread"]
    assert browser.text(selector="#inbox [data-key=unread]") == str(unread)
    mine = api.get("/api/v1/me/ideas").json()["items"]
    shown = browser.texts(selector="#my-ideas li")
    assert [i["title"] for i in mine] == ["夜班职工热餐"]
    assert len(shown) == 1 and "夜班职工热餐" in shown[0] and "已提交" in shown[0]
    assert [i["activity_name"] for i in api.get("/api/v1/me/signups").json()["items"]] == [
        "秋季心理健康讲座"]
    signups = browser.texts(selector="#my-signups li")
    assert len(signups) == 1 and "秋季心理健康讲座" in signups[0] and "已报名" in signups[0]
    # A phone's width: nothing wider than the screen.
    assert browser.evaluate(expression="document.documentElement.scrollWidth") <= PHONE[
        "width"]
    assert english_runs(visible_text(browser)) == []
    assert browser.messages() == []
    browser.save(name="member-home-phone")

    # A form without the session's CSRF token is refused; the session goes on.
    cookies = browser.cookies()
    forged = requests.post(f"{base}/logout", cookies=cookies, data={}, allow_redirects=False,
                           timeout=20)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert browser.goto(url=f"{base}/")["url"] == f"{base}/"
    # Logging out (the header's form carries the token) ends it.
    assert browser.submit(selector=".logout button")["url"] == f"{base}/login"
    assert requests.get(f"{base}/api/v1/me", cookies=cookies, timeout=20).status_code == 401
    assert browser.goto(url=f"{base}/")["url"] == f"{base}/login?next=/"

    # What the pages load is the gateway's own, the libraries as pinned.
    for lib in vendor.libraries():
        served = requests.get(f"{base}/static/vendor/{lib['serve_as']}", timeout=20)
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == lib["sha256"]
        assert served.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert "max-age=31536000" in served.headers["Cache-Control"]
    assert requests.get(f"{base}/static/../service.py", timeout=20).status_code == 404
    login = requests.get(f"{base}/login", timeout=20)
    assert login.headers["Content-Security-Policy"].startswith("default-src 'self'")
    loaded = browser.evaluate(expression="""Array.from(document.querySelectorAll(
        'script[src], link[href], img[src], a[href]')).map(e => e.src || e.href)""")
    assert loaded and all(url.startswith(base + "/") for url in loaded), loaded

    # The login form keeps to the API's rate limit: after five failures, even the right
    # password waits (the auditor's login, untouched above).
    for _ in range(5):
        wrong = requests.post(f"{base}/login", data={"login": "XN0006", "password": "wrong"},
                              timeout=20)
        assert "工号、手机号或密码不正确。" in wrong.text
    locked = requests.post(f"{base}/login", data={"login": "XN0006", "password": site[
        "password"]}, allow_redirects=False, timeout=20)
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
