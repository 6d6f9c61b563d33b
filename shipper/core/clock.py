"""The real clock. Fakes live in tests/fakes."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """Wall time and a monotonic clock from the OS; sleeps can be woken by an Event."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
