"""Worker threads an adapter keeps for the life of a command, so that a rollback's first
calls wait for no thread to start.

Starting a thread is not free: the starter waits until the new thread runs, which on a
busy two-core machine is most of a millisecond. An adapter that started one thread per
target for each operation made the 75th workload of a rollback wait about 50 ms for the
74 starts before it, all of it between the decision to roll back and that workload's
first call. `Workers` starts its threads once (during the deploy, or ahead of time with
`warm`, beside a snapshot's reads) and hands them every later operation's work.

There is always a thread for every piece of work submitted and not finished, so work that
waits on other work it submitted never waits for a free thread. The threads are daemons:
between operations they only wait for work, and every caller waits for its own work to
end before it returns, so nothing is cut short when the process leaves.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any]"]


class Workers:
    """A growing set of reusable threads named `<name>_<n>`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._threads = 0
        self._owed = 0  # work submitted and not finished
        self._named = 0  # threads named so far

    @property
    def size(self) -> int:
        with self._guard:
            return self._threads

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._guard:
            self._owed += 1
            start = self._owed - self._threads
            self._threads += max(0, start)
        self._start(start)
        self._jobs.put((fn, args, future))
        return future

    def warm(self, count: int) -> None:
        """Have at least `count` threads, started by a helper thread: the caller goes on
        with its reads while they start."""
        with self._guard:
            missing = count - self._threads
            self._threads += max(0, missing)
        if missing > 0:
            threading.Thread(
                target=self._start, args=(missing,), name=f"{self._name}_warm", daemon=True
            ).start()

    def _start(self, count: int) -> None:
        for _ in range(count):
            self._start_one()

    def _start_one(self) -> None:
        with self._guard:
            self._named += 1
            number = self._named
        threading.Thread(target=self._work, name=f"{self._name}_{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, args, future = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the caller through the future
                    future.set_exception(exc)
            with self._guard:
                self._owed -= 1
            del fn, args, future  # hold nothing while idle
