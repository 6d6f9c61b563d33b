"""The typed events of one release. Every output of ship is a sink of this one stream.

Each event is a frozen dataclass whose `name` is the stable `event` field of the JSON
stream (`docs/events.md`). The core emits events; it never formats them.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from shipper.core.model import JSON, JSONDict, Phase, PhaseVerdict, Verdict


@dataclass(frozen=True)
class Event:
    """Base of all events. Subclasses set `name` and add their fields."""

    name: ClassVar[str] = "event"

    def fields(self) -> JSONDict:
        out: JSONDict = {}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: object) -> JSON:
    if isinstance(value, enum.Enum):  # a Phase or a verdict: its plain value on the wire
        return _plain(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class Stamped:
    """An event as a sink receives it: with the time, the pipeline and the release."""

    time: datetime
    pipeline: str
    release: int | None
    event: Event

    def to_json(self) -> JSONDict:
        return {
            "event": self.event.name,
            "time": self.time.isoformat(),
            "release": self.release,
            "pipeline": self.pipeline,
            **self.event.fields(),
        }


@dataclass(frozen=True)
class RunStarted(Event):
    """The first event of every run, before the lock: which ship, asked to do what, by whom."""

    name: ClassVar[str] = "run_started"
    ship_version: str  # the version of ship itself
    command: str  # deploy | migrate | rollback
    version: str | None  # the version asked for (None: a rollback, which finds its own)
    actor: str
    to_release: int | None = None  # `ship rollback --to N`


@dataclass(frozen=True)
class ReleaseStarted(Event):
    name: ClassVar[str] = "release_started"
    kind: str
    version: str
    actor: str
    reason: str = ""
    resumed: bool = False


@dataclass(frozen=True)
class LockTaken(Event):
    name: ClassVar[str] = "lock_taken"
    holder: str
    took_over_from: str | None = None
    takeover_reason: str = ""


@dataclass(frozen=True)
class LockWaiting(Event):
    name: ClassVar[str] = "lock_waiting"
    holder: str
    reason: str
    wait_seconds: float


@dataclass(frozen=True)
class LockReleased(Event):
    name: ClassVar[str] = "lock_released"
    holder: str


@dataclass(frozen=True)
class GatePassed(Event):
    name: ClassVar[str] = "gate_passed"
    phase: Phase
    summary: str = ""


@dataclass(frozen=True)
class GateBlocked(Event):
    name: ClassVar[str] = "gate_blocked"
    phase: Phase
    reason: str


@dataclass(frozen=True)
class GateSkipped(Event):
    name: ClassVar[str] = "gate_skipped"
    phase: Phase
    reason: str


@dataclass(frozen=True)
class PhaseStarted(Event):
    name: ClassVar[str] = "phase_started"
    phase: Phase
    limit_seconds: float | None = None  # how long it may take (a bake: how long it lasts)
    limit: str = ""  # the pipeline key that sets it ("verify.bake", "migrations.timeout")


@dataclass(frozen=True)
class PhaseFinished(Event):
    name: ClassVar[str] = "phase_finished"
    phase: Phase
    verdict: PhaseVerdict
    seconds: float
    message: str = ""


@dataclass(frozen=True)
class SnapshotTaken(Event):
    name: ClassVar[str] = "snapshot_taken"
    targets: dict[str, str | None]  # target key -> version


@dataclass(frozen=True)
class PlanMade(Event):
    name: ClassVar[str] = "plan"
    version: str
    migrations: bool
    migrations_why: str
    targets: list[dict[str, str | None]]  # [{target, side, from, to, action}]
    phases: list[str] = dataclasses.field(default_factory=list)  # in order; empty: not said


@dataclass(frozen=True)
class TargetProgress(Event):
    name: ClassVar[str] = "target_progress"
    target: str
    side: str
    from_version: str | None
    to_version: str | None
    status: str
    message: str = ""


@dataclass(frozen=True)
class TargetFinished(Event):
    name: ClassVar[str] = "target_finished"
    target: str
    side: str
    verdict: Verdict
    version: str | None
    message: str = ""
    rollback: bool = False


@dataclass(frozen=True)
class MigrationLog(Event):
    name: ClassVar[str] = "migration_log"
    line: str


@dataclass(frozen=True)
class CheckMeasured(Event):
    name: ClassVar[str] = "check_result"
    check: str
    side: str
    status: str
    value: str
    message: str
    successes: int
    failures: int
    inconclusives: int
    consecutive_failures: int


@dataclass(frozen=True)
class CheckFailed(Event):
    name: ClassVar[str] = "check_failed"
    check: str
    side: str
    reason: str
    threshold: str
    last: list[str]


@dataclass(frozen=True)
class TrafficMoved(Event):
    """A release moved live traffic (`traffic.on_regression: drain`): `drain` sends the
    regressed side's traffic to the other side before the rollback, `undrain` puts it
    back once the rollback is verified. `applied` is False when the proxy refused or could
    not be reached (the rollback goes on regardless)."""

    name: ClassVar[str] = "traffic_moved"
    action: str  # drain | undrain
    side: str
    applied: bool
    message: str


@dataclass(frozen=True)
class RollbackStarted(Event):
    name: ClassVar[str] = "rollback_started"
    reason: str
    to_release: int | None = None  # `ship rollback --to N`: what N deployed runs again
    undoes: int | None = None  # `ship rollback`: what ran before this release runs again
    target: str = ""  # the state returned to, for people ("what release #6 deployed (v4)")


@dataclass(frozen=True)
class RollbackFinished(Event):
    name: ClassVar[str] = "rollback_finished"
    verdict: Verdict
    restored: list[str]
    not_restored: list[str]


@dataclass(frozen=True)
class MetricRecorded(Event):
    """A figure an adapter reports about this release (API calls spent, ...)."""

    name: ClassVar[str] = "metric"
    metric: str
    value: float
    target: str | None = None


@dataclass(frozen=True)
class PreflightFinding(Event):
    """One thing the preflight found before any change: `block` stops the release."""

    name: ClassVar[str] = "preflight_finding"
    target: str | None
    check: str
    severity: str  # block | warn | info
    message: str
    table: list[list[str]] = dataclasses.field(default_factory=list)  # the arithmetic


@dataclass(frozen=True)
class Notice(Event):
    """Something the operator should know that is not a failure (an override, a warning)."""

    name: ClassVar[str] = "notice"
    level: str  # info | warning
    message: str


@dataclass(frozen=True)
class ReleaseFinished(Event):
    name: ClassVar[str] = "release_finished"
    state: str
    exit_code: int
    message: str
    seconds: float
    running: dict[str, str | None]  # target key -> version running at the end (best known)
