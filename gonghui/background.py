"""The background loop of the kit's long-running greenthreads (the outbox relay and its
pruning, the notifications dispatcher): run one step after another until stopped.

- A step returns whether it did some work: then the next step follows at once; otherwise
  the loop waits ``idle`` seconds (the poll interval).
- A step that raises is logged (with its traceback, unless it is one of the ``expected``
  errors such as an unreachable broker, logged in one line) and the loop backs off: ``base``
  seconds after the first failure, doubling up to ``cap``; the first success resets it. A
  loop outlives database and broker hiccups without spinning on them.
- ``wake()`` cuts a wait short (work was just committed); a wake that comes while a step
  runs is kept, so the step that follows does not sleep through it. ``stop()`` ends the loop
  after the step under way.
"""

import logging

import eventlet
from eventlet.event import Event

log = logging.getLogger(__name__)


def backoff_delay(failures, base, cap):
    """Seconds to wait after ``failures`` consecutive failed steps: base, 2×base … cap."""
    return min(cap, base * 2 ** (failures - 1))


class BackgroundLoop:
    """``step()`` until stopped, with the idle wait, the backoff and the wake-up above.
    ``run`` is the body of a (managed) greenthread."""

    def __init__(self, name, step, idle=1.0, base=0.5, cap=30.0, expected=()):
        self.name, self.step = name, step
        self.idle, self.base, self.cap = idle, base, cap
        self.expected = tuple(expected)
        self.failures = 0
        self.stopped = False
        self._wakeup = Event()

    def run(self):
        while not self.stopped:
            delay = self.run_once()
            if delay and not self.stopped:
                self.wait(delay)

    def run_once(self):
        """One step; returns how long to wait before the next one (0: at once)."""
        try:
            worked = self.step()
        except self.expected as exc:
            self.failures += 1
            delay = backoff_delay(self.failures, self.base, self.cap)
            log.warning("%s: %s (retrying in %.1f s)", self.name, exc, delay)
            return delay
        except Exception:  # noqa: BLE001 - a background loop must outlive any one failure
            self.failures += 1
            delay = backoff_delay(self.failures, self.base, self.cap)
            log.exception("%s failed (retrying in %.1f s)", self.name, delay)
            return delay
        self.failures = 0
        return 0 if worked else self.idle

    def wait(self, seconds):
        """Sleep up to ``seconds``, less if woken (or woken already since the last wait)."""
        with eventlet.Timeout(seconds, False):
            self._wakeup.wait()
        self._wakeup = Event()

    def wake(self):
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def stop(self):
        self.stopped = True
        self.wake()
