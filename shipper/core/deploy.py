"""`ship deploy` and `ship migrate`: the migration release, the code release, the bake,
and on any regression the joint rollback of both sides."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shipper.core import machine as m
from shipper.core import traffic
from shipper.core.admission import Gatekeeper, blocked, preflight, start_preflight
from shipper.core.command_io import DeployRequest, Outcome
from shipper.core.context import ReleaseContext
from shipper.core.events import (
    Notice,
    PhaseFinished,
    PhaseStarted,
    RollbackStarted,
    SnapshotTaken,
)
from shipper.core.lock_hold import Hold
from shipper.core.model import (
    JSONDict,
    Phase,
    PhaseVerdict,
    Release,
    ReleaseKind,
    ReleaseState,
    Side,
    Snapshot,
    TargetResult,
    TargetState,
    Version,
)
from shipper.core.plan import build_plan
from shipper.core.ports import FRESH_SECONDS, Check, Platform
from shipper.core.read_ahead import ReadAhead
from shipper.core.record import Record
from shipper.core.sides import (
    all_reached,
    common_version,
    describe,
    on_each_side,
)
from shipper.core.steps import (
    bake_checks,
    intend_deploy,
    manual_steps,
    open_record,
    operation,
    pinned_checks,
    plan_event,
    restore,
    resume_record,
    rollback_failed,
    stopped,
)
from shipper.core.verify import PlatformHealthCheck
from shipper.errors import (
    BadInput,
    ExitCode,
    Interrupted,
    LockLost,
)


class Deploy:
    """One `ship deploy` or `ship migrate`, run under a held lock."""

    def __init__(self, ctx: ReleaseContext, hold: Hold, req: DeployRequest) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.ports = ctx.ports
        self.clock = ctx.ports.clock
        self.hold = hold
        self.req = req
        self.record: Record | None = None
        self._gate = Gatekeeper(ctx)
        # what the preflight found and overrode, for the ledger of the release that follows
        self._preflight_log: list[tuple[str, JSONDict]] = []
        self._early_targets: ReadAhead[Snapshot] | None = None

    def run(self, resumed: Release | None) -> Outcome:
        try:
            return self._run(resumed)
        except (Interrupted, LockLost) as exc:
            return stopped(self.ctx, self.hold, self.record, exc)

    def _run(self, resumed: Release | None) -> Outcome:
        req, version = self.req, self.req.version
        if resumed is not None:
            self.record = resume_record(self.ctx, self.hold, resumed, version, req.holder)
            if resumed.kind is ReleaseKind.MIGRATION:
                outcome = self._migrate(resumed.snapshot or self.ctx.snapshot())
                if outcome is not None or req.migrations_only:
                    return outcome or self._migrated()
                return self._code_release(None)
            return self._code_release(resumed)

        # the plan --dry-run prints is the one carried out: its phases decide what runs
        self._gate.soon(req.skip_gate_reason)
        checked = start_preflight(self.ctx, version)  # read-only, beside the snapshot
        # Unless a migration release surely comes first, the code release starts from
        # this snapshot: what its first step would read is read with it.
        code_first = req.migrations is not True and not req.migrations_only
        snapshot = self.ctx.snapshot(deploying=version if code_first else None)
        decision = self.ctx.decide_migrations(version, req.migrations, snapshot)
        plan = build_plan(version, snapshot, decision, commit=req.commit)
        self.ports.emitter.emit(plan_event(plan))
        refused = preflight(self.ctx, version, self._preflight_log, checked)
        if refused is not None:
            return refused
        migrating = plan.runs(Phase.MIGRATE)
        if req.migrations_only:
            if not migrating:
                return Outcome(ExitCode.OK, f"no migration release for {version}: {decision.why}")
            return self._new_migration(snapshot) or self._migrated()
        if snapshot.runs_everywhere(version, req.commit) and not migrating and not req.force:
            message = f"{version} already runs on every target; nothing to do (--force redeploys)"
            self.ports.emitter.emit(Notice(level="info", message=message))
            return Outcome(ExitCode.OK, message, ReleaseState.UNCHANGED, None, snapshot)
        if migrating:
            outcome = self._new_migration(snapshot)
            if outcome is not None:
                return outcome
            return self._code_release(None)  # time has passed: read the targets again
        return self._code_release(None, known=snapshot)

    # --- the migration release ----------------------------------------------------------

    def _new_migration(self, snapshot: Snapshot) -> Outcome | None:
        opened = self._open_through_gate(ReleaseKind.MIGRATION, snapshot)
        if isinstance(opened, Outcome):
            return opened
        record = opened
        record.enter(Phase.SNAPSHOT)
        record.emit(SnapshotTaken(targets={t.target.key: t.version for t in snapshot.targets}))
        record.leave(Phase.SNAPSHOT, PhaseVerdict.TAKEN)
        return self._migrate(snapshot)

    def _migrate(self, snapshot: Snapshot) -> Outcome | None:
        """Run (or, resumed, find and follow) the migration; then bake against the old code.
        None when the code release may follow."""
        record, version = self.record, self.req.version
        policy, runner = self.policy.migrations, self.ports.migrations
        assert record is not None
        if policy is None or runner is None:
            raise BadInput("this pipeline has no migration runner; drop --migrations")
        record.enter(Phase.MIGRATE, policy.timeout_seconds, "migrations.timeout")
        op = operation(
            self.ctx,
            self.hold,
            record,
            version,
            policy.timeout_seconds,
            threading.Event(),
            snapshot,
            commit=self.req.commit,
            limit_key="migrations.timeout",
        )
        result = runner.run(version, policy.command, op)
        if self.ctx.stop.is_set():
            self.hold.fence()
            raise Interrupted("interrupted while the migration ran")
        for line in result.log.splitlines()[-500:]:
            record.log("migration_output", {"line": line})
        if not result.succeeded:
            record.leave(Phase.MIGRATE, PhaseVerdict.FAILED, result.message)
            record.step(m.Fail(), message=result.message)
            text = (
                f"migration release {record.number} of {version} failed: {result.message}; "
                "no code was shipped"
            )
            record.finish(ExitCode.FAILED, text, snapshot)
            return Outcome(ExitCode.FAILED, text, record.release.state, record.number, snapshot)
        record.leave(
            Phase.MIGRATE,
            PhaseVerdict.SUCCEEDED,
            "followed the run already started" if result.adopted else "",
        )
        record.step(m.Succeed(), message="migrations applied")
        record.finish(
            ExitCode.OK, f"migration release {record.number} of {version} applied", snapshot
        )
        return self._migration_bake(record)

    def _migration_bake(self, record: Record) -> Outcome | None:
        """The checks against the code still running: a schema change that breaks it is
        caught here, before any new code ships."""
        policy = self.policy.migrations
        assert policy is not None
        if policy.bake_seconds <= 0:
            return None
        # what ran before the migration still runs: ship changed no target since
        running = record.release.snapshot or self.ctx.snapshot()
        started = self.clock.monotonic()
        record.emit(
            PhaseStarted(
                phase=Phase.MIGRATION_BAKE,
                limit_seconds=policy.bake_seconds,
                limit="migrations.bake",
            )
        )
        if not self.req.migrations_only and policy.bake_seconds <= FRESH_SECONDS:
            # Nothing changes a target while the old code bakes (this process holds the
            # lock), so the code release's snapshot is read now, during the wait. Not the
            # status gate: it is read after the bake, a status that turned yellow during
            # it must still hold the code.
            version = self.req.version
            self._early_targets = ReadAhead(
                lambda: self.ctx.snapshot(deploying=version), self.clock
            )
        result = bake_checks(
            self.ctx,
            record,
            pinned_checks(self.ctx, record, running),
            policy.bake_seconds,
            common_version(running) or Version(""),  # the old code's label: may be unknown
        )
        record.emit(
            PhaseFinished(
                phase=Phase.MIGRATION_BAKE,
                verdict=PhaseVerdict.PASSED if result.passed else PhaseVerdict.FAILED,
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
        return Outcome(ExitCode.FAILED, text, ReleaseState.FAILED, record.number, running)

    def _migrated(self) -> Outcome:
        assert self.record is not None
        return Outcome(
            ExitCode.OK,
            self.record.release.message or "migrations applied",
            self.record.release.state,
            self.record.number,
        )

    # --- the code release ---------------------------------------------------------------

    def _code_release(self, resumed: Release | None, known: Snapshot | None = None) -> Outcome:
        """The code release. `known` is a snapshot read moments ago under this same lock,
        with no change since: it saves reading every target again."""
        req, version = self.req, self.req.version
        if resumed is None:
            early, self._early_targets = self._early_targets, None
            if known is None and early is not None:
                known = early.take(FRESH_SECONDS)
            if known is None:  # the targets and the gate, read together (the gate decides)
                self._gate.soon(req.skip_gate_reason)
                known = self.ctx.snapshot(deploying=version)
            opened = self._open_through_gate(ReleaseKind.CODE, None)
            if isinstance(opened, Outcome):
                return opened
            record = opened
            record.enter(Phase.SNAPSHOT)
            snapshot = known
            record.update(snapshot=snapshot)  # written before the first change: the way back
            record.emit(SnapshotTaken(targets={t.target.key: t.version for t in snapshot.targets}))
            record.leave(Phase.SNAPSHOT, PhaseVerdict.TAKEN)
        else:
            record = self.record  # type: ignore[assignment]
            assert record is not None
            if resumed.snapshot is None:  # stopped before the snapshot: nothing changed yet
                snapshot = self.ctx.snapshot(deploying=version)
                record.update(snapshot=snapshot)
            else:
                snapshot = resumed.snapshot
            if resumed.phase is Phase.ROLLBACK:
                return self._roll_back(
                    snapshot, "finishing the rollback of a release that stopped while rolling back"
                )
            if not resumed.changed:
                closed = self._gate.read(record, Phase.RELEASE, req.skip_gate_reason)
                if closed:
                    return blocked(record, closed, "the code release")

        reached: list[TargetState] = []  # a release resumed in its bake reports nothing
        if resumed is None or resumed.phase is not Phase.VERIFY:
            record.enter(
                Phase.RELEASE, self.policy.rollout_timeout_seconds, "kubernetes.rollout_timeout"
            )
            failures, reached = self._release_both(snapshot)
            if failures:
                record.leave(Phase.RELEASE, PhaseVerdict.FAILED, failures[0])
                return self._fail(snapshot, f"the release failed: {failures[0]}")
            record.leave(Phase.RELEASE, PhaseVerdict.SUCCEEDED)

        record.enter(Phase.VERIFY, self.policy.verify.bake_seconds, "verify.bake")
        traffic.say_shares(self.ports.traffic, record.emit)
        expected = all_reached(snapshot, reached, self.clock.now()) or self.ctx.snapshot()
        checks: list[Check] = [
            PlatformHealthCheck(p, expected.side(side)) for side, p in self.ports.platforms.items()
        ]
        checks.extend(self.ports.checks)
        result = bake_checks(self.ctx, record, checks, self.policy.verify.bake_seconds, version)
        if result.interrupted:
            raise Interrupted("interrupted during the bake")
        if not result.passed:
            record.leave(Phase.VERIFY, PhaseVerdict.FAILED, result.reason)
            return self._fail(
                snapshot,
                f"check {result.check} ({result.side}) failed: {result.reason}",
                regressed=result.side,
            )
        record.leave(Phase.VERIFY, PhaseVerdict.PASSED)
        running = expected
        record.step(m.Succeed(), deployed=running)
        text = f"{version} runs on all {len(running.targets)} targets of both sides"
        record.finish(ExitCode.OK, text, running)
        return Outcome(ExitCode.OK, text, record.release.state, record.number, running)

    def _release_both(self, snapshot: Snapshot) -> tuple[list[str], list[TargetState]]:
        """Every side concurrently; the first failure stops the other side's wait.
        Returns the failures and the state each target reported at its end."""
        abort = threading.Event()
        version = self.req.version
        record = self.record
        assert record is not None

        targets = [t for p in self.ports.platforms.values() for t in p.targets()]
        written = intend_deploy(self.ctx, record, targets, version)  # both sides, one write

        def deploy(p: Platform) -> Sequence[TargetResult]:
            op = operation(  # one Operation per side, sharing the abort flag
                self.ctx,
                self.hold,
                record,
                version,
                self.policy.rollout_timeout_seconds,
                abort,
                snapshot,
                commit=self.req.commit,
                limit_key="kubernetes.rollout_timeout",
                written_ahead=written,
            )
            return p.deploy(version, op)

        outcomes = on_each_side(
            self.ports.platforms,
            deploy,
            emit=record.emit,
            on_failure=abort.set,
            rollback=False,
        )
        if self.ctx.stop.is_set():
            self.hold.fence()
            raise Interrupted("interrupted during the release")
        everything = [f for o in outcomes for f in o.failures()]
        causes = [f for o in outcomes for f in o.causes()]
        reached = [r.state for o in outcomes for r in o.results if r.ok and r.state]
        # the causes first, so the one-line result names what failed, not what it stopped
        return causes + [f for f in everything if f not in causes], reached

    def _open_through_gate(self, kind: ReleaseKind, snapshot: Snapshot | None) -> Record | Outcome:
        """Open a release of `kind` and pass the status gate: the open record, or the
        outcome of a gate that said no (recorded as a blocked release)."""
        req = self.req
        record = self.record = open_record(
            self.ctx,
            self.hold,
            kind,
            req.version,
            req.reason,
            snapshot=snapshot,
            gate_override=req.skip_gate_reason,
            holder=req.holder,
            commit=req.commit,
            preflight_log=self._preflight_log,
        )
        self._preflight_log = []
        record.enter(Phase.GATE)
        closed = self._gate.read(record, Phase.GATE, req.skip_gate_reason)
        if closed:
            return blocked(record, closed, f"the {kind} release")
        record.leave(Phase.GATE, PhaseVerdict.PASSED)
        return record

    def _fail(self, snapshot: Snapshot, why: str, regressed: Side | None = None) -> Outcome:
        record = self.record
        assert record is not None
        record.step(m.Fail(), message=why)
        if record.machine.state is ReleaseState.FAILED:  # nothing had been changed
            text = f"{why}; nothing had been changed"
            record.finish(ExitCode.FAILED, text, snapshot)
            return Outcome(ExitCode.FAILED, text, record.release.state, record.number, snapshot)
        return self._roll_back(snapshot, why, regressed)

    def _roll_back(self, snapshot: Snapshot, why: str, regressed: Side | None = None) -> Outcome:
        """Both sides back to `snapshot`. `regressed` is the one side the bake found
        failing: with `traffic.on_regression: drain` its traffic moves off it first."""
        record = self.record
        assert record is not None
        drained = traffic.drain_before_rollback(
            self.ports.traffic, regressed, self.policy.drain_on_regression, record.emit
        )
        record.emit(RollbackStarted(reason=why))
        started = self.clock.monotonic()

        def rollback_phase(verdict: PhaseVerdict, message: str = "") -> None:
            seconds = round(self.clock.monotonic() - started, 3)
            record.emit(
                PhaseFinished(
                    phase=Phase.ROLLBACK, verdict=verdict, seconds=seconds, message=message
                )
            )

        record.emit(
            PhaseStarted(
                phase=Phase.ROLLBACK,
                limit_seconds=self.policy.rollback_timeout_seconds,
                limit="rollback.timeout",
            )
        )
        _, missing, running = restore(self.ctx, self.hold, record, snapshot)
        if missing:
            rollback_phase(PhaseVerdict.FAILED, missing[0])
            record.step(m.RolledBack(ok=False))
            text = rollback_failed(
                why, missing, running, manual_steps(self.ports.platforms, snapshot, missing)
            )
            text += traffic.still_drained(drained)
            record.finish(ExitCode.OPERATOR, text, running)
            return Outcome(ExitCode.OPERATOR, text, record.release.state, record.number, running)
        result = bake_checks(
            self.ctx,
            record,
            pinned_checks(self.ctx, record, snapshot),
            0.0,
            common_version(snapshot) or Version(""),  # the restored code's label: may be unknown
            rounds=1,
        )
        if result.interrupted:
            raise Interrupted("interrupted while verifying the rollback")
        if not result.passed:
            rollback_phase(PhaseVerdict.FAILED, result.reason)
            record.step(m.RolledBack(ok=False))
            text = (
                f"{why}; both sides were rolled back, but check {result.check} "
                f"({result.side}) still fails: {result.reason}; look at the application now"
            ) + traffic.still_drained(drained)
            record.finish(ExitCode.OPERATOR, text, running)
            return Outcome(ExitCode.OPERATOR, text, record.release.state, record.number, running)
        rollback_phase(PhaseVerdict.SUCCEEDED)
        record.step(m.RolledBack(ok=True))
        text = f"{why}; both sides were rolled back ({describe(running)}) and are healthy"
        text += traffic.undrain_after_rollback(self.ports.traffic, drained, record.emit)
        record.finish(ExitCode.FAILED, text, running)
        return Outcome(ExitCode.FAILED, text, record.release.state, record.number, running)
