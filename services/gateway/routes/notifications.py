"""Routes to notifications (filled in by the gateway issue's next steps)."""

ROUTES = []
