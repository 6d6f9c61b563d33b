"""When the request a stand-in thread is answering reached the stand-in.

Stamped as the request is read, before the stand-in's added latency and before it waits
for its own locks. The stand-ins of one sandbox share a process, and that process shares
the machine with `ship`: a burst of 75 patches is applied one after another, however
fast `ship` sent them. The benchmark reads both times, to tell what `ship` took from
what the stand-in took. Threads that answer no request (a controller) read None.
"""

from __future__ import annotations

import threading
import time

_local = threading.local()


def mark() -> None:
    """This thread has just received a request."""
    _local.at = time.time()


def arrived() -> float | None:
    """When the request this thread is answering arrived (Unix seconds), if it is one."""
    at: float | None = getattr(_local, "at", None)
    return at
