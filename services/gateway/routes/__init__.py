"""The API's route tables, one module per service the routes call (``gateway.py``: the
gateway's own: logging in, tokens, grants). ``ROUTES`` is every route; ``ROUTE_MAP`` the
router the gateway matches requests with."""

from services.gateway.routes import activities, deeds, gateway, notifications, organization
from services.gateway.routing import check_table, url_map

ROUTES = check_table(gateway.ROUTES + organization.ROUTES + deeds.ROUTES + activities.ROUTES
                     + notifications.ROUTES)
ROUTE_MAP = url_map(ROUTES)
