"""The one background worker: runs its step at the pace the step asks, backs off after failures, wakes early."""

from __future__ import annotations

import threading

from devices.backoff import Backoff
from terminal.worker import Worker
from tests.conftest import wait_until


def test_backoff_grows_from_initial_to_its_maximum() -> None:
    backoff = Backoff(initial=1.0, factor=3.0, maximum=20.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [1.0, 3.0, 9.0, 20.0, 20.0]


def test_failures_back_off_and_a_success_resets_them() -> None:
    outcomes = [ConnectionError("away"), ConnectionError("away"), None]

    def step() -> float | None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return 30.0

    worker = Worker("test", step, Backoff(initial=2.0, maximum=5.0), expected=(ConnectionError,))
    assert worker.run_once() == 2.0 and worker.failures == 1
    assert worker.run_once() == 4.0 and worker.failures == 2
    assert worker.run_once() == 30.0 and worker.failures == 0


def test_an_unexpected_error_is_a_failure_too() -> None:
    def step() -> float | None:
        raise ValueError("a bad answer")

    worker = Worker("test", step, Backoff(initial=7.0))
    assert worker.run_once() == 7.0 and worker.failures == 1


def test_wake_runs_the_step_early_and_stop_ends_the_thread() -> None:
    runs: list[int] = []

    def step() -> float | None:
        runs.append(1)
        return None  # until woken

    worker = Worker("test", step, Backoff())
    worker.start()
    wait_until(lambda: len(runs) == 1)
    worker.wake()
    wait_until(lambda: len(runs) == 2)
    worker.stop(timeout=5)
    assert not any(t.name == "test" for t in threading.enumerate())


def test_wake_is_ignored_while_failing() -> None:
    calls: list[int] = []

    def step() -> float | None:
        calls.append(1)
        raise ConnectionError("away")

    worker = Worker("test", step, Backoff(initial=60.0, maximum=60.0), expected=(ConnectionError,))
    worker.start()
    wait_until(lambda: worker.failures == 1)
    worker.wake()  # the back-off decides: no second try for a minute
    worker.stop(timeout=5)
    assert len(calls) == 1
