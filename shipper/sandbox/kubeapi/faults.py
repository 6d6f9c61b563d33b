"""Fault injection for the fake API server: what the reliability tests script.

Each hook is a small thread-safe rule the request handler consults: answer an error to
the next N requests that match, cut watch streams short, answer a watch with 410 Gone
(as an ERROR event inside the stream, or as an HTTP 410), and add latency to every
request. Refusing connections lives on the server itself (it closes its socket).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class FailRule:
    remaining: int
    status: int
    method: str | None
    path: str | None
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )


class Faults:
    """The fault script. All methods may be called from any thread at any time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FailRule] = []
        self._gone: list[tuple[int, bool]] = []  # (remaining, as an ERROR event)
        self.latency = 0.0
        self.watch_max_events: int | None = None
        self.watch_max_seconds: float | None = None
        self.bookmark_every: float | None = None

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer `status` to the next `n` requests with this method whose path contains
        `path` (None matches anything)."""
        with self._lock:
            self._rules.append(FailRule(n, status, method, path, retry_after))

    def take_failure(self, method: str, path: str) -> FailRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(method, path):
                    rule.remaining -= 1
                    return rule
            self._rules = [r for r in self._rules if r.remaining > 0]
            return None

    def gone_next_watch(self, n: int = 1, *, as_event: bool = True) -> None:
        """The next `n` watches get 410 Gone: an ERROR event in a 200 stream (as a real
        server usually does), or an HTTP 410 answer when `as_event` is False."""
        with self._lock:
            self._gone.append((n, as_event))

    def take_gone(self) -> bool | None:
        """None: no 410 due; else whether to send it as an ERROR event."""
        with self._lock:
            while self._gone:
                n, as_event = self._gone[0]
                if n <= 0:
                    self._gone.pop(0)
                    continue
                self._gone[0] = (n - 1, as_event)
                return as_event
            return None

    def end_watches(
        self, *, after_events: int | None = None, after_seconds: float | None = None
    ) -> None:
        """End every watch stream early: after so many events, or so many seconds."""
        with self._lock:
            self.watch_max_events = after_events
            self.watch_max_seconds = after_seconds

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._gone.clear()
            self.latency = 0.0
            self.watch_max_events = None
            self.watch_max_seconds = None
