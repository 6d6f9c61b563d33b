"""A check that reports a scripted series of measurements, for bake and release tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shipper.core.clock import Clock
from shipper.core.model import Measurement, MeasurementStatus, Side, Version

STATUS = {
    "S": MeasurementStatus.SUCCESSFUL,
    "F": MeasurementStatus.FAILED,
    "I": MeasurementStatus.INCONCLUSIVE,
}


@dataclass
class ScriptedCheck:
    """Measures `script` one letter at a time (S, F, I), then `then` for ever.

    Each measurement takes `duration` seconds on `clock` (a request's time), and waits
    for `gate` to be set when one is given (a measurement still in flight).
    """

    name: str = "probe"
    side: Side = Side.KUBERNETES
    script: str = ""
    then: str = "S"
    clock: Clock | None = None
    duration: float = 0.0
    gate: threading.Event | None = None
    threshold: str = "p99 <= 0.5"
    uses_version: bool = False
    calls: list[tuple[Version, float]] = field(default_factory=list)
    completed: int = 0
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def measure(self, version: Version) -> Measurement:
        with self._guard:
            started = self.clock.monotonic() if self.clock else 0.0
            letter = (
                self.script[len(self.calls)] if len(self.calls) < len(self.script) else self.then
            )
            self.calls.append((version, started))
        if self.gate is not None:
            self.gate.wait(5.0)
        if self.clock is not None and self.duration:
            self.clock.sleep(self.duration)
        with self._guard:
            self.completed += 1
        return Measurement(
            STATUS[letter], value=f"#{len(self.calls)}", message=f"scripted {letter}"
        )

    def started_at(self, index: int) -> float:
        """Clock time at which measurement `index` (0-based) started."""
        return self.calls[index][1]
