"""The browser tests' world: organization, deeds, activities, notifications and the gateway
on the real broker and databases, the demo union with its deeds replayed and its activities
to the demo's date (the business date), and the demo's logins (deploy/demo/accounts.py) loaded as
``gonghui demo`` loads them; and a headless chromium (``browser.py``)."""

import pytest

from deploy.demo import accounts as demo_accounts
from deploy.demo import activities as demo_activities
from deploy.demo import deeds as demo_deeds
from deploy.demo.organization import load_demo
from gonghui.actor import Actor
from services.activities.service import ActivitiesService
from services.deeds.service import DeedsService
from services.gateway.service import GatewayService
from services.notifications.service import NotificationsService
from services.organization.service import OrganizationService
from tests.browser.browser import Browser
from tests.support.gateway import wait_for_read_models, web_port

# The business date of the pages: the demo's, as `gonghui up` stands it (the article's date).
BUSINESS_DATE = demo_deeds.ARTICLE_DATE
OPERATOR = Actor("operator", "browser-tests")


@pytest.fixture
def site(start_service, rpc, databases, monkeypatch, notifications_config):
    monkeypatch.setenv("GONGHUI_TODAY", BUSINESS_DATE.isoformat())
    start_service(OrganizationService)
    start_service(DeedsService)
    start_service(ActivitiesService)
    start_service(NotificationsService, **notifications_config)
    gateway = start_service(GatewayService, DEMO_LOGINS="true")
    with rpc() as proxy:
        load_demo(proxy)
        wait_for_read_models(proxy, ("gateway", "deeds", "activities"))
        demo_deeds.load_demo(proxy)
        demo_activities.load_demo(proxy)
        units = {u["code"]: u for u in proxy.organization.list_units(limit=5000)}
    with rpc(actor=OPERATOR) as operator:
        demo_accounts.load_demo(operator)
    yield {"base": f"http://127.0.0.1:{web_port(gateway)}", "units": units,
           "password": demo_accounts.DEMO_PASSWORD}


@pytest.fixture
def browser():
    driver = Browser()
    try:
        yield driver
    finally:
        driver.quit()
