"""Routes to deeds (filled in by the gateway issue's next steps)."""

ROUTES = []
