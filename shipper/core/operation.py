"""The `Operation` handed to adapters: write-ahead, fencing, progress and a time budget."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping

from shipper.core.events import Event, MetricRecorded, MigrationLog, TargetProgress
from shipper.core.model import JSONDict, ReleaseNo, Target, Version
from shipper.core.ports import Clock
from shipper.errors import Interrupted

PAUSE_STEP = 0.25  # how quickly a pause notices a cancellation


def pause(clock: Clock, seconds: float, stopped: Callable[[], bool]) -> None:
    """Sleep up to `seconds` on `clock`, in short steps, returning once `stopped()`."""
    remaining = seconds
    while remaining > 0 and not stopped():
        step = min(PAUSE_STEP, remaining)
        clock.sleep(step)
        remaining -= step


def duration_words(seconds: float) -> str:
    """`90` -> "90s", `600` -> "10m", `5400` -> "1h30m": as a pipeline file writes it."""
    whole = round(seconds)
    if whole < 120 and whole % 60:
        return f"{whole}s"
    hours, minutes = divmod(whole // 60, 60)
    rest = whole % 60
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{rest}s" if rest else "") or "0s"


class ReleaseOperation:
    """One deploy, rollback or migration of one release, as adapters see it.

    `stop` is the command-wide stop (a signal, or the lock lost); `abort` is this
    operation's own (the other side failed). Either makes `cancelled` true and `intend`
    refuse, so an adapter can start no new change once the release is going back.
    """

    def __init__(
        self,
        *,
        release: ReleaseNo,
        pipeline: str,
        version: Version,
        clock: Clock,
        budget_seconds: float,
        stop: threading.Event,
        abort: threading.Event,
        write_ahead: Callable[[Target, str, JSONDict], None],
        fence: Callable[[], None],
        emit: Callable[[Event], None],
        from_versions: Mapping[str, Version | None] | None = None,
        to_versions: Mapping[str, Version | None] | None = None,
        commit: str | None = None,
        limit_key: str = "",
        written_ahead: Collection[str] = (),
        acting: Callable[[], None] = lambda: None,
    ) -> None:
        self.release = release
        # the deadline in words with the key that sets it: "10m (kubernetes.rollout_timeout)"
        self.limit = (
            f"{duration_words(budget_seconds)} ({limit_key})"
            if limit_key
            else (duration_words(budget_seconds))
        )
        self.pipeline = pipeline
        self.version = version
        self.clock = clock
        self._deadline = clock.monotonic() + budget_seconds
        self._stop = stop
        self._abort = abort
        self._write_ahead = write_ahead
        self._fence = fence
        self._emit = emit
        self._from = dict(from_versions or {})
        self._to = dict(to_versions or {})
        self.commit = commit
        self._guard = threading.Lock()
        # targets whose intent the core already made durable for this operation (a
        # rollback's or a deploy's, both sides in one write): their first `intend` has
        # nothing to write
        self._written_ahead = set(written_ahead)
        self._acting = acting  # told before a written-ahead target's first change

    @property
    def deadline(self) -> float:
        return self._deadline

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set() or self._abort.is_set()

    def intend(self, target: Target, action: str, detail: JSONDict | None = None) -> None:
        if self._stop.is_set():
            self._fence()  # raises LockLost when that is why we stop
            raise Interrupted(f"stopped before {action} on {target}")
        if self._abort.is_set():
            raise Interrupted(f"stopped before {action} on {target}: the release is failing")
        with self._guard:
            if target.key in self._written_ahead:
                self._written_ahead.discard(target.key)
                self._acting()
                return
            self._write_ahead(target, action, detail or {})

    def progress(self, target: Target, status: str, message: str = "") -> None:
        self._emit(
            TargetProgress(
                target=target.key,
                side=target.side.value,
                from_version=self._from.get(target.key),
                to_version=self._to.get(target.key, self.version) or None,
                status=status,
                message=message,
            )
        )

    def log(self, line: str) -> None:
        self._emit(MigrationLog(line=line))

    def pause(self, seconds: float) -> None:
        pause(self.clock, seconds, lambda: self.cancelled)

    def metric(self, name: str, value: float, target: Target | None = None) -> None:
        self._emit(MetricRecorded(metric=name, value=value, target=target.key if target else None))
