"""The real clock. Fakes live in tests/fakes."""

from __future__ import annotations

import threading
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

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Sleep up to `seconds` or until `event` is set; True if it was set."""
        return event.wait(max(0.0, seconds))
