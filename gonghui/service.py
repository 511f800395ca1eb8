"""What every service class starts from: its database, the current actor, health checks."""

from gonghui.actor import CurrentActor
from gonghui.db import Database
from gonghui.health import HealthEntrypoints


class ServiceBase(HealthEntrypoints):
    db = Database()
    actor = CurrentActor()
