"""The steps deploy and rollback share, as functions of the context, the lock hold and
the release record: opening a release, operations handed to adapters, bakes, pinned
checks, restoring both sides to a snapshot, and stopping cleanly."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from shipper.core import machine as m
from shipper.core.command_io import Outcome
from shipper.core.context import ReleaseContext
from shipper.core.events import (
    Notice,
    PlanMade,
    ReleaseStarted,
    RollbackFinished,
)
from shipper.core.lock_hold import Hold
from shipper.core.model import (
    Holder,
    JSONDict,
    Measurement,
    Release,
    ReleaseKind,
    ReleaseNo,
    Side,
    Snapshot,
    Target,
    TargetResult,
    TargetState,
    Verdict,
    Version,
)
from shipper.core.operation import ReleaseOperation, pause
from shipper.core.plan import Plan
from shipper.core.ports import Check, Platform
from shipper.core.record import Record
from shipper.core.sides import all_reached, common_version, divergent, on_each_side
from shipper.core.verify import BakeResult, PlatformHealthCheck, bake
from shipper.errors import ExitCode, ShipError


def open_record(
    ctx: ReleaseContext,
    hold: Hold,
    kind: ReleaseKind,
    version: Version,
    reason: str,
    *,
    snapshot: Snapshot | None = None,
    parent: ReleaseNo | None = None,
    gate_override: str = "",
    holder: Holder,
    commit: str | None = None,
    preflight_log: Sequence[tuple[str, JSONDict]] = (),
) -> Record:
    """Open a release in the ledger and say so. `preflight_log`: what the preflight found
    and overrode, already in the event stream, written to this release's ledger."""
    ports = ctx.ports
    record = Record.open(
        ports.ledger,
        ports.emitter,
        ports.clock,
        hold.fence,
        pipeline=ctx.policy.pipeline,
        kind=kind,
        version=version,
        actor=str(holder),
        reason=reason,
        snapshot=snapshot,
        parent=parent,
        gate_override=gate_override,
        commit=commit,
    )
    record.emit(ReleaseStarted(kind=kind.value, version=version, actor=str(holder), reason=reason))
    for name, fields in preflight_log:  # already in the event stream: ledger only
        record.log(name, fields)
    took = hold.lease.took_over
    if took is not None:
        record.emit(
            Notice(
                level="warning",
                message=f"took the lock over from {took.holder}: {hold.lease.takeover_reason}",
            )
        )
    return record


def resume_record(
    ctx: ReleaseContext, hold: Hold, resumed: Release, version: Version, holder: Holder
) -> Record:
    """Take up the record of a release that stopped open, and say so."""
    record = Record(ctx.ports.ledger, ctx.ports.emitter, ctx.ports.clock, hold.fence, resumed)
    record.emit(
        ReleaseStarted(
            kind=resumed.kind.value,
            version=version,
            actor=str(holder),
            reason=resumed.reason,
            resumed=True,
        )
    )
    record.emit(
        Notice(
            level="info",
            message=f"resuming release {resumed.number} of {version} from phase {resumed.phase}",
        )
    )
    return record


def operation(
    ctx: ReleaseContext,
    hold: Hold,
    record: Record,
    version: Version,
    budget: float,
    abort: threading.Event,
    snapshot: Snapshot | None = None,
    *,
    to: Snapshot | None = None,
    commit: str | None = None,
    limit_key: str = "",
    written_ahead: Sequence[str] = (),
) -> ReleaseOperation:
    """The Operation an adapter gets for one deploy, rollback or migration; its first
    write-ahead marks the context changed. `written_ahead`: targets whose intent is
    already in the ledger (see `intend_rollback`)."""

    def write_ahead(target: Target, action: str, detail: JSONDict) -> None:
        ctx.changed = True
        record.write_ahead(target, action, detail)

    def acting() -> None:
        ctx.changed = True
        record.mark_changed()  # nothing to write when the intents said so already

    return ReleaseOperation(
        release=record.number,
        pipeline=ctx.policy.pipeline,
        version=version,
        clock=ctx.ports.clock,
        budget_seconds=budget,
        stop=ctx.stop,
        abort=abort,
        write_ahead=write_ahead,
        fence=hold.fence,
        emit=record.emit,
        from_versions={t.target.key: t.version for t in snapshot.targets} if snapshot else {},
        to_versions={t.target.key: t.version for t in to.targets} if to else None,
        commit=commit,
        limit_key=limit_key,
        written_ahead=written_ahead,
        acting=acting,
    )


ROLL_BACK = "roll back"  # the intent written for every target of a rollback


def intend_rollback(
    ctx: ReleaseContext, record: Record, states: Sequence[TargetState], now: Snapshot | None
) -> list[str]:
    """Write ahead, in one ledger write behind one fence check, the rollback of every
    target in `states` (both sides') that `now` does not show back there already (all of
    them when `now` is unknown). Returns their keys: the adapter's first `intend` for
    each then has nothing left to write, so every target's first call goes out at once.
    One write for both sides: two, one per side, made the second side wait for the first
    (a save of the whole release each, 5 ms at 83 targets).
    Nothing is written once the command is stopping: the adapter's `intend` says why."""
    if ctx.stop.is_set():
        return []
    going = [
        s
        for s in states
        if now is None or (current := now.get(s.target)) is None or not current.runs_same_code(s)
    ]
    record.write_intents(
        [(s.target, ROLL_BACK, {"to_version": s.version, "to": s.identity}) for s in going]
    )
    if going:
        ctx.changed = True
    return [s.target.key for s in going]


DEPLOY = "deploy"  # the intent written for every target of a code release


def intend_deploy(
    ctx: ReleaseContext, record: Record, targets: Sequence[Target], version: Version
) -> list[str]:
    """Write ahead, in one ledger write behind one fence check, the deploy of `version`
    to every target of both sides; returns their keys (see `intend_rollback`). Written one by
    one, 75 workloads' intents (each a save of the whole release) held the ledger for
    most of a second at the start of the code phase, and the Heroku builds waited
    behind them. The release is marked changed only when the adapter is about to change
    a target (`acting`): a side that changes nothing leaves "nothing had been changed"
    true."""
    if ctx.stop.is_set() or not targets:
        return []
    record.write_intents([(t, DEPLOY, {"version": version}) for t in targets], changed=False)
    return [t.key for t in targets]


def bake_checks(
    ctx: ReleaseContext,
    record: Record,
    checks: Sequence[Check],
    seconds: float,
    version: Version,
    *,
    rounds: int | None = None,
) -> BakeResult:
    """Measure `checks` for `seconds` (or `rounds`), cut short by the stop flag."""
    stop, clock = ctx.stop, ctx.ports.clock
    return bake(
        checks,
        ctx.policy.verify,
        version=version,
        seconds=seconds,
        clock=clock,
        emit=record.emit,
        cancelled=stop.is_set,
        pause=lambda seconds: pause(clock, seconds, stop.is_set),
        rounds=rounds,
    )


def pinned_checks(
    ctx: ReleaseContext, record: Record, snapshot: Snapshot, *, health_only: bool = False
) -> list[Check]:
    """The checks, measured against what `snapshot` runs (old code, or restored code).

    Each side's health expects exactly the snapshot's states, by identity. A
    configured check is measured with the label the side's targets share; one that
    needs a label (`{version}` in its URL or query) is left out, with a notice, when
    the label is unknown or mixed: an unknown label is never by itself a failure."""
    checks: list[Check] = [
        PlatformHealthCheck(platform, snapshot.side(side))
        for side, platform in ctx.ports.platforms.items()
    ]
    if health_only:
        return checks
    for check in ctx.ports.checks:
        label = common_version(snapshot.side(check.side))
        if label is None and check.uses_version:
            record.emit(
                Notice(
                    level="warning",
                    message=f"check {check.name} not measured: it needs the version's "
                    f"label and the {check.side.value} side's running label is unknown",
                )
            )
            continue
        checks.append(Pinned(check, label))
    return checks


def restore(
    ctx: ReleaseContext,
    hold: Hold,
    record: Record,
    snapshot: Snapshot,
    now: Snapshot | None = None,
) -> tuple[list[str], list[str], Snapshot]:
    """Both sides back to `snapshot`, concurrently, with the rollback's own budget
    (never what the deploy left over). Every target's intent is written in one go
    (`intend_rollback`; `now`, when known, is what runs), then each side hands its adapter
    every target at once. Returns (restored, not restored, running)."""
    abort = threading.Event()  # one side's failure never stops the other's rollback
    # both sides' intents in one write, before either side's first call
    sides = list(ctx.ports.platforms)
    written = intend_rollback(ctx, record, [s for side in sides for s in snapshot.side(side)], now)

    def act(platform: Platform) -> Sequence[TargetResult]:
        states = snapshot.side(platform.side)
        label = common_version(states) or Version("")  # for people only; may be unknown
        op = operation(
            ctx,
            hold,
            record,
            label,
            ctx.policy.rollback_timeout_seconds,
            abort,
            None,
            to=snapshot,
            limit_key="rollback.timeout",
            written_ahead=written,
        )
        return platform.roll_back(states, op)

    outcomes = on_each_side(
        ctx.ports.platforms, act, emit=record.emit, on_failure=lambda: None, rollback=True
    )
    restored = [r.target.key for o in outcomes for r in o.results if r.ok]
    missing = [f for o in outcomes for f in o.failures()]
    if ctx.stop.is_set():
        hold.fence()
    # Every target back and saying what it runs (the platform's identities, as a read
    # would): that is what runs, and the verify round that follows reads each side's
    # health by those identities. Anything less, and what runs is read again.
    reached = [r.state for o in outcomes for r in o.results if r.ok and r.state]
    known = None if missing else all_reached(snapshot, reached, ctx.ports.clock.now())
    try:
        running = known or ctx.snapshot()
        missing += divergent(snapshot, running, missing)
    except ShipError as exc:
        missing.append(f"could not read what runs now: {exc}")
        running = snapshot
    record.emit(
        RollbackFinished(
            verdict=Verdict.FAILED if missing else Verdict.SUCCEEDED,
            restored=restored,
            not_restored=missing,
        )
    )
    return restored, missing, running


def manual_steps(
    platforms: Mapping[Side, Platform], snapshot: Snapshot, missing: list[str]
) -> list[str]:
    """What an operator runs by hand for each target a restore left behind."""
    steps = []
    for state in snapshot.targets:
        if any(state.target.key in f for f in missing):
            platform = platforms.get(state.target.side)
            if platform is not None:
                steps.append(platform.manual_steps(state))
    return steps


def rollback_failed(why: str, missing: list[str], running: Snapshot, steps: list[str]) -> str:
    """The one line of a rollback that left targets behind: what runs, what to do."""
    where = "; ".join(f"{t.target} runs {t.version}" for t in running.targets)
    by_hand = " && ".join(steps) if steps else "see `ship status`"
    return (
        f"{why}; ROLLBACK FAILED for {'; '.join(missing)}. Now: {where}. "
        f"Run `ship rollback` again, or by hand: {by_hand}"
    )


def stopped(ctx: ReleaseContext, hold: Hold, record: Record | None, exc: ShipError) -> Outcome:
    """SIGINT/SIGTERM or a lost lock: stop, record where, let the lock go."""
    lost = hold.lost
    message = str(lost or exc)
    if record is None:
        return Outcome(ExitCode.BLOCKED if lost else exc.exit_code, message)
    where = f"release {record.number} stopped in phase {record.release.phase}"
    if lost is not None:
        ctx.ports.emitter.emit(Notice(level="error", message=message))
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
        ctx.ports.emitter.emit(Notice(level="warning", message=text))
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
    `pinned_checks`), so it is measured with an empty one."""

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


def finish_command(release: Release) -> str:
    """The command that finishes an open release."""
    if release.kind is ReleaseKind.MIGRATION:
        return f"migrate {release.version}"
    return f"deploy {release.version}"


def plan_event(plan: Plan) -> PlanMade:
    """The event that shows a plan (`--dry-run`, and the first thing a deploy says)."""
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
