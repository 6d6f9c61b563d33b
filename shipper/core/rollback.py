"""`ship rollback`: a release of its own that returns both sides to a recorded state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from shipper.core import machine as m
from shipper.core.command_io import Outcome, RollbackRequest
from shipper.core.context import ReleaseContext
from shipper.core.events import (
    RollbackStarted,
    SnapshotTaken,
)
from shipper.core.lock_hold import Hold
from shipper.core.model import (
    Phase,
    PhaseVerdict,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Side,
    Snapshot,
    Version,
)
from shipper.core.ports import Ledger
from shipper.core.record import Record
from shipper.core.sides import (
    common_version,
    describe,
)
from shipper.core.steps import (
    bake_checks,
    manual_steps,
    open_record,
    pinned_checks,
    restore,
    rollback_failed,
    stopped,
)
from shipper.errors import (
    BadInput,
    ExitCode,
    Interrupted,
    LockLost,
)

UNKNOWN_LABEL = "(unknown version)"  # a rollback's ledger label when the snapshot's is unknown


class Rollback:
    """One `ship rollback`, run under a held lock."""

    def __init__(self, ctx: ReleaseContext, hold: Hold, req: RollbackRequest) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.ports = ctx.ports
        self.hold = hold
        self.req = req
        self.record: Record | None = None

    def run(self) -> Outcome:
        try:
            return self._run()
        except (Interrupted, LockLost) as exc:
            return stopped(self.ctx, self.hold, self.record, exc)

    def _run(self) -> Outcome:
        req, ledger = self.req, self.ports.ledger
        plan = plan_rollback(ledger, req.to)
        now = self.ctx.snapshot()
        snapshot = plan.snapshot or now
        if plan.finishes is None and already_runs(snapshot, now):
            text = f"both sides already run {plan.target_text}; nothing was changed"
            return Outcome(ExitCode.OK, text, None, None, now)
        # the label is for people (history, the live view); what is restored and verified
        # is the snapshot's states by the platforms' identities
        label = common_version(snapshot) or plan.label or Version(UNKNOWN_LABEL)
        record = self.record = open_record(
            self.ctx,
            self.hold,
            ReleaseKind.ROLLBACK,
            label,
            req.reason or plan.summary,
            snapshot=now,
            parent=plan.release.number,
            holder=req.holder,
        )
        record.enter(Phase.SNAPSHOT)
        record.emit(SnapshotTaken(targets={t.target.key: t.version for t in now.targets}))
        record.leave(Phase.SNAPSHOT, PhaseVerdict.TAKEN)
        if plan.finishes is not None:  # a killed or interrupted release: this rollback ends it
            self._supersede(plan.finishes, record.number)
        record.enter(Phase.ROLLBACK, self.policy.rollback_timeout_seconds, "rollback.timeout")
        record.emit(
            RollbackStarted(
                reason=req.reason or plan.summary,
                to_release=plan.release.number if plan.after else None,
                undoes=None if plan.after else plan.release.number,
                target=plan.target_text,
            )
        )
        _, missing, running = restore(self.ctx, self.hold, record, snapshot, now)
        if missing:
            record.leave(Phase.ROLLBACK, PhaseVerdict.FAILED, missing[0])
            record.step(m.Fail(), message=missing[0])
            text = rollback_failed(
                f"rollback to {plan.target_text}",
                missing,
                running,
                manual_steps(self.ports.platforms, snapshot, missing),
            )
            record.finish(ExitCode.OPERATOR, text, running)
            return Outcome(ExitCode.OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.ROLLBACK, PhaseVerdict.SUCCEEDED)
        record.enter(Phase.VERIFY)
        # the rollouts' health, plus one round of checks (not a whole bake: on-call needs
        # to know now). A check failing in that round is measured on until its limits, so
        # one flaky reading does not call for a person. --no-verify keeps only the health.
        result = bake_checks(
            self.ctx,
            record,
            pinned_checks(self.ctx, record, snapshot, health_only=not req.verify),
            0.0,
            common_version(snapshot) or Version(""),
            rounds=1,
        )
        if result.interrupted:
            raise Interrupted("interrupted while verifying the rollback")
        if not result.passed:
            record.leave(Phase.VERIFY, PhaseVerdict.FAILED, result.reason)
            record.step(m.Fail(), message=result.reason)
            text = (
                f"both sides were rolled back, but check {result.check} ({result.side}) "
                f"fails: {result.reason}; look at the application now"
            )
            record.finish(ExitCode.OPERATOR, text, running)
            return Outcome(ExitCode.OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.VERIFY, PhaseVerdict.PASSED)
        record.step(m.Succeed(), deployed=running)
        text = f"{plan.summary}: {describe(running)}"
        record.finish(ExitCode.OK, text, running)
        return Outcome(ExitCode.OK, text, record.release.state, record.number, running)

    def _supersede(self, release: Release, by: ReleaseNo) -> None:
        state = m.advance(
            m.MachineState(
                kind=release.kind, phase=release.phase, state=release.state, changed=release.changed
            ),
            m.Supersede(),
        )
        self.ports.ledger.save(
            replace(
                release,
                state=state.state,
                phase=state.phase,
                message=f"finished by rollback release {by}",
            )
        )


# Releases whose changes are not in effect: a rollback skips them to find the latest one
# that is (a release ship already rolled back, one that failed before any change).
_NOT_IN_EFFECT = frozenset(
    {
        ReleaseState.ROLLED_BACK,
        ReleaseState.FAILED,
        ReleaseState.BLOCKED,
        ReleaseState.UNCHANGED,
        ReleaseState.SUPERSEDED,
    }
)


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback returns both sides to, named before anything changes.

    `after` True: what `release` deployed runs again (`--to N`); False: what ran before
    `release` runs again (no argument: `release` is undone). `snapshot` None: what runs
    now (an open release killed before its snapshot changed nothing; closing it is all).
    `finishes`: an open release (or a rollback that did not finish) this one ends.
    """

    release: Release
    after: bool
    snapshot: Snapshot | None
    finishes: Release | None = None

    @property
    def label(self) -> Version | None:
        """The version label of the state returned to, for people."""
        if self.snapshot is not None:
            shared = common_version(self.snapshot)
            if shared is not None:
                return shared
        if self.after and self.release.kind is not ReleaseKind.ROLLBACK:
            return self.release.version
        return None

    @property
    def target_text(self) -> str:
        """`what release #6 deployed (v4)` or `what ran before release #7 (v3)`."""
        shown = f" ({self.label})" if self.label else ""
        if self.snapshot is None:
            return f"what runs now (release #{self.release.number} changed nothing)"
        if self.after:
            return f"what release #{self.release.number} deployed{shown}"
        return f"what ran before release #{self.release.number}{shown}"

    @property
    def summary(self) -> str:
        """The ledger's words for this rollback: exactly what runs again."""
        shown = f" ({self.label})" if self.label else ""
        if self.snapshot is None:
            return f"closed release {self.release.number} (it changed nothing)"
        if self.after:
            return f"rolled back to release {self.release.number}{shown}"
        return f"undo release {self.release.number}: back to what ran before it{shown}"

    def sizes(self) -> str:
        """`heroku 2 apps, kubernetes 3 workloads`: what will be acted on."""
        if self.snapshot is None:
            return "no target"
        parts = []
        for side in Side:
            count = len(self.snapshot.side(side))
            if count:
                parts.append(f"{side} {count} {side.target_noun}{'s' if count != 1 else ''}")
        return ", ".join(parts) or "no target"

    def question(self) -> str:
        """The prompt, naming the target: what runs again, on how many targets."""
        return f"roll back both sides to {self.target_text}: {self.sizes()}?"


HISTORY_DEPTH = 500  # releases read to find what a rollback returns to


def plan_rollback(ledger: Ledger, to: ReleaseNo | None) -> RollbackPlan:
    """Which state a rollback returns both sides to. Read-only.

    `--to N`: what release N deployed (a migration release is refused: migrations are
    never reversed, and it deployed no code of its own). No argument: the state before the
    latest release still in effect, skipping releases already rolled back (by ship during
    their bake, or by a later `ship rollback`) and rollbacks themselves, so a second
    rollback never ships the bad version again. A rollback that did not finish is finished:
    it returns to the same state it was returning to.
    """
    releases = ledger.releases(limit=HISTORY_DEPTH)
    if to is not None:
        return _to_release(releases, to)
    floor: int | None = None  # releases numbered from here up are undone by a rollback
    for release in releases:
        if not release.kind.moves_code:
            continue  # a traffic change: `ship traffic` sets the split back, not a rollback
        if release.kind is ReleaseKind.ROLLBACK:
            if floor is not None and release.number >= floor:
                continue  # itself undone by a later rollback
            restores = _restores(ledger, release)
            if restores is None:
                continue
            if release.state.is_open or release.state is ReleaseState.ROLLBACK_FAILED:
                plan = _replan(releases, restores)
                return replace(plan, finishes=release if release.state.is_open else None)
            if release.state is ReleaseState.SUCCEEDED:
                after, number = restores
                start = number + 1 if after else number
                floor = start if floor is None else min(floor, start)
            continue
        if floor is not None and release.number >= floor:
            continue
        if release.kind is ReleaseKind.MIGRATION or release.state in _NOT_IN_EFFECT:
            continue  # never undone by ship; or already undone, or it changed nothing
        if release.snapshot is None:
            if release.state.is_open and not release.changed:
                return RollbackPlan(release, False, None, finishes=release)
            continue
        if release.changed or release.state.is_open:
            # An open release is undone even if it changed nothing yet: the stop message
            # offers `ship rollback`, and skipping it would undo an older release instead.
            return RollbackPlan(
                release,
                False,
                release.snapshot,
                finishes=release if release.state.is_open else None,
            )
    raise BadInput("the ledger has no release to roll back; see `ship history`")


def _to_release(releases: Sequence[Release], to: ReleaseNo) -> RollbackPlan:
    chosen = next((r for r in releases if r.number == to), None)
    if chosen is None:
        raise BadInput(f"there is no release {to} in the ledger; see `ship history`")
    if not chosen.kind.moves_code:
        raise BadInput(
            f"release {to} is a traffic change: it shipped no code to return to; "
            "`ship traffic status` shows the split and `ship traffic set` changes it"
        )
    if chosen.kind is ReleaseKind.MIGRATION:
        code = _code_release_of(releases, chosen)
        go = f"`ship rollback --to {code}`" if code else "its code release (see `ship history`)"
        raise BadInput(
            f"release {to} is the migration release of {chosen.version}: migrations are never "
            f"reversed and it shipped no code; to run {chosen.version}'s code again use {go}"
        )
    if chosen.deployed is None:
        raise BadInput(
            f"release {to} ({chosen.state}) did not finish deploying, so there is no state "
            "of it to return to; pick a succeeded release from `ship history`"
        )
    return RollbackPlan(chosen, True, chosen.deployed)


def _code_release_of(releases: Sequence[Release], migration: Release) -> ReleaseNo | None:
    """The code release that shipped the version a migration release migrated for."""
    for release in releases:
        if (
            release.kind is ReleaseKind.CODE
            and release.version == migration.version
            and release.deployed is not None
            and (release.number == migration.parent or release.number > migration.number)
        ):
            return release.number
    return None


def _restores(ledger: Ledger, rollback: Release) -> tuple[bool, int] | None:
    """What a recorded rollback returned to: (True, N) for what release N deployed,
    (False, N) for what ran before release N; read from its rollback_started entry."""
    for entry in ledger.entries(rollback.number):
        if entry.event != RollbackStarted.name:
            continue
        to, undoes = entry.fields.get("to_release"), entry.fields.get("undoes")
        if "undoes" not in entry.fields:  # recorded before `undoes`: it undid `to_release`
            return (False, to) if isinstance(to, int) else None
        if isinstance(to, int):
            return True, to
        if isinstance(undoes, int):
            return False, undoes
    if rollback.parent is not None:  # stopped before it said: it undoes its parent
        return False, int(rollback.parent)
    return None


def _replan(releases: Sequence[Release], restores: tuple[bool, int]) -> RollbackPlan:
    after, number = restores
    release = next((r for r in releases if r.number == number), None)
    if release is None:
        raise BadInput(f"release {number} is gone from the ledger; use `ship rollback --to N`")
    snapshot = release.deployed if after else release.snapshot
    if snapshot is None:
        raise BadInput(
            f"release {number} recorded no state to return to; use `ship rollback --to N`"
        )
    return RollbackPlan(release, after, snapshot)


def already_runs(wanted: Snapshot, now: Snapshot) -> bool:
    """Whether every target runs the code `wanted` records, by the platforms' identities
    (never labels): then a rollback has nothing to do."""
    if not wanted.targets:
        return False
    for state in wanted.targets:
        current = now.get(state.target)
        if current is None or not current.runs_same_code(state):
            return False
    return True
