"""What every service class starts from: its database, the current actor, health checks and
the readable audit trail."""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from gonghui.actor import CurrentActor
from gonghui.audit import AuditEntrypoints
from gonghui.calendar import WorkingCalendar
from gonghui.daily import DailyTimer
from gonghui.db import Database
from gonghui.events import emit
from gonghui.health import HealthEntrypoints

__all__ = ["DailyTimer", "ServiceBase", "WorkingDays"]


class ServiceBase(HealthEntrypoints, AuditEntrypoints):
    db = Database()
    actor = CurrentActor()
    config = Config()

    def emit(self, declared, data, aggregate, actor=None, changes=None):
        """Publish ``declared`` (through the outbox, with its audit row) in the worker's
        transaction, as the calling actor unless another is named (a tick's system actor)."""
        return emit(self.db, declared, data, actor=actor or self.actor(), aggregate=aggregate,
                    changes=changes)


class WorkingDays(DependencyProvider):
    """The Chinese working-day calendar, with the operator-loaded years of HOLIDAYS_DIR."""

    def setup(self):
        self.calendar = WorkingCalendar(self.container.config.get("HOLIDAYS_DIR"))

    def get_dependency(self, worker_ctx):
        return self.calendar
