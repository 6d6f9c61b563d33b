"""Runs releases: the one place where the core's decisions become calls on ports.

`ship deploy` is: lock, (resume an open release, or) read what runs, decide migrations,
the migration release (its own ledger entry, then a bake against the old code), the code
release (gate, snapshot written ahead, both sides concurrently), the bake, and on any
regression the joint rollback. `ship rollback` is its own release. Every step asks the
machine first, writes the ledger before acting, and reads live state before changing it,
so a resumed or repeated run never repeats a finished migration, build or patch.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from shipper.core import machine as m
from shipper.core.config import ReleasePolicy
from shipper.core.emitter import Emitter
from shipper.core.events import (
    GateBlocked,
    GatePassed,
    GateSkipped,
    Notice,
    PhaseFinished,
    PhaseStarted,
    PlanMade,
    RollbackFinished,
    RollbackStarted,
    SnapshotTaken,
)
from shipper.core.holding import Hold, held
from shipper.core.model import (
    Holder,
    JSONDict,
    Measurement,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Side,
    Snapshot,
    Target,
    TargetResult,
    Version,
)
from shipper.core.operation import ReleaseOperation
from shipper.core.plan import MigrationDecision, Plan, build_plan, decide_migrations
from shipper.core.record import Record
from shipper.core.sides import (
    common_version,
    describe,
    divergent,
    on_each_side,
    read_snapshot,
)
from shipper.core.verify import BakeResult, PlatformHealthCheck, bake
from shipper.errors import (
    BadInput,
    Interrupted,
    LockLost,
    ReleaseInProgress,
    ShipError,
)
from shipper.ports import (
    Check,
    Clock,
    Ledger,
    Lock,
    MigrationRunner,
    Platform,
    SourceHistory,
    StatusGate,
)

EXIT_OK, EXIT_FAILED, EXIT_BLOCKED, EXIT_OPERATOR, EXIT_INTERRUPTED = 0, 1, 3, 4, 130


@dataclass
class Ports:
    """Everything a release talks to. The CLI builds the real ones; tests build fakes."""

    platforms: Mapping[Side, Platform]
    ledger: Ledger
    lock: Lock
    clock: Clock
    emitter: Emitter
    gate: StatusGate | None = None
    checks: Sequence[Check] = ()
    migrations: MigrationRunner | None = None
    history: SourceHistory | None = None


@dataclass(frozen=True)
class DeployRequest:
    version: Version
    holder: Holder
    reason: str = ""
    migrations: bool | None = None  # None: detect from git
    skip_gate_reason: str = ""  # non-empty: --skip-status-gate --reason TEXT
    force_lock: bool = False
    lock_wait_seconds: float = 0.0
    force: bool = False  # deploy even if the version already runs everywhere
    migrations_only: bool = False  # `ship migrate`


@dataclass(frozen=True)
class RollbackRequest:
    holder: Holder
    to: ReleaseNo | None = None
    reason: str = ""
    force_lock: bool = False
    lock_wait_seconds: float = 0.0
    verify: bool = True


@dataclass(frozen=True)
class Outcome:
    """How a command ended: the exit code of DESIGN.md and the one line that says why."""

    exit_code: int
    message: str
    state: ReleaseState | None = None
    release: ReleaseNo | None = None
    running: Snapshot | None = None


class Releaser:
    """Runs `ship deploy`, `ship migrate` and `ship rollback` for one pipeline."""

    def __init__(self, policy: ReleasePolicy, ports: Ports) -> None:
        self.policy = policy
        self.ports = ports
        self.stop = threading.Event()
        self.changed = False  # whether any platform change was started (an internal error
        # then exits 4: the state is no longer known)

    def interrupt(self) -> None:
        """Stop changing things as soon as possible (called from a signal handler)."""
        self.stop.set()

    def snapshot(self) -> Snapshot:
        return read_snapshot(self.ports.platforms, self.ports.clock.now)

    def plan(self, version: Version, migrations: bool | None) -> Plan:
        """Read-only: what `ship deploy VERSION` would do now (`--dry-run`)."""
        snapshot = self.snapshot()
        plan = build_plan(version, snapshot, self.decide_migrations(version, migrations, snapshot))
        self.ports.emitter.emit(plan_event(plan))
        return plan

    def decide_migrations(
        self, version: Version, flag: bool | None, snapshot: Snapshot
    ) -> MigrationDecision:
        applied = self.applied_migration(version)
        return decide_migrations(
            flag,
            self.policy.migrations,
            version,
            [t.version for t in snapshot.targets],
            self.ports.history,
            applied_in=applied.number if applied else None,
        )

    def applied_migration(self, version: Version) -> Release | None:
        for release in self.ports.ledger.releases(limit=200):
            if (
                release.kind is ReleaseKind.MIGRATION
                and release.version == version
                and release.state is ReleaseState.SUCCEEDED
            ):
                return release
        return None

    def open_release(self) -> Release | None:
        """The latest release that started and never finished (killed or interrupted)."""
        for release in self.ports.ledger.releases(limit=20):
            if release.state.is_open:
                return release
        return None

    def deploy(self, req: DeployRequest) -> Outcome:
        kind = "migration" if req.migrations_only else "deploy"
        with self._hold(
            req.holder, req.reason or f"{kind} {req.version}", req.force_lock, req.lock_wait_seconds
        ) as hold:
            open_release = self.open_release()
            if open_release is not None and (
                open_release.kind is ReleaseKind.ROLLBACK or open_release.version != req.version
            ):
                raise ReleaseInProgress(
                    f"release {open_release.number} ({open_release.kind} of "
                    f"{open_release.version}) stopped in phase {open_release.phase}; finish it "
                    f"with `ship {_finish_command(open_release)}` or undo it with `ship rollback`"
                )
            return _Deploy(self, hold, req).run(open_release)

    def rollback(self, req: RollbackRequest) -> Outcome:
        with self._hold(
            req.holder, req.reason or "rollback", req.force_lock, req.lock_wait_seconds
        ) as hold:
            return _Rollback(self, hold, req).run()

    def _hold(
        self, holder: Holder, reason: str, force: bool, wait: float
    ) -> AbstractContextManager[Hold]:
        return held(
            self.ports.lock,
            holder=holder,
            reason=reason,
            ttl_seconds=self.policy.lock_ttl_seconds,
            force=force,
            wait_seconds=wait,
            clock=self.ports.clock,
            emitter=self.ports.emitter,
            stop=self.stop,
        )


class _Command:
    """What deploy and rollback share: the record, the gate, operations, bakes, restores."""

    def __init__(self, releaser: Releaser, hold: Hold) -> None:
        self.releaser = releaser
        self.policy = releaser.policy
        self.ports = releaser.ports
        self.hold = hold
        self.record: Record | None = None

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
        )
        from shipper.core.events import ReleaseStarted

        self.record.emit(
            ReleaseStarted(kind=kind.value, version=version, actor=str(holder), reason=reason)
        )
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

    def gate(self, phase: Phase, skip_reason: str) -> str:
        """ "" when the gate is open (or overridden, which is recorded), else why not."""
        assert self.record is not None
        gate = self.ports.gate
        if gate is None:
            return ""
        if skip_reason:
            self.record.emit(GateSkipped(phase=phase.value, reason=skip_reason))
            return ""
        reading = gate.read()
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

        def pause(seconds: float) -> None:
            remaining = seconds
            while remaining > 0 and not stop.is_set():
                step = min(0.25, remaining)
                clock.sleep(step)
                remaining -= step

        return bake(
            checks,
            self.policy.verify,
            version=version,
            seconds=seconds,
            clock=clock,
            emit=self.record.emit,
            cancelled=stop.is_set,
            pause=pause,
            rounds=rounds,
        )

    def pinned_checks(self, snapshot: Snapshot, *, health_only: bool = False) -> list[Check]:
        """The checks, measured against what `snapshot` runs (old code, or restored code)."""
        checks: list[Check] = []
        for side, platform in self.ports.platforms.items():
            checks.append(
                Pinned(PlatformHealthCheck(platform), common_version(snapshot.side(side)))
            )
        if not health_only:
            checks.extend(
                Pinned(c, common_version(snapshot.side(c.side))) for c in self.ports.checks
            )
        return checks

    def restore(self, snapshot: Snapshot) -> tuple[list[str], list[str], Snapshot]:
        """Both sides back to `snapshot`, concurrently, with the rollback's own budget
        (never what the deploy left over). Returns (restored, not restored, running)."""
        abort = threading.Event()  # one side's failure never stops the other's rollback

        def act(platform: Platform) -> Sequence[TargetResult]:
            states = snapshot.side(platform.side)
            op = self.operation(
                common_version(states) or Version("snapshot"),
                self.policy.rollback_timeout_seconds,
                abort,
                None,
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
            return Outcome(EXIT_BLOCKED if lost else exc.exit_code, message)
        where = f"release {record.number} stopped in phase {record.release.phase}"
        if lost is not None:
            self.ports.emitter.emit(Notice(level="error", message=message))
            return Outcome(
                EXIT_BLOCKED, f"{message} ({where})", record.release.state, record.number
            )
        if record.machine.state.is_open:
            record.step(m.Interrupt(), message=message)
        how = (
            f"`ship {_finish_command(record.release)}` finishes it, `ship rollback` undoes it"
            if record.release.kind is not ReleaseKind.ROLLBACK
            else "`ship rollback` again finishes it"
        )
        text = f"interrupted: {where}; {how}"
        record.finish(EXIT_INTERRUPTED, text, None)
        return Outcome(EXIT_INTERRUPTED, text, record.release.state, record.number)


class _Deploy(_Command):
    def __init__(self, releaser: Releaser, hold: Hold, req: DeployRequest) -> None:
        super().__init__(releaser, hold)
        self.req = req

    def run(self, resumed: Release | None) -> Outcome:
        try:
            return self._run(resumed)
        except (Interrupted, LockLost) as exc:
            return self.stopped(exc)

    def _run(self, resumed: Release | None) -> Outcome:
        req, version = self.req, self.req.version
        if resumed is not None:
            self.record = Record(
                self.ports.ledger, self.ports.emitter, self.clock, self.hold.fence, resumed
            )
            from shipper.core.events import ReleaseStarted

            self.record.emit(
                ReleaseStarted(
                    kind=resumed.kind.value,
                    version=version,
                    actor=str(req.holder),
                    reason=resumed.reason,
                    resumed=True,
                )
            )
            self.record.emit(
                Notice(
                    level="info",
                    message=f"resuming release {resumed.number} "
                    f"of {version} from phase {resumed.phase}",
                )
            )
            if resumed.kind is ReleaseKind.MIGRATION:
                outcome = self._migrate(resumed.snapshot or self.releaser.snapshot())
                if outcome is not None or req.migrations_only:
                    return outcome or self._migrated()
                return self._code_release(None)
            return self._code_release(resumed)

        snapshot = self.releaser.snapshot()
        decision = self.releaser.decide_migrations(version, req.migrations, snapshot)
        self.ports.emitter.emit(plan_event(build_plan(version, snapshot, decision)))
        if req.migrations_only:
            if not decision.run:
                return Outcome(EXIT_OK, f"no migration release for {version}: {decision.why}")
            return self._new_migration(snapshot) or self._migrated()
        if snapshot.runs_everywhere(version) and not decision.run and not req.force:
            message = f"{version} already runs on every target; nothing to do (--force redeploys)"
            self.ports.emitter.emit(Notice(level="info", message=message))
            return Outcome(EXIT_OK, message, ReleaseState.UNCHANGED, None, snapshot)
        if decision.run:
            outcome = self._new_migration(snapshot)
            if outcome is not None:
                return outcome
        return self._code_release(None)

    # --- the migration release ----------------------------------------------------------

    def _new_migration(self, snapshot: Snapshot) -> Outcome | None:
        req = self.req
        record = self.open(
            ReleaseKind.MIGRATION,
            req.version,
            req.reason,
            snapshot=snapshot,
            gate_override=req.skip_gate_reason,
            holder=req.holder,
        )
        record.enter(Phase.GATE)
        closed = self.gate(Phase.GATE, req.skip_gate_reason)
        if closed:
            return self._blocked(closed, "the migration release")
        record.leave(Phase.GATE, "passed")
        record.enter(Phase.SNAPSHOT)
        record.emit(SnapshotTaken(targets={t.target.key: t.version for t in snapshot.targets}))
        record.leave(Phase.SNAPSHOT, "taken")
        return self._migrate(snapshot)

    def _migrate(self, snapshot: Snapshot) -> Outcome | None:
        """Run (or, resumed, find and follow) the migration; then bake against the old code.
        None when the code release may follow."""
        record, version = self.record, self.req.version
        policy, runner = self.policy.migrations, self.ports.migrations
        assert record is not None
        if policy is None or runner is None:
            raise BadInput("this pipeline has no migration runner; drop --migrations")
        record.enter(Phase.MIGRATE)
        op = self.operation(version, policy.timeout_seconds, threading.Event(), snapshot)
        result = runner.run(version, policy.command, op)
        if self.releaser.stop.is_set():
            self.hold.fence()
            raise Interrupted("interrupted while the migration ran")
        for line in result.log.splitlines()[-500:]:
            record.log("migration_output", {"line": line})
        if not result.succeeded:
            record.leave(Phase.MIGRATE, "failed", result.message)
            record.step(m.Fail(), message=result.message)
            text = (
                f"migration release {record.number} of {version} failed: {result.message}; "
                "no code was shipped"
            )
            record.finish(EXIT_FAILED, text, snapshot)
            return Outcome(EXIT_FAILED, text, record.release.state, record.number, snapshot)
        record.leave(
            Phase.MIGRATE, "succeeded", "followed the run already started" if result.adopted else ""
        )
        record.step(m.Succeed(), message="migrations applied")
        record.finish(EXIT_OK, f"migration release {record.number} of {version} applied", snapshot)
        return self._migration_bake(record)

    def _migration_bake(self, record: Record) -> Outcome | None:
        """The checks against the code still running: a schema change that breaks it is
        caught here, before any new code ships."""
        policy = self.policy.migrations
        assert policy is not None
        if policy.bake_seconds <= 0:
            return None
        running = self.releaser.snapshot()
        started = self.clock.monotonic()
        record.emit(PhaseStarted(phase=Phase.MIGRATION_BAKE.value))
        result = self.bake(
            self.pinned_checks(running),
            policy.bake_seconds,
            common_version(running) or self.req.version,
        )
        record.emit(
            PhaseFinished(
                phase=Phase.MIGRATION_BAKE.value,
                verdict="passed" if result.passed else "failed",
                seconds=round(self.clock.monotonic() - started, 3),
                message=result.reason,
            )
        )
        if result.interrupted:
            raise Interrupted("interrupted during the migration bake")
        if result.passed:
            return None
        text = (
            f"after migration release {record.number}, check {result.check} ({result.side}) "
            f"failed against the code still running: {result.reason}; no code was shipped, "
            "and the migration itself was NOT reversed: make the running code work with the "
            f"new schema (or ship a fixing migration), then deploy again"
        )
        record.update(message=text)
        record.emit(Notice(level="error", message=text))
        return Outcome(EXIT_FAILED, text, ReleaseState.FAILED, record.number, running)

    def _migrated(self) -> Outcome:
        assert self.record is not None
        return Outcome(
            EXIT_OK,
            self.record.release.message or "migrations applied",
            self.record.release.state,
            self.record.number,
        )

    # --- the code release ---------------------------------------------------------------

    def _code_release(self, resumed: Release | None) -> Outcome:
        req, version = self.req, self.req.version
        if resumed is None:
            record = self.open(
                ReleaseKind.CODE,
                version,
                req.reason,
                gate_override=req.skip_gate_reason,
                holder=req.holder,
            )
            record.enter(Phase.GATE)
            closed = self.gate(Phase.GATE, req.skip_gate_reason)
            if closed:
                return self._blocked(closed, "the code release")
            record.leave(Phase.GATE, "passed")
            record.enter(Phase.SNAPSHOT)
            snapshot = self.releaser.snapshot()
            record.update(snapshot=snapshot)  # written before the first change: the way back
            record.emit(SnapshotTaken(targets={t.target.key: t.version for t in snapshot.targets}))
            record.leave(Phase.SNAPSHOT, "taken")
        else:
            record = self.record  # type: ignore[assignment]
            assert record is not None
            if resumed.snapshot is None:  # stopped before the snapshot: nothing changed yet
                snapshot = self.releaser.snapshot()
                record.update(snapshot=snapshot)
            else:
                snapshot = resumed.snapshot
            if resumed.phase is Phase.ROLLBACK:
                return self._roll_back(
                    snapshot, "finishing the rollback of a release that stopped while rolling back"
                )
            if not resumed.changed:
                closed = self.gate(Phase.RELEASE, req.skip_gate_reason)
                if closed:
                    return self._blocked(closed, "the code release")

        if resumed is None or resumed.phase is not Phase.VERIFY:
            record.enter(Phase.RELEASE)
            failures = self._release_both(snapshot)
            if failures:
                record.leave(Phase.RELEASE, "failed", failures[0])
                return self._fail(snapshot, f"the release failed: {failures[0]}")
            record.leave(Phase.RELEASE, "succeeded")

        record.enter(Phase.VERIFY)
        checks: list[Check] = [PlatformHealthCheck(p) for p in self.ports.platforms.values()]
        checks.extend(self.ports.checks)
        result = self.bake(checks, self.policy.verify.bake_seconds, version)
        if result.interrupted:
            raise Interrupted("interrupted during the bake")
        if not result.passed:
            record.leave(Phase.VERIFY, "failed", result.reason)
            return self._fail(
                snapshot, f"check {result.check} ({result.side}) failed: {result.reason}"
            )
        record.leave(Phase.VERIFY, "passed")
        running = self.releaser.snapshot()
        record.step(m.Succeed(), deployed=running)
        text = f"{version} runs on all {len(running.targets)} targets of both sides"
        record.finish(EXIT_OK, text, running)
        return Outcome(EXIT_OK, text, record.release.state, record.number, running)

    def _release_both(self, snapshot: Snapshot) -> list[str]:
        """Every side concurrently; the first failure stops the other side's wait."""
        abort = threading.Event()
        version = self.req.version
        op = self.operation  # one Operation per side, sharing the abort flag
        assert self.record is not None
        outcomes = on_each_side(
            self.ports.platforms,
            lambda p: p.deploy(
                version, op(version, self.policy.rollout_timeout_seconds, abort, snapshot)
            ),
            emit=self.record.emit,
            on_failure=abort.set,
            rollback=False,
        )
        if self.releaser.stop.is_set():
            self.hold.fence()
            raise Interrupted("interrupted during the release")
        return [f for o in outcomes for f in o.failures()]

    def _blocked(self, why: str, what: str) -> Outcome:
        record = self.record
        assert record is not None
        record.leave(Phase.GATE, "blocked", why)
        record.step(m.Block(), message=why)
        text = (
            f"blocked by the platform status before {what}: {why}; nothing was changed "
            "(--skip-status-gate --reason TEXT overrides)"
        )
        record.finish(EXIT_BLOCKED, text, None)
        return Outcome(EXIT_BLOCKED, text, record.release.state, record.number)

    def _fail(self, snapshot: Snapshot, why: str) -> Outcome:
        record = self.record
        assert record is not None
        record.step(m.Fail(), message=why)
        if record.machine.state is ReleaseState.FAILED:  # nothing had been changed
            text = f"{why}; nothing had been changed"
            record.finish(EXIT_FAILED, text, snapshot)
            return Outcome(EXIT_FAILED, text, record.release.state, record.number, snapshot)
        return self._roll_back(snapshot, why)

    def _roll_back(self, snapshot: Snapshot, why: str) -> Outcome:
        record = self.record
        assert record is not None
        record.emit(RollbackStarted(reason=why))
        started = self.clock.monotonic()

        def rollback_phase(verdict: str, message: str = "") -> None:
            seconds = round(self.clock.monotonic() - started, 3)
            record.emit(
                PhaseFinished(
                    phase=Phase.ROLLBACK.value, verdict=verdict, seconds=seconds, message=message
                )
            )

        record.emit(PhaseStarted(phase=Phase.ROLLBACK.value))
        _, missing, running = self.restore(snapshot)
        if missing:
            rollback_phase("failed", missing[0])
            record.step(m.RolledBack(ok=False))
            text = _rollback_failed(why, missing, running, self.manual_steps(snapshot, missing))
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        result = self.bake(
            self.pinned_checks(snapshot),
            0.0,
            common_version(snapshot) or self.req.version,
            rounds=1,
        )
        if result.interrupted:
            raise Interrupted("interrupted while verifying the rollback")
        if not result.passed:
            rollback_phase("failed", result.reason)
            record.step(m.RolledBack(ok=False))
            text = (
                f"{why}; both sides were rolled back, but check {result.check} "
                f"({result.side}) still fails: {result.reason}; look at the application now"
            )
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        rollback_phase("succeeded")
        record.step(m.RolledBack(ok=True))
        text = f"{why}; both sides were rolled back ({describe(running)}) and are healthy"
        record.finish(EXIT_FAILED, text, running)
        return Outcome(EXIT_FAILED, text, record.release.state, record.number, running)


class _Rollback(_Command):
    def __init__(self, releaser: Releaser, hold: Hold, req: RollbackRequest) -> None:
        super().__init__(releaser, hold)
        self.req = req

    def run(self) -> Outcome:
        try:
            return self._run()
        except (Interrupted, LockLost) as exc:
            return self.stopped(exc)

    def _run(self) -> Outcome:
        req, ledger = self.req, self.ports.ledger
        undone, snapshot = rollback_target(ledger.releases(limit=500), req.to)
        label = common_version(snapshot) or Version("snapshot")
        now = self.releaser.snapshot()
        record = self.open(
            ReleaseKind.ROLLBACK,
            label,
            req.reason or f"undo release {undone.number}",
            snapshot=now,
            parent=undone.number,
            holder=req.holder,
        )
        record.enter(Phase.SNAPSHOT)
        record.emit(SnapshotTaken(targets={t.target.key: t.version for t in now.targets}))
        record.leave(Phase.SNAPSHOT, "taken")
        if undone.state.is_open:  # a killed or interrupted release: this rollback ends it
            state = m.advance(
                m.MachineState(
                    kind=undone.kind, phase=undone.phase, state=undone.state, changed=undone.changed
                ),
                m.Supersede(),
            )
            from dataclasses import replace

            ledger.save(
                replace(
                    undone,
                    state=state.state,
                    phase=state.phase,
                    message=f"undone by rollback release {record.number}",
                )
            )
        record.enter(Phase.ROLLBACK)
        record.emit(RollbackStarted(reason=req.reason or "ship rollback", to_release=undone.number))
        _, missing, running = self.restore(snapshot)
        if missing:
            record.leave(Phase.ROLLBACK, "failed", missing[0])
            record.step(m.Fail(), message=missing[0])
            text = _rollback_failed(
                f"rollback to before release {undone.number}",
                missing,
                running,
                self.manual_steps(snapshot, missing),
            )
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.ROLLBACK, "succeeded")
        record.enter(Phase.VERIFY)
        # the rollouts' health, plus one round of checks (not a whole bake: on-call needs
        # to know now). A check failing in that round is measured on until its limits, so
        # one flaky reading does not call for a person. --no-verify keeps only the health.
        result = self.bake(
            self.pinned_checks(snapshot, health_only=not req.verify), 0.0, label, rounds=1
        )
        if result.interrupted:
            raise Interrupted("interrupted while verifying the rollback")
        if not result.passed:
            record.leave(Phase.VERIFY, "failed", result.reason)
            record.step(m.Fail(), message=result.reason)
            text = (
                f"both sides were rolled back, but check {result.check} ({result.side}) "
                f"fails: {result.reason}; look at the application now"
            )
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.VERIFY, "passed")
        record.step(m.Succeed(), deployed=running)
        text = f"rolled back to before release {undone.number}: {describe(running)}"
        record.finish(EXIT_OK, text, running)
        return Outcome(EXIT_OK, text, record.release.state, record.number, running)


class Pinned:
    """A check measured against a fixed version (the old code, or the restored one)."""

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

    def measure(self, version: Version) -> Measurement:
        return self._check.measure(self._version or version)


# Releases whose changes are not in effect: a rollback skips them to find the latest one
# that is (a release ship already rolled back is not "the latest release" to undo).
_NOT_IN_EFFECT = frozenset(
    {
        ReleaseState.ROLLED_BACK,
        ReleaseState.FAILED,
        ReleaseState.BLOCKED,
        ReleaseState.UNCHANGED,
        ReleaseState.SUPERSEDED,
    }
)


def rollback_target(releases: Sequence[Release], to: ReleaseNo | None) -> tuple[Release, Snapshot]:
    """Which release a rollback undoes, and the snapshot it restores.

    No `--to`: the latest release still in effect (succeeded, stopped half-way, or whose
    own rollback failed), back to its snapshot: what ran before it. `--to N`: what
    release N deployed. Migrations are never undone by ship.
    """
    if to is not None:
        chosen = next((r for r in releases if r.number == to), None)
        if chosen is None:
            raise BadInput(f"there is no release {to} in the ledger; see `ship history`")
        if chosen.deployed is None:
            raise BadInput(
                f"release {to} ({chosen.state}) did not finish deploying, so there is no state "
                "of it to return to; pick a succeeded release from `ship history`"
            )
        return chosen, chosen.deployed
    for release in releases:
        if release.kind is ReleaseKind.MIGRATION or release.snapshot is None:
            continue
        if release.state in _NOT_IN_EFFECT:
            continue  # already undone, or it never changed anything
        if release.changed or release.kind is ReleaseKind.ROLLBACK:
            return release, release.snapshot
    raise BadInput("the ledger has no release to roll back; see `ship history`")


def _rollback_failed(why: str, missing: list[str], running: Snapshot, steps: list[str]) -> str:
    where = "; ".join(f"{t.target} runs {t.version}" for t in running.targets)
    by_hand = " && ".join(steps) if steps else "see `ship status`"
    return (
        f"{why}; ROLLBACK FAILED for {'; '.join(missing)}. Now: {where}. "
        f"Run `ship rollback` again, or by hand: {by_hand}"
    )


def _finish_command(release: Release) -> str:
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


__all__ = [
    "DeployRequest",
    "Outcome",
    "Ports",
    "Releaser",
    "RollbackRequest",
    "rollback_target",
]
_ = Lock  # re-exported port types used in Ports annotations
