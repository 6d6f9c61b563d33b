"""Time as a port (`Clock`) and the real clock. Fakes live in tests/fakes.

The Protocol lives here rather than in `ports.py` because the event stream (`emitter`)
needs it and `ports.py` bundles the stream: one module below both keeps the core's
imports free of cycles."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Time as a port, so a five-minute bake runs instantly in a test."""

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: deadlines are measured on it."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`. Waits that a cancellation should cut short go through
        `Operation.pause` instead."""
        ...


class SystemClock:
    """Wall time and a monotonic clock from the OS; sleeps can be woken by an Event."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
