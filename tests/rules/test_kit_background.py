"""The kit's background loop (outbox relay, notifications dispatcher) without a broker:
its backoff after errors, its idle wait, and waking it."""

import logging
import time

import eventlet
import pytest

from gonghui.background import BackgroundLoop, backoff_delay


class Unreachable(Exception):
    pass


def steps(outcomes):
    """A step taking each of ``outcomes`` in turn (a list, emptied as it goes): raised when
    an exception, returned otherwise."""

    def step():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return step


def test_backoff_doubles_to_its_cap_and_a_success_resets_it(caplog):
    loop = BackgroundLoop("test loop", steps([
        Unreachable("broker away"), RuntimeError("bug"), Unreachable("broker away"),
        Unreachable("broker away"), 3, Unreachable("broker away"), 0]),
        idle=7.0, base=1.0, cap=4.0, expected=(Unreachable,))
    with caplog.at_level(logging.WARNING, logger="gonghui.background"):
        delays = [loop.run_once() for _ in range(7)]
    # four failures: 1, 2, 4, 4 s; work done: at once; a failure after it starts again at
    # the base; nothing to do: the idle wait
    assert delays == [1.0, 2.0, 4.0, 4.0, 0, 1.0, 7.0]
    assert loop.failures == 0
    expected, unexpected = caplog.records[0], caplog.records[1]
    assert expected.getMessage() == "test loop: broker away (retrying in 1.0 s)"
    assert expected.exc_info is None  # an expected error is one line
    assert unexpected.getMessage() == "test loop failed (retrying in 2.0 s)"
    assert unexpected.exc_info is not None  # anything else with its traceback
    assert [backoff_delay(n, 0.5, 30.0) for n in (1, 2, 3, 7, 8)] == [0.5, 1, 2, 30, 30]


def run_in_greenthread(loop):
    thread = eventlet.spawn(loop.run)
    eventlet.sleep(0)
    return thread


def wait_until(predicate, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not reached"
        eventlet.sleep(0.01)


def test_a_wake_cuts_the_idle_wait_short_and_stop_ends_the_loop():
    calls = []
    loop = BackgroundLoop("test loop", lambda: calls.append(time.monotonic()) and False,
                          idle=30.0)
    thread = run_in_greenthread(loop)
    wait_until(lambda: len(calls) == 1)
    eventlet.sleep(0.1)
    assert len(calls) == 1  # idle: waiting its 30 s
    loop.wake()
    wait_until(lambda: len(calls) == 2)
    started = time.monotonic()
    loop.stop()
    thread.wait()
    assert time.monotonic() - started < 1 and len(calls) == 2


def test_a_wake_during_a_step_is_kept_for_the_wait_after_it():
    calls = []
    loop = BackgroundLoop("test loop", None, idle=30.0)

    def step():
        calls.append(1)
        if len(calls) == 1:
            loop.wake()  # work committed while this step was looking
        return False

    loop.step = step
    thread = run_in_greenthread(loop)
    wait_until(lambda: len(calls) == 2)
    loop.stop()
    thread.wait()


def test_work_done_runs_the_next_step_at_once_and_errors_do_not_end_the_loop():
    outcomes = [True, True, ValueError("once"), True, False]
    loop = BackgroundLoop("test loop", steps(outcomes), idle=30.0, base=0.01)
    thread = run_in_greenthread(loop)
    wait_until(lambda: not outcomes)  # every step taken, none waited 30 s
    assert loop.failures == 0
    loop.stop()
    thread.wait()


def test_a_loop_stopped_before_it_runs_does_not_step():
    loop = BackgroundLoop("test loop", pytest.fail)
    loop.stop()
    loop.run()
