"""Small working fakes of every port, scriptable from tests.

A fake is a tiny implementation, not a mock: FakePlatform really holds the version each
target runs, so a test can assert on state ("both sides back at the snapshot") rather
than on calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from shipper.core.emitter import Emitter
from shipper.core.events import Stamped
from shipper.core.model import (
    JSON,
    Finding,
    Holder,
    LedgerEntry,
    LockInfo,
    LockLease,
    Measurement,
    MeasurementStatus,
    Release,
    ReleaseNo,
    Side,
    Target,
    TargetResult,
    TargetState,
    Verdict,
    Version,
)
from shipper.errors import LedgerError, LockHeld, LockLost
from shipper.ports import GateReading, MigrationResult, Operation
from shipper.state.stale import held_message, stale_reason
from tests.fakes.clock import FakeClock


class FakePlatform:
    """One side with named targets, each running a version.

    Scripts: `fail_deploy[name] = message` makes that target's deploy fail after it
    changed; `fail_rollback[name]` makes its rollback fail; `deploy_seconds` makes each
    deploy take that long on the clock (in steps, honouring cancellation and the
    deadline); `unhealthy_versions` lists versions whose health measurement fails;
    `during_deploy` runs once inside deploy (to flip a gate or interrupt); `unlabelled`
    lists versions whose label can't be read (a brownfield target: its identity, the
    code it runs, still can); `findings` is what `preflight` answers.
    """

    def __init__(self, side: Side, names: Sequence[str], version: str = "v1") -> None:
        self._side = side
        self.running: dict[str, Version] = {n: Version(version) for n in names}
        self.fail_deploy: dict[str, str] = {}
        self.fail_rollback: dict[str, str] = {}
        self.deploy_seconds = 0.0
        self.rollback_seconds = 0.0
        self.unhealthy_versions: set[str] = set()
        self.health_error: Exception | None = None
        self.during_deploy: Callable[[], object] | None = None
        self.block_until_cancelled = False  # a rollout that only ends when cancelled
        self.deploys: list[tuple[str, str]] = []  # (target, version) per change made
        self.rollbacks: list[tuple[str, str]] = []
        self.snapshots = 0
        self.snapshots_deploying: list[Version | None] = []  # what each snapshot was told
        self.unlabelled: set[str] = set()
        self.findings: list[Finding] = []
        self.cancelled_seen = False
        self._guard = threading.Lock()

    @property
    def side(self) -> Side:
        return self._side

    def targets(self) -> Sequence[Target]:
        return [Target(self._side, n) for n in self.running]

    def snapshot(self, *, deploying: Version | None = None) -> Sequence[TargetState]:
        self.snapshots += 1
        self.snapshots_deploying.append(deploying)
        return [self._state(n) for n in self.running]

    def preflight(self, version: Version) -> Sequence[Finding]:
        return list(self.findings)

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        if self.during_deploy is not None:
            hook, self.during_deploy = self.during_deploy, None
            hook()
        results = []
        for name in list(self.running):
            target = Target(self._side, name)
            if self.running[name] == version:
                results.append(TargetResult(target, Verdict.SUCCEEDED, self._state(name)))
                continue
            op.intend(target, "deploy", {"to": version})
            with self._guard:
                self.running[name] = version
                self.deploys.append((name, version))
            op.progress(target, "rolling out")
            verdict = self._wait(op, self.deploy_seconds)
            if verdict is not Verdict.SUCCEEDED:
                results.append(TargetResult(target, verdict, self._state(name), verdict.value))
                continue
            if name in self.fail_deploy:
                results.append(
                    TargetResult(target, Verdict.FAILED, self._state(name), self.fail_deploy[name])
                )
                continue
            results.append(TargetResult(target, Verdict.SUCCEEDED, self._state(name)))
        return results

    def _wait(self, op: Operation, seconds: float) -> Verdict:
        if self.block_until_cancelled:
            import time

            for _ in range(500):  # 5 s of real time at most
                if op.cancelled:
                    self.cancelled_seen = True
                    return Verdict.PENDING
                time.sleep(0.01)
        waited = 0.0
        while waited < seconds:
            if op.cancelled:
                self.cancelled_seen = True
                return Verdict.PENDING
            if op.clock.monotonic() >= op.deadline:
                return Verdict.TIMED_OUT
            op.pause(1.0)
            waited += 1.0
        if op.clock.monotonic() > op.deadline:
            return Verdict.TIMED_OUT
        return Verdict.SUCCEEDED

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        results = []
        for state in to:
            name = state.target.name
            code = state.detail.get("version")
            if self.running.get(name) == code:
                results.append(TargetResult(state.target, Verdict.SUCCEEDED, self._state(name)))
                continue
            if name in self.fail_rollback:
                results.append(
                    TargetResult(
                        state.target, Verdict.FAILED, self._state(name), self.fail_rollback[name]
                    )
                )
                continue
            op.intend(state.target, "roll back", {"to": code})
            with self._guard:
                assert isinstance(code, str)
                self.running[name] = Version(code)
                self.rollbacks.append((name, code))
            verdict = self._wait(op, self.rollback_seconds)
            results.append(TargetResult(state.target, verdict, self._state(name), verdict.value))
        return results

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        """By identity, as a real adapter: the code each target runs, never its label."""
        if self.health_error is not None:
            raise self.health_error
        for state in expected:
            now = self._state(state.target.name)
            if not now.runs_same_code(state):
                return Measurement(
                    MeasurementStatus.FAILED, message=f"{state.target.name} not on {state.identity}"
                )
            if self.running[state.target.name] in self.unhealthy_versions:
                return Measurement(
                    MeasurementStatus.FAILED,
                    message=f"{self.running[state.target.name]} is crashing",
                )
        return Measurement(MeasurementStatus.SUCCESSFUL, value="healthy")

    def manual_steps(self, to: TargetState) -> str:
        return f"fake rollback {to.target.name} --to {to.detail.get('version')}"

    def _state(self, name: str) -> TargetState:
        """As a real adapter does: the same detail a snapshot read gives."""
        version = self.running[name]
        label = None if version in self.unlabelled else version
        return TargetState(
            Target(self._side, name), label, {"version": version}, identity=f"code:{version}"
        )


class FakeGate:
    """A status gate whose colour a test sets; `script` gives colours per read."""

    def __init__(self, is_open: bool = True) -> None:
        self.is_open = is_open
        self.script: list[bool] = []
        self.reads = 0

    def read(self) -> GateReading:
        self.reads += 1
        is_open = self.script.pop(0) if self.script else self.is_open
        summary = "Apps green, Tools green" if is_open else "Tools is yellow: Delayed builds"
        return GateReading(is_open=is_open, summary=summary)


class FakeCheck:
    """A check with scripted measurements (then a default)."""

    def __init__(
        self, name: str, side: Side, default: MeasurementStatus = MeasurementStatus.SUCCESSFUL
    ) -> None:
        self._name = name
        self._side = side
        self.default = default
        self.script: list[MeasurementStatus] = []
        self.measured: list[tuple[float, str]] = []  # (monotonic time, version)
        self.clock: FakeClock | None = None
        self.when: Callable[[Version], MeasurementStatus | None] | None = None
        self.versioned = False  # whether it claims to need the version's label

    @property
    def name(self) -> str:
        return self._name

    @property
    def side(self) -> Side:
        return self._side

    @property
    def threshold(self) -> str:
        return "error rate < 1%"

    @property
    def uses_version(self) -> bool:
        return self.versioned

    def measure(self, version: Version) -> Measurement:
        self.measured.append((self.clock.monotonic() if self.clock else 0.0, version))
        status = None
        if self.when is not None:
            status = self.when(version)
        if status is None:
            status = self.script.pop(0) if self.script else self.default
        return Measurement(status, value="0.5" if status is MeasurementStatus.FAILED else "0.0")


class FakeLedger:
    def __init__(self) -> None:
        self.stored: dict[int, Release] = {}
        self.log: dict[int, list[LedgerEntry]] = {}
        self.saves = 0

    def next_number(self) -> ReleaseNo:
        return ReleaseNo(max(self.stored, default=0) + 1)

    def create(self, release: Release) -> Release:
        if release.number in self.stored:
            raise LedgerError(f"release {release.number} already exists")
        self.stored[release.number] = release
        self.log[release.number] = []
        return release

    def save(self, release: Release) -> None:
        if release.number not in self.stored:
            raise LedgerError(f"release {release.number} is missing")
        self.saves += 1
        self.stored[release.number] = release

    def append(self, number: ReleaseNo, entry: LedgerEntry) -> None:
        self.log.setdefault(number, []).append(entry)

    def get(self, number: ReleaseNo) -> Release | None:
        return self.stored.get(number)

    def entries(self, number: ReleaseNo) -> list[LedgerEntry]:
        return list(self.log.get(number, []))

    def releases(self, limit: int | None = None) -> list[Release]:
        out = [self.stored[n] for n in sorted(self.stored, reverse=True)]
        return out[:limit] if limit is not None else out


class FakeLock:
    """In-memory lock with the same rules as the real backends (tokens, staleness)."""

    def __init__(self, clock: FakeClock, pipeline: str = "web", host: str = "here") -> None:
        self._clock = clock
        self._pipeline = pipeline
        self._host = host
        self.current: LockInfo | None = None
        self._token = 0
        self.alive: set[int] = set()
        self._guard = threading.Lock()

    def acquire(
        self,
        holder: Holder,
        reason: str,
        ttl_seconds: float | None,
        *,
        force: bool = False,
        manual: bool = False,
    ) -> LockLease:
        with self._guard:
            now = self._clock.now()
            took, why = None, ""
            if self.current is not None:
                why = stale_reason(
                    self.current, now=now, host=self._host, is_alive=lambda pid: pid in self.alive
                )
                if not why and not force:
                    raise LockHeld(held_message(self.current, now))
                took, why = self.current, why or "forced with --force-lock"
            self._token += 1
            self.current = LockInfo(
                self._pipeline, holder, reason, now, now, ttl_seconds, self._token, manual
            )
            return LockLease(self.current, took, why)

    def renew(self, lease: LockLease) -> LockLease:
        with self._guard:
            if self.current is None or self.current.token != lease.info.token:
                raise LockLost("lost the lock")
            self.current = replace(self.current, renewed_at=self._clock.now())
            return LockLease(self.current, lease.took_over, lease.takeover_reason)

    def verify(self, lease: LockLease) -> None:
        if self.current is None or self.current.token != lease.info.token:
            who = self.current.holder if self.current else "nobody"
            raise LockLost(f"lost the lock for {self._pipeline} to {who}")

    def release(self, lease: LockLease) -> None:
        with self._guard:
            if self.current is not None and self.current.token == lease.info.token:
                self.current = None

    def show(self) -> LockInfo | None:
        return self.current

    def release_any(self) -> LockInfo | None:
        current, self.current = self.current, None
        return current


class FakeRunner:
    """A migration runner: succeeds or fails as scripted, remembers runs per release."""

    def __init__(self) -> None:
        self.fail_with = ""
        self.runs: dict[int, str] = {}  # release -> version
        self.starts = 0
        self.during: Callable[[], None] | None = None

    def run(self, version: Version, command: Sequence[str], op: Operation) -> MigrationResult:
        target = Target(Side.KUBERNETES, f"job/migrate-{op.release}")
        if op.release in self.runs:
            return MigrationResult(True, "already ran", "== 1 migrated ==", adopted=True)
        op.intend(target, "create migration job", {"command": list(command)})
        self.starts += 1
        self.runs[op.release] = version
        op.log("== 20261126 AddIndex: migrating ==")
        if self.during is not None:
            self.during()
        if self.fail_with:
            return MigrationResult(False, self.fail_with, "PG::DuplicateTable")
        return MigrationResult(True, "", "== 20261126 AddIndex: migrated ==")


@dataclass
class FakeHistory:
    changed: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def changed_paths(self, old: Version, new: Version) -> list[str] | None:
        return self.changed.get((old, new))


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[Stamped] = []
        self.closed = False

    def emit(self, event: Stamped) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True

    def names(self) -> list[str]:
        return [e.event.name for e in self.events]

    def of(self, name: str) -> list[dict[str, JSON]]:
        return [e.to_json() for e in self.events if e.event.name == name]


def make_emitter(clock: FakeClock, sink: RecordingSink, pipeline: str = "web") -> Emitter:
    return Emitter([sink], clock, pipeline)


def holder(name: str = "alice@laptop:42", pid: int | None = 42) -> Holder:
    return Holder(name, "here", pid)


_ = datetime
