"""A read started now and taken later, so two independent reads share one round trip."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from shipper.core.ports import Clock

T = TypeVar("T")


class ReadAhead(Generic[T]):
    """`read()` running in a background thread from the moment this is made.

    The status gate is read this way while the targets are read: before, each release
    paid the status page and the platforms one after the other. `take` hands the answer
    over only while it is fresh; a stale one is dropped and the caller reads again."""

    def __init__(self, read: Callable[[], T], clock: Clock) -> None:
        self._clock = clock
        self._started = clock.monotonic()
        self._answer: list[T] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(read,), daemon=True)
        self._thread.name = "early-read"
        self._thread.start()

    def _run(self, read: Callable[[], T]) -> None:
        try:
            self._answer.append(read())
        except BaseException as exc:  # handed to the taker, who decides what it means
            self._error.append(exc)

    def take(self, fresh_for: float) -> T | None:
        """The answer (the read's own exception is raised here), or None once it is more
        than `fresh_for` seconds old."""
        self._thread.join()
        if self._clock.monotonic() - self._started > fresh_for:
            return None
        if self._error:
            raise self._error[0]
        return self._answer[0]
