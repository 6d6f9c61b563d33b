"""What deploy and rollback share: the ledger record, the gate, operations handed to
adapters, bakes, and restoring both sides to a snapshot."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipper.core import machine as m
from shipper.core.early import Early
from shipper.core.events import (
    GateBlocked,
    GatePassed,
    GateSkipped,
    Notice,
    PlanMade,
    PreflightFinding,
    RollbackFinished,
)
from shipper.core.holding import Hold
from shipper.core.model import (
    Holder,
    JSONDict,
    Measurement,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    Side,
    Snapshot,
    Target,
    TargetResult,
    Version,
)
from shipper.core.operation import ReleaseOperation, pause
from shipper.core.outcome import Outcome
from shipper.core.plan import Plan
from shipper.core.ports import (
    Check,
    Clock,
    GateReading,
    Platform,
)
from shipper.core.record import Record
from shipper.core.sides import (
    common_version,
    divergent,
    on_each_side,
)
from shipper.core.verify import BakeResult, PlatformHealthCheck, bake
from shipper.errors import (
    ExitCode,
    ShipError,
)

if TYPE_CHECKING:
    from shipper.core.run import Releaser


FRESH_SECONDS = 10.0  # an early reading (gate, targets) older than this is read again


class Command:
    """What deploy and rollback share: the record, the gate, operations, bakes, restores."""

    def __init__(self, releaser: Releaser, hold: Hold) -> None:
        self.releaser = releaser
        self.policy = releaser.policy
        self.ports = releaser.ports
        self.hold = hold
        self.record: Record | None = None
        self._early_gate: Early[GateReading] | None = None
        # what the preflight found and overrode, for the ledger of the release that follows
        self._preflight_log: list[tuple[str, JSONDict]] = []

    @property
    def clock(self) -> Clock:
        return self.ports.clock

    def open(
        self,
        kind: ReleaseKind,
        version: Version,
        reason: str,
        *,
        snapshot: Snapshot | None = None,
        parent: ReleaseNo | None = None,
        gate_override: str = "",
        holder: Holder,
        commit: str | None = None,
    ) -> Record:
        self.record = Record.open(
            self.ports.ledger,
            self.ports.emitter,
            self.clock,
            self.hold.fence,
            pipeline=self.policy.pipeline,
            kind=kind,
            version=version,
            actor=str(holder),
            reason=reason,
            snapshot=snapshot,
            parent=parent,
            gate_override=gate_override,
            commit=commit,
        )
        from shipper.core.events import ReleaseStarted

        self.record.emit(
            ReleaseStarted(kind=kind.value, version=version, actor=str(holder), reason=reason)
        )
        for name, fields in self._preflight_log:  # already in the event stream: ledger only
            self.record.log(name, fields)
        self._preflight_log = []
        took = self.hold.lease.took_over
        if took is not None:
            self.record.emit(
                Notice(
                    level="warning",
                    message=f"took the lock over from "
                    f"{took.holder}: {self.hold.lease.takeover_reason}",
                )
            )
        return self.record

    def preflight(self, version: Version) -> Outcome | None:
        """Every side's preflight and the configured checks, read concurrently, after the
        snapshot and before the first change anywhere. Every finding and every override
        of a check is emitted (and kept for the ledger of the release that follows); any
        BLOCK finding ends the run with exit 3 and nothing changed (the outcome names the
        first). A verify check that cannot connect at all is such a finding
        (`core.reach`): it would fail every measurement and roll a healthy release back."""
        from shipper.core.preflight import run_preflight
        from shipper.core.reach import reach_checks

        checks = [*self.ports.preflight_checks, *reach_checks(self.ports.checks)]
        result = run_preflight(self.ports.platforms, checks, self.policy.preflight, version)
        for note in result.notes:
            self.ports.emitter.emit(Notice(level="warning", message=note))
            self._preflight_log.append(("preflight_override", {"message": note}))
        for f in result.findings:
            event = PreflightFinding(
                target=f.target.key if f.target else None,
                check=f.check,
                severity=f.severity.value,
                message=f.message,
                table=[list(row) for row in f.table],
            )
            self.ports.emitter.emit(event)
            self._preflight_log.append((event.name, event.fields()))
        blocks = result.blocks
        if not blocks:
            return None
        first = blocks[0]
        where = f"{first.target}: " if first.target else ""
        more = f" (and {len(blocks) - 1} more)" if len(blocks) > 1 else ""
        return Outcome(
            ExitCode.BLOCKED,
            f"refused before any change: {where}{first.message}{more}; nothing was changed",
        )

    def gate_soon(self, skip_reason: str) -> None:
        """Start reading the status gate now, for the next `gate` call: the caller reads
        the targets meanwhile, and both answers arrive in the time of one round trip."""
        gate = self.ports.gate
        if gate is not None and not skip_reason:
            self._early_gate = Early(gate.read, self.clock)

    def gate(self, phase: Phase, skip_reason: str) -> str:
        """ "" when the gate is open (or overridden, which is recorded), else why not."""
        assert self.record is not None
        gate = self.ports.gate
        if gate is None:
            return ""
        if skip_reason:
            self.record.emit(GateSkipped(phase=phase.value, reason=skip_reason))
            return ""
        early, self._early_gate = self._early_gate, None
        reading = (early.take(FRESH_SECONDS) if early else None) or gate.read()
        if reading.is_open:
            self.record.emit(GatePassed(phase=phase.value, summary=reading.summary))
            return ""
        self.record.emit(GateBlocked(phase=phase.value, reason=reading.summary))
        return reading.summary

    def operation(
        self,
        version: Version,
        budget: float,
        abort: threading.Event,
        snapshot: Snapshot | None = None,
        *,
        to: Snapshot | None = None,
        commit: str | None = None,
        limit_key: str = "",
    ) -> ReleaseOperation:
        record = self.record
        assert record is not None
        return ReleaseOperation(
            release=record.number,
            pipeline=self.policy.pipeline,
            version=version,
            clock=self.clock,
            budget_seconds=budget,
            stop=self.releaser.stop,
            abort=abort,
            write_ahead=self._write_ahead,
            fence=self.hold.fence,
            emit=record.emit,
            from_versions={t.target.key: t.version for t in snapshot.targets} if snapshot else {},
            to_versions={t.target.key: t.version for t in to.targets} if to else None,
            commit=commit,
            limit_key=limit_key,
        )

    def _write_ahead(self, target: Target, action: str, detail: JSONDict) -> None:
        assert self.record is not None
        self.releaser.changed = True
        self.record.write_ahead(target, action, detail)

    def bake(
        self,
        checks: Sequence[Check],
        seconds: float,
        version: Version,
        *,
        rounds: int | None = None,
    ) -> BakeResult:
        assert self.record is not None
        stop, clock = self.releaser.stop, self.clock
        return bake(
            checks,
            self.policy.verify,
            version=version,
            seconds=seconds,
            clock=clock,
            emit=self.record.emit,
            cancelled=stop.is_set,
            pause=lambda seconds: pause(clock, seconds, stop.is_set),
            rounds=rounds,
        )

    def pinned_checks(self, snapshot: Snapshot, *, health_only: bool = False) -> list[Check]:
        """The checks, measured against what `snapshot` runs (old code, or restored code).

        Each side's health expects exactly the snapshot's states, by identity. A
        configured check is measured with the label the side's targets share; one that
        needs a label (`{version}` in its URL or query) is left out, with a notice, when
        the label is unknown or mixed: an unknown label is never by itself a failure."""
        checks: list[Check] = [
            PlatformHealthCheck(platform, snapshot.side(side))
            for side, platform in self.ports.platforms.items()
        ]
        if health_only:
            return checks
        for check in self.ports.checks:
            label = common_version(snapshot.side(check.side))
            if label is None and check.uses_version:
                assert self.record is not None
                self.record.emit(
                    Notice(
                        level="warning",
                        message=f"check {check.name} not measured: it needs the version's "
                        f"label and the {check.side.value} side's running label is unknown",
                    )
                )
                continue
            checks.append(Pinned(check, label))
        return checks

    def restore(self, snapshot: Snapshot) -> tuple[list[str], list[str], Snapshot]:
        """Both sides back to `snapshot`, concurrently, with the rollback's own budget
        (never what the deploy left over). Returns (restored, not restored, running)."""
        abort = threading.Event()  # one side's failure never stops the other's rollback

        def act(platform: Platform) -> Sequence[TargetResult]:
            states = snapshot.side(platform.side)
            label = common_version(states) or Version("")  # for people only; may be unknown
            op = self.operation(
                label,
                self.policy.rollback_timeout_seconds,
                abort,
                None,
                to=snapshot,
                limit_key="rollback.timeout",
            )
            return platform.roll_back(states, op)

        assert self.record is not None
        outcomes = on_each_side(
            self.ports.platforms, act, emit=self.record.emit, on_failure=lambda: None, rollback=True
        )
        restored = [r.target.key for o in outcomes for r in o.results if r.ok]
        missing = [f for o in outcomes for f in o.failures()]
        if self.releaser.stop.is_set():
            self.hold.fence()
        try:
            running = self.releaser.snapshot()
            missing += divergent(snapshot, running, missing)
        except ShipError as exc:
            missing.append(f"could not read what runs now: {exc}")
            running = snapshot
        self.record.emit(
            RollbackFinished(
                verdict="failed" if missing else "succeeded",
                restored=restored,
                not_restored=missing,
            )
        )
        return restored, missing, running

    def manual_steps(self, snapshot: Snapshot, missing: list[str]) -> list[str]:
        steps = []
        for state in snapshot.targets:
            if any(state.target.key in f for f in missing):
                platform = self.ports.platforms.get(state.target.side)
                if platform is not None:
                    steps.append(platform.manual_steps(state))
        return steps

    def stopped(self, exc: ShipError) -> Outcome:
        """SIGINT/SIGTERM or a lost lock: stop, record where, let the lock go."""
        lost = self.hold.lost
        message = str(lost or exc)
        record = self.record
        if record is None:
            return Outcome(ExitCode.BLOCKED if lost else exc.exit_code, message)
        where = f"release {record.number} stopped in phase {record.release.phase}"
        if lost is not None:
            self.ports.emitter.emit(Notice(level="error", message=message))
            return Outcome(
                ExitCode.BLOCKED, f"{message} ({where})", record.release.state, record.number
            )
        if not record.machine.state.is_open:
            # the record is a finished release (a migration release, stopped during the
            # bake that follows it): it keeps its own outcome; say what is done and what not
            release = record.release
            text = (
                f"interrupted after {release.kind} release {record.number} of "
                f"{release.version} {release.state}; no code was shipped: "
                f"`ship deploy {release.version}` continues (it does not migrate again)"
            )
            self.ports.emitter.emit(Notice(level="warning", message=text))
            return Outcome(ExitCode.INTERRUPTED, text, release.state, record.number)
        record.step(m.Interrupt(), message=message)
        how = (
            f"`ship {finish_command(record.release)}` finishes it, `ship rollback` undoes it"
            if record.release.kind is not ReleaseKind.ROLLBACK
            else "`ship rollback` again finishes it"
        )
        text = f"interrupted: {where}; {how}"
        record.finish(ExitCode.INTERRUPTED, text, None)
        return Outcome(ExitCode.INTERRUPTED, text, record.release.state, record.number)


class Pinned:
    """A check measured against a fixed version (the old code, or the restored one).

    `version` None: the label is unknown, and the check does not use it (see
    `Command.pinned_checks`), so it is measured with an empty one."""

    def __init__(self, check: Check, version: Version | None) -> None:
        self._check = check
        self._version = version

    @property
    def name(self) -> str:
        return self._check.name

    @property
    def side(self) -> Side:
        return self._check.side

    @property
    def threshold(self) -> str:
        return self._check.threshold

    @property
    def uses_version(self) -> bool:
        return self._check.uses_version

    def measure(self, version: Version) -> Measurement:
        return self._check.measure(self._version if self._version is not None else Version(""))


# Releases whose changes are not in effect: a rollback skips them to find the latest one
# that is (a release ship already rolled back is not "the latest release" to undo).


def finish_command(release: Release) -> str:
    if release.kind is ReleaseKind.MIGRATION:
        return f"migrate {release.version}"
    return f"deploy {release.version}"


def plan_event(plan: Plan) -> PlanMade:
    return PlanMade(
        version=plan.version,
        migrations=plan.migrations.run,
        migrations_why=plan.migrations.why,
        phases=list(plan.phases),
        targets=[
            {
                "target": t.target.key,
                "side": t.target.side.value,
                "from": t.from_version,
                "to": t.to_version,
                "action": t.action,
            }
            for t in plan.targets
        ],
    )
