"""An Operation for adapter tests: records intents, progress and log lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from shipper.core.clock import Clock
from shipper.core.model import JSONDict, ReleaseNo, Target, Version
from shipper.errors import Interrupted
from tests.fakes.clock import FakeClock


@dataclass
class RecordingOperation:
    version: Version = Version("v2")
    commit: str | None = None
    release: ReleaseNo = ReleaseNo(7)
    pipeline: str = "web"
    clock: Clock = field(default_factory=FakeClock)
    budget: float = 600.0
    limit: str = "10m (kubernetes.rollout_timeout)"
    intents: list[tuple[str, str, JSONDict | None]] = field(default_factory=list)
    updates: list[tuple[str, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    metrics: list[tuple[str, float, str | None]] = field(default_factory=list)
    cancel_after_intents: int | None = None
    _cancelled: bool = False
    _start: float | None = None

    @property
    def deadline(self) -> float:
        if self._start is None:
            self._start = self.clock.monotonic()
        return self._start + self.budget

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True

    def intend(self, target: Target, action: str, detail: JSONDict | None = None) -> None:
        if self._cancelled:
            raise Interrupted("cancelled before " + action)
        self.intents.append((target.key, action, detail))
        if self.cancel_after_intents is not None and len(self.intents) >= self.cancel_after_intents:
            self._cancelled = True

    def progress(self, target: Target, status: str, message: str = "") -> None:
        self.updates.append((target.key, status, message))

    def log(self, line: str) -> None:
        self.lines.append(line)

    def pause(self, seconds: float) -> None:
        if not self._cancelled:
            self.clock.sleep(seconds)

    def metric(self, name: str, value: float, target: Target | None = None) -> None:
        self.metrics.append((name, value, target.key if target else None))
