"""Routes to activities (filled in by the gateway issue's next steps)."""

ROUTES = []
