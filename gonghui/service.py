"""What every service class starts from: its database, the current actor, health checks and
the readable audit trail."""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from gonghui.actor import CurrentActor
from gonghui.audit import AuditEntrypoints
from gonghui.calendar import WorkingCalendar
from gonghui.daily import DailyTimer
from gonghui.db import Database
from gonghui.health import HealthEntrypoints

__all__ = ["DailyTimer", "ServiceBase", "WorkingDays"]


class ServiceBase(HealthEntrypoints, AuditEntrypoints):
    db = Database()
    actor = CurrentActor()
    config = Config()


class WorkingDays(DependencyProvider):
    """The Chinese working-day calendar, with the operator-loaded years of HOLIDAYS_DIR."""

    def setup(self):
        self.calendar = WorkingCalendar(self.container.config.get("HOLIDAYS_DIR"))

    def get_dependency(self, worker_ctx):
        return self.calendar
