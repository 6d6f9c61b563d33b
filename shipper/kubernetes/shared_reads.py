"""Identical reads that are in flight at the same moment share one request.

A release's first moments send the same namespace-wide lists from three places at once:
the snapshot (what runs), the Kubernetes preflight (what can't be done safely) and the
preflight's estate (the connection budget). Each used to be its own request: three
lists of every Deployment, decoded three times, and three times the load on the API
server, all before the first change. Shared, the three readers also judge the very same
answer (one resourceVersion), so the preflight passes what the snapshot records.

Only reads *in flight* are shared, never a finished answer: a read that starts after
another has returned asks the server again, so nothing here can be staler than the
request the caller would have sent itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedReads(Generic[T]):
    """`read(key, fetch)`: `fetch()`'s answer, or the answer of the identical read
    (same `key`) already under way, whose error is raised to every waiter alike."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._flights: dict[Hashable, Future[T]] = {}

    def read(self, key: Hashable, fetch: Callable[[], T]) -> T:
        with self._guard:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leading:
            return flight.result()
        try:
            flight.set_result(fetch())
        except BaseException as exc:  # every waiter gets the error its own read would have
            flight.set_exception(exc)
        finally:
            with self._guard:
                del self._flights[key]
        return flight.result()
