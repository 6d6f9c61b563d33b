"""`Workers`: threads started once and reused, never fewer than the work waiting."""

from __future__ import annotations

import threading
import time

import pytest

from shipper.workers import Workers


def _names(workers: Workers, count: int) -> set[str]:
    """The threads that ran `count` pieces of work submitted together (each holds its
    thread until all have started, so no thread runs two)."""
    started = threading.Barrier(count, timeout=5)

    def job() -> str:
        started.wait()
        return threading.current_thread().name

    futures = [workers.submit(job) for _ in range(count)]
    return {f.result(timeout=5) for f in futures}


def test_a_second_operation_starts_no_thread() -> None:
    workers = Workers("t")
    first = _names(workers, 6)
    before = threading.active_count()
    second = _names(workers, 6)
    assert workers.size == 6
    assert second == first
    assert threading.active_count() == before


def test_a_bigger_operation_starts_only_the_threads_missing() -> None:
    workers = Workers("t")
    _names(workers, 3)
    assert len(_names(workers, 5)) == 5
    assert workers.size == 5


def test_warm_starts_the_threads_ahead_and_they_are_the_ones_used() -> None:
    workers = Workers("warm")
    workers.warm(4)
    deadline = time.monotonic() + 5
    wanted = {f"warm_{n}" for n in range(1, 5)}
    while not wanted <= {t.name for t in threading.enumerate()}:
        assert time.monotonic() < deadline, "the warmed threads never started"
        time.sleep(0.001)
    used = _names(workers, 4)
    assert workers.size == 4
    assert used == wanted


def test_work_that_waits_on_work_it_submitted_gets_a_thread() -> None:
    workers = Workers("t")

    def outer(n: int) -> int:
        return workers.submit(lambda: n * 2).result(timeout=5)

    outers = [workers.submit(outer, n) for n in range(4)]
    assert [f.result(timeout=5) for f in outers] == [0, 2, 4, 6]


def test_an_error_reaches_the_caller_and_the_thread_lives_on() -> None:
    workers = Workers("t")

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        workers.submit(fail).result(timeout=5)
    assert workers.submit(lambda: "still here").result(timeout=5) == "still here"
    assert workers.size == 1


def test_idle_threads_do_not_hold_the_process_at_exit() -> None:
    """The fast exit joins every non-daemon thread: an idle worker must not be one."""
    workers = Workers("idle")
    _names(workers, 2)
    idle = [t for t in threading.enumerate() if t.name.startswith("idle_")]
    assert idle and all(t.daemon for t in idle)
