"""Database session per worker, committed before the reply or ack leaves the worker.

nameko answers an RPC (or acks an event) *before* calling ``worker_result`` on dependencies,
so committing there would let a caller see success for a change that later fails to commit.
Our entrypoints call :meth:`Database.finish` from ``handle_result`` instead; ``worker_result``
is the safety net that rolls back whatever is left open.
"""

import logging
import sys
import weakref

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from gonghui.outbox import OutboxRelay

log = logging.getLogger(__name__)


def make_engine(url, pool_size=10):
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_recycle=1800)


class Database(DependencyProvider):
    relay = OutboxRelay()

    def setup(self):
        config = self.container.config
        self.url = config["DATABASE_URL"]
        workers = int(config.get("max_workers", 10))
        self.engine = make_engine(self.url, pool_size=workers + 2)
        self.sessions = weakref.WeakKeyDictionary()
        self.relay.attach(self.engine)

    def stop(self):
        self.engine.dispose()

    def kill(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        session = Session(self.engine, expire_on_commit=False)
        self.sessions[worker_ctx] = session
        return session

    def finish(self, worker_ctx, exc_info):
        """Commit (or roll back on error). Returns exc_info, replaced by the commit's own
        error if the commit fails."""
        session = self.sessions.get(worker_ctx)
        if session is None:
            return exc_info
        if exc_info is not None:
            session.rollback()
            return exc_info
        try:
            session.commit()
        except Exception:  # noqa: BLE001 - reported to the caller as the worker's error
            log.exception("commit failed")
            session.rollback()
            return sys.exc_info()
        if session.info.pop("outbox_written", False):
            self.relay.wake()
        return None

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        session = self.sessions.get(worker_ctx)
        if session is not None and session.in_transaction():
            self.finish(worker_ctx, exc_info)

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()


def finish_transactions(worker_ctx, exc_info):
    """Commit or roll back every Database of the worker's service."""
    for provider in worker_ctx.container.dependencies:
        if isinstance(provider, Database):
            exc_info = provider.finish(worker_ctx, exc_info)
    return exc_info
