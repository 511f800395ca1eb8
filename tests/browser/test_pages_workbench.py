"""工作台 in a real browser (headless Debian chromium), the demo's chair of 机关工会 (XN0007):
the login refuses a wrong password in Chinese and lets the right one in; the dashboard shows
the figures the API gives the chair (the table's numbers, the chart's SVG labels, the
supervision and missing-report counts); no English leaks on the Chinese page, and the same
page in English is English; the page loads nothing the gateway does not serve and breaks
no rule of its Content-Security-Policy."""

import re

from deploy.demo.deeds import ARTICLE_DATE as BUSINESS_DATE
from tests.browser.pages_checks import english_runs, visible_text
from tests.support.gateway import Client

CHAIR = "XN0007"  # chair of 机关工会 (XNY-JG)
TRACKS = ("on_track", "under_supervision", "completed_awaiting_notice", "publicly_noticed",
          "non_conforming")


def api_session(site, login):
    client = Client(site["base"])
    logged = client.post("/api/v1/session", json={"login": login, "password": site["password"]})
    assert logged.status_code == 201, logged.text
    return client


def test_the_chair_logs_in_and_reads_their_unions_figures(site, browser):
    base = site["base"]
    browser.open()
    # Not signed in: to the login, which will bring them back.
    assert browser.goto(url=f"{base}/")["url"] == f"{base}/login?next=/"
    browser.fill(selector="#login", value=CHAIR)
    browser.fill(selector="#password", value="not-the-password")
    browser.submit(selector="form button[type=submit]")
    assert browser.text(selector=".problem") == "工号、手机号或密码不正确。"
    assert browser.evaluate(expression="document.querySelector('#login').value") == CHAIR
    browser.save(name="login-refused")
    browser.fill(selector="#password", value=site["password"])
    assert browser.submit(selector="form button[type=submit]")["url"] == f"{base}/"
    assert browser.text(selector="h1") == "工作台"
    assert browser.text(selector=".masthead .union") == "机关工会"
    assert browser.text(selector=".masthead .role") == "工会干部"

    # The same figures as the API gives the chair.
    api = api_session(site, CHAIR)
    figures = [f for f in api.get("/api/v1/ledger/figures?year=2021").json()
               if f["level"] == "grassroots"]
    assert figures, "the demo's 机关工会 has grassroots deed items"
    rows = browser.evaluate(expression="""Array.from(document.querySelectorAll(
        '#completion tbody tr')).map(tr => [tr.querySelector('th').innerText,
        Object.fromEntries(Array.from(tr.querySelectorAll('td')).map(
            td => [td.dataset.key, td.innerText]))])""")
    assert [name for name, _ in rows] == [f["unit_name"] for f in figures]
    for (_, shown), expected in zip(rows, figures, strict=True):
        assert int(shown["items"]) == expected["items"]
        assert {t: int(shown[t]) for t in TRACKS} == expected["tracks"]
        done = expected["tracks"]["completed_awaiting_notice"] + expected["tracks"][
            "publicly_noticed"]
        assert float(shown["completed_percent"]) == round(100 * done / expected["items"], 1)
    # The chart is drawn by ECharts' SVG renderer, its labels the table's.
    browser.wait(selector="#completion .chart[data-drawn] svg text")
    labels = browser.evaluate(expression="""Array.from(document.querySelectorAll(
        '#completion .chart svg text')).map(t => t.textContent)""")
    for name, shown in rows:
        # The bar's label is the number as JavaScript writes it (50, not 50.0).
        percent = f"{float(shown['completed_percent']):g}%"
        assert name in labels and percent in labels, " | ".join(labels)

    open_orders = api.get("/api/v1/supervision?status=open&limit=500").json()["items"]
    assert int(browser.text(selector="#supervision [data-key=open]")) == len(open_orders)
    ledger = api.get("/api/v1/ledger?year=2021&status=open&limit=500").json()["items"]
    month = BUSINESS_DATE.strftime("%Y-%m")
    owing = [i for i in ledger if i["created_on"] < f"{month}-01"
             and (i["last_report_period"] or "") < month]
    assert int(browser.text(selector="#missing-reports [data-key=missing]")) == len(owing)
    coverage = api.get("/api/v1/checkups/coverage?year=2021").json()
    assert browser.text(selector="#checkups [data-key=coverage]") == str(
        round(coverage["coverage"] * 100, 1))
    browser.save(name="workbench-chair-zh")

    # Chinese throughout; nothing fetched from elsewhere; no CSP violation, no script error.
    assert english_runs(visible_text(browser)) == []
    assert browser.evaluate(expression="""performance.getEntriesByType('resource')
        .map(r => r.name).filter(n => !n.startsWith(location.origin))""") == []
    assert browser.messages() == []

    # The same page in English.
    browser.submit(selector=".languages a[lang=en]")
    assert browser.url() == f"{base}/"
    assert browser.text(selector="h1") == "Workbench"
    assert browser.text(selector=".masthead .role") == "Union officer"
    assert "Deed completion per grassroots union" in browser.text(selector="#completion h2")
    assert not re.search(r"[\u4e00-\u9fff]", browser.text(selector="nav.screens"))
    browser.save(name="workbench-chair-en")
