"""A clock whose sleep advances time instantly, so a five-minute bake takes no time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._guard = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self._elapsed

    def sleep(self, seconds: float) -> None:
        with self._guard:
            self.sleeps.append(seconds)
            self._elapsed += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)
