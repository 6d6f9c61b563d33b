"""What a person needs to know about a release so far, folded from its event stream.

The console, the GitHub summary and the Slack message all show the same facts (which
target runs what, which phase took how long, which check failed and why, how the
rollback went), so they read them from one fold instead of each re-deriving them from
raw events. `ReleaseView.apply` is the only place that interprets the stream; it never
writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shipper.core.events import (
    CheckFailed,
    CheckMeasured,
    GateBlocked,
    GatePassed,
    GateSkipped,
    LockTaken,
    MigrationLog,
    Notice,
    PhaseFinished,
    PhaseStarted,
    PlanMade,
    ReleaseFinished,
    ReleaseStarted,
    RollbackFinished,
    RollbackStarted,
    SnapshotTaken,
    Stamped,
    TargetFinished,
    TargetProgress,
)
from shipper.core.model import Phase, Side
from shipper.core.operation import duration_words
from shipper.errors import ExitCode
from shipper.report import fmt

SIDES = tuple(side.value for side in Side)  # in the order tables show them

# How each final ledger state reads in a sentence: "v42 shipped", "v42 rolled back".
OUTCOME_WORDS = {
    "succeeded": "shipped",
    "rolled_back": "rolled back",
    "rollback_failed": "rollback failed",
    "blocked": "blocked",
    "failed": "failed",
    "interrupted": "interrupted",
    "unchanged": "already running",
    "superseded": "superseded",
    "running": "running",
}

MAX_LOG_LINES = 200
BAKES = (Phase.VERIFY, Phase.MIGRATION_BAKE)  # the phases that wait out a bake


def outcome_words(kind: str, state: str) -> str:
    """`shipped` for code, `applied` for migrations, `restored` for a rollback that worked."""
    if state == "succeeded":
        return {"migration": "applied", "rollback": "restored"}.get(kind, "shipped")
    return OUTCOME_WORDS.get(state, state.replace("_", " "))


@dataclass
class Row:
    """One target as the live view shows it."""

    key: str
    side: str
    name: str
    from_version: str | None = None
    to_version: str | None = None
    status: str = "waiting"
    message: str = ""
    verdict: str | None = None  # set when the target's deploy or rollback finished
    rollback: bool = False
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def is_failed(self) -> bool:
        return self.verdict in ("failed", "timed_out")


@dataclass
class PhaseSpan:
    """When a phase started and how it ended (None while it runs)."""

    phase: str
    started: datetime
    seconds: float | None = None
    verdict: str | None = None
    message: str = ""
    limit_seconds: float | None = None  # its deadline (a bake: its length)
    limit: str = ""  # the pipeline key that sets it


@dataclass
class Tally:
    """The latest counts of one check, as its last `check_result` gave them."""

    check: str
    side: str
    status: str
    value: str
    message: str
    successes: int
    failures: int
    inconclusives: int


@dataclass(frozen=True)
class Earlier:
    """A release that finished earlier in the same run (the migration release of a deploy)."""

    release: int | None
    kind: str
    version: str
    outcome: str
    message: str


@dataclass
class ReleaseView:
    """The release so far. Feed it every event in order with `apply`."""

    pipeline: str = ""
    release: int | None = None
    kind: str = ""
    version: str = ""
    actor: str = ""
    reason: str = ""
    started: datetime | None = None
    last_time: datetime | None = None
    phase: str = ""
    phases: list[PhaseSpan] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)
    before: dict[str, str | None] = field(default_factory=dict)  # the snapshot: target -> version
    log: list[str] = field(default_factory=list)
    checks: dict[str, Tally] = field(default_factory=dict)
    failed_checks: list[CheckFailed] = field(default_factory=list)
    failed_targets: list[TargetFinished] = field(default_factory=list)  # deploys, not rollbacks
    gate_summary: str = ""
    blocked: GateBlocked | None = None
    overrides: list[str] = field(default_factory=list)  # gate skips, lock takeovers
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # error notices: why the release ended
    migrations: bool | None = None
    migrations_why: str = ""
    rollback_reason: str | None = None
    rollback: RollbackFinished | None = None
    finished: ReleaseFinished | None = None
    earlier: list[Earlier] = field(default_factory=list)  # releases before this one, same run

    def apply(self, stamped: Stamped) -> None:
        """Fold one event into the view."""
        event = stamped.event
        if isinstance(event, ReleaseStarted) and self.finished is not None:
            self._next_release()
        self.pipeline = stamped.pipeline or self.pipeline
        self.release = stamped.release if stamped.release is not None else self.release
        self.last_time = stamped.time
        if self.started is None:
            self.started = stamped.time
        match event:
            case ReleaseStarted():
                self.kind, self.version = event.kind, event.version
                self.actor, self.reason = event.actor, event.reason
            case PhaseStarted():
                self.phase = event.phase
                self.phases.append(
                    PhaseSpan(
                        event.phase,
                        stamped.time,
                        limit_seconds=event.limit_seconds,
                        limit=event.limit,
                    )
                )
                if event.phase in BAKES:
                    self.checks.clear()  # each bake counts its own measurements
            case PhaseFinished():
                span = self._open_span(event.phase, stamped.time, event.seconds)
                span.seconds, span.verdict, span.message = (
                    event.seconds,
                    event.verdict,
                    event.message,
                )
            case PlanMade():
                self.migrations, self.migrations_why = event.migrations, event.migrations_why
                for item in event.targets:
                    row = self._row(str(item.get("target")), item.get("side"))
                    row.from_version = item.get("from") or row.from_version
                    row.to_version = item.get("to") or row.to_version
            case SnapshotTaken():
                for key, version in event.targets.items():
                    self.before[key] = version
                    row = self._row(key, None)
                    row.from_version = row.from_version or version
                    row.to_version = row.to_version or self.version or None
            case TargetProgress():
                row = self._row(event.target, event.side)
                if row.verdict is not None or row.started is None:
                    row.started, row.finished, row.verdict = stamped.time, None, None
                row.from_version = event.from_version
                row.to_version = event.to_version
                row.status, row.message = event.status, event.message
                row.rollback = self.rollback_reason is not None
                if not row.rollback:
                    self.before.setdefault(event.target, event.from_version)
            case TargetFinished():
                row = self._row(event.target, event.side)
                row.verdict, row.finished, row.rollback = (
                    event.verdict,
                    stamped.time,
                    event.rollback,
                )
                verdict = event.verdict.replace("_", " ")
                if event.rollback:
                    verdict = "restored" if event.verdict == "succeeded" else f"rollback {verdict}"
                row.status, row.message = verdict, event.message
                if row.started is None:
                    row.started = stamped.time
                if row.is_failed and not event.rollback:
                    self.failed_targets.append(event)
            case MigrationLog():
                self.log.append(event.line)
                del self.log[:-MAX_LOG_LINES]
            case CheckMeasured():
                self.checks[event.check] = Tally(
                    event.check,
                    event.side,
                    event.status,
                    event.value,
                    event.message,
                    event.successes,
                    event.failures,
                    event.inconclusives,
                )
            case CheckFailed():
                self.failed_checks.append(event)
            case GatePassed():
                self.gate_summary = event.summary
            case GateBlocked():
                self.blocked = event
            case GateSkipped():
                self._note(self.overrides, f"status gate skipped: {event.reason}")
            case LockTaken() if event.took_over_from:
                why = f": {event.takeover_reason}" if event.takeover_reason else ""
                self._note(self.overrides, f"took the lock over from {event.took_over_from}{why}")
            case Notice() if event.level == "warning":
                self._note(self.warnings, event.message)
            case Notice() if event.level == "error":
                self._note(self.errors, event.message)
            case RollbackStarted():
                self.rollback_reason = event.reason
            case RollbackFinished():
                self.rollback = event
            case ReleaseFinished():
                self.finished = event
                self.phase = "done"
            case _:
                pass

    # --- reading ------------------------------------------------------------------------

    @property
    def has_release(self) -> bool:
        """Whether a release started: a run refused before that has nothing to sum up."""
        return bool(self.kind) or self.finished is not None

    @property
    def outcome(self) -> str:
        """The release's result in words (`shipped`, `rolled back`, ...), or `running`."""
        if self.finished is None:
            return "running"
        return outcome_words(self.kind, self.finished.state)

    @property
    def ok(self) -> bool | None:
        """True when it shipped (or had nothing to do), False otherwise, None while running."""
        if self.finished is None:
            return None
        return self.finished.exit_code == ExitCode.OK

    def tally(self, side: str) -> tuple[int, int, int]:
        """Passed, failed and inconclusive measurements of the side's checks so far."""
        mine = [t for t in self.checks.values() if t.side == side]
        return (
            sum(t.successes for t in mine),
            sum(t.failures for t in mine),
            sum(t.inconclusives for t in mine),
        )

    def running_now(self) -> dict[str, str | None]:
        """Target key -> version it runs now, as best known (the end event wins)."""
        if self.finished is not None and self.finished.running:
            return dict(self.finished.running)
        out: dict[str, str | None] = {}
        for key, row in self.rows.items():
            if row.verdict == "succeeded":
                out[key] = row.to_version
            elif row.verdict is None and row.started is None:
                out[key] = row.from_version
            else:
                out[key] = None  # in flight or failed: unknown until it is read again
        return out

    def elapsed(self, now: datetime) -> float:
        """Seconds since the first event (the lock, the first of several releases)."""
        if self.started is None:
            return 0.0
        end = self.finished_at or now
        return max(0.0, (end - self.started).total_seconds())

    @property
    def finished_at(self) -> datetime | None:
        return self.last_time if self.finished is not None else None

    def phase_elapsed(self, now: datetime) -> float:
        span = self.phases[-1] if self.phases else None
        if span is None or span.seconds is not None:
            return 0.0
        return max(0.0, (now - span.started).total_seconds())

    def wait_words(self, now: datetime) -> str:
        """How long the running phase has waited, against its limit and the key that
        sets it: "bake 12s of 30s (verify.bake)", "40s (deadline 10m,
        kubernetes.rollout_timeout)"; just the time when the phase has no limit."""
        span = self.phases[-1] if self.phases else None
        waited = fmt.duration(self.phase_elapsed(now))
        if span is None or span.seconds is not None or span.limit_seconds is None:
            return waited
        limit = duration_words(span.limit_seconds)
        key = f" ({span.limit})" if span.limit else ""
        if span.phase in BAKES:
            return f"bake {waited} of {limit}{key}"
        key = f", {span.limit}" if span.limit else ""
        return f"{waited} (deadline {limit}{key})"

    # --- helpers ------------------------------------------------------------------------

    def _row(self, key: str, side: str | None) -> Row:
        row = self.rows.get(key)
        if row is None:
            prefix, sep, rest = key.partition(":")
            known = bool(sep) and prefix in SIDES
            row = Row(key, prefix, rest) if known else Row(key, side or "", key)
            self.rows[key] = row
        return row

    def _next_release(self) -> None:
        """One command can run several releases (the migration release, then the code
        release): keep what the finished one did, and start over on its outcome."""
        assert self.finished is not None
        self.earlier.append(
            Earlier(self.release, self.kind, self.version, self.outcome, self.finished.message)
        )
        self.finished = None
        self.rollback = None
        self.rollback_reason = None
        self.blocked = None

    def _note(self, where: list[str], text: str) -> None:
        """Keep each override or notice once: the gate is skipped before every phase, and
        the core announces some overrides both as a typed event and as a notice."""
        if text not in self.overrides and text not in self.warnings and text not in self.errors:
            where.append(text)

    def _open_span(self, phase: str, at: datetime, seconds: float) -> PhaseSpan:
        for span in reversed(self.phases):
            if span.phase == phase and span.seconds is None:
                return span
        # A phase_finished without its start (a resumed release): record it anyway.
        from datetime import timedelta

        span = PhaseSpan(phase, at - timedelta(seconds=seconds))
        self.phases.append(span)
        return span
