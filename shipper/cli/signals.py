"""SIGINT and SIGTERM during a release: stop changing things and record where it stopped."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from shipper.cli.guard import began, err

if TYPE_CHECKING:
    from shipper.core.run import Releaser


@contextmanager
def stop_on_signals(releaser: Releaser) -> Iterator[None]:
    """SIGINT and SIGTERM ask the release to stop changing things and record where it
    stopped; a second SIGINT stops at once. Before a release began (waiting for the lock,
    reading what runs) there is nothing to record: they stop at once, exit 130."""
    seen = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        if not began() or (seen > 1 and signum == signal.SIGINT):
            raise KeyboardInterrupt
        err("ship: stopping: no new changes; recording where the release stopped")
        releaser.interrupt()

    old = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
