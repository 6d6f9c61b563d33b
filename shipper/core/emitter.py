"""Stamps core events with time, pipeline and release number, and hands them to sinks
(`EventSink`, the port the reports implement)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from shipper.core.clock import Clock
from shipper.core.events import Event, Stamped

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Receives the event stream: the console, JSON lines, GitHub, Slack."""

    def emit(self, event: Stamped) -> None: ...

    def close(self) -> None:
        """The release is over: flush and finish (summaries, notifications)."""
        ...


class Emitter:
    """The one event stream of a command. A sink that fails is logged and skipped: the
    release must never fail because a terminal or a webhook did."""

    def __init__(self, sinks: Sequence[EventSink], clock: Clock, pipeline: str) -> None:
        self._sinks = list(sinks)
        self._clock = clock
        self._pipeline = pipeline
        self._release: int | None = None
        self._guard = threading.Lock()

    @property
    def release(self) -> int | None:
        """The release events are stamped with; None until a release began."""
        return self._release

    def set_release(self, number: int | None) -> None:
        self._release = number

    def emit(self, event: Event) -> None:
        stamped = Stamped(self._clock.now(), self._pipeline, self._release, event)
        with self._guard:
            for sink in self._sinks:
                try:
                    sink.emit(stamped)
                except Exception:  # a broken sink must not break a release
                    log.warning("event sink %s failed", type(sink).__name__, exc_info=True)

    def close(self) -> None:
        for sink in self._sinks:
            try:
                sink.close()
            except Exception:
                log.warning("event sink %s failed to close", type(sink).__name__, exc_info=True)
