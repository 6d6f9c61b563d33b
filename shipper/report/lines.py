"""One line of human text per event: the log a person reads in CI or scrolling above
the live view.

`describe` is pure: it decides what is worth a line and how it reads; the sinks decide
where it goes. A line carries a level so a terminal can colour it and GitHub can turn
errors and warnings into annotations, while the text itself stays plain (it must read
the same in a CI log with no colour at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shipper.core.events import (
    CheckFailed,
    CheckMeasured,
    GateBlocked,
    GatePassed,
    GateSkipped,
    LockTaken,
    LockWaiting,
    MigrationLog,
    Notice,
    PhaseFinished,
    PhaseStarted,
    PlanMade,
    PreflightFinding,
    ReleaseStarted,
    RollbackFinished,
    RollbackStarted,
    SnapshotTaken,
    Stamped,
    TargetFinished,
    TargetProgress,
    TrafficMoved,
)
from shipper.core.operation import duration_words
from shipper.report import fmt
from shipper.report.view import BAKES, ReleaseView

# A phase's verdict in the core's words: these mean it went well.
PHASE_OK = ("succeeded", "passed", "taken")

Level = Literal["info", "progress", "log", "good", "warning", "error"]


@dataclass(frozen=True)
class Line:
    """A line of human text and how much it matters."""

    text: str
    level: Level = "info"


def describe(stamped: Stamped, view: ReleaseView) -> Line | None:
    """The line for this event, or None when it is not worth one.

    `view` is the release *after* this event was applied (for counts and versions).
    Progress and passing measurements are `progress` lines: a plain log prints them, a
    live view leaves them to its table.
    """
    event = stamped.event
    match event:
        case ReleaseStarted():
            by = f" by {event.actor}" if event.actor else ""
            why = f" ({event.reason})" if event.reason else ""
            number = f"release #{stamped.release}, " if stamped.release is not None else ""
            resumed = "resuming " if event.resumed else ""
            return Line(
                f"ship {stamped.pipeline}: {resumed}{number}{event.kind} {event.version}{by}{why}"
            )
        case LockTaken():
            if event.took_over_from:
                return Line(takeover_text(event), "warning")
            return Line(f"lock taken by {event.holder}")
        case LockWaiting():
            return Line(
                f"waiting up to {fmt.duration(event.wait_seconds)} for the lock held by "
                f"{event.holder} ({event.reason})",
                "warning",
            )
        case GatePassed():
            return Line(f"platform status before {event.phase}: {event.summary or 'green'}", "good")
        case GateBlocked():
            return Line(f"platform status blocks {event.phase}: {event.reason}", "error")
        case GateSkipped():
            return Line(
                f"platform status gate skipped before {event.phase}: {event.reason}", "warning"
            )
        case PhaseStarted():
            if event.limit_seconds is None:
                return Line(f"{event.phase}: started")
            limit = duration_words(event.limit_seconds)
            kind = "bake" if event.phase in BAKES else "deadline"
            key = f", {event.limit}" if event.limit else ""
            return Line(f"{event.phase}: started ({kind} {limit}{key})")
        case PhaseFinished():
            why = f": {event.message}" if event.message else ""
            level: Level = "good" if event.verdict in PHASE_OK else "error"
            verdict = event.verdict.replace("_", " ")
            return Line(f"{event.phase}: {verdict} in {fmt.duration(event.seconds)}{why}", level)
        case SnapshotTaken():
            versions = sorted({fmt.short_version(v) for v in event.targets.values()})
            return Line(f"snapshot: {len(event.targets)} targets run {', '.join(versions)}")
        case PlanMade():
            runs = "run first" if event.migrations else "do not run"
            why = f" ({event.migrations_why})" if event.migrations_why else ""
            return Line(
                f"plan: {event.version} on {len(event.targets)} targets; migrations {runs}{why}"
            )
        case TargetProgress():
            note = f"  {event.message}" if event.message else ""
            change = fmt.change(event.from_version, event.to_version)
            waited = view.wait_words(stamped.time) if _limited(view) else ""
            status = f"{event.status} {waited}" if waited else event.status
            return Line(f"{event.target}  {change}  {status}{note}", "progress")
        case TargetFinished():
            return _target_finished(event)
        case MigrationLog():
            return Line(f"  | {event.line}", "log")
        case CheckMeasured():
            ok, bad, unsure = view.tally(event.side)
            level = "progress" if event.status == "successful" else "warning"
            return Line(
                f"check {event.check} ({event.side}) {event.status}: {event.message or event.value}"
                f"  [{event.side}: {ok} passed, {bad} failed, {unsure} inconclusive]",
                level,
            )
        case CheckFailed():
            last = f"; last: {', '.join(event.last)}" if event.last else ""
            return Line(
                f"check {event.check} failed on {event.side}: {event.reason} "
                f"(passing means {event.threshold}{last})",
                "error",
            )
        case RollbackStarted():
            to = f" to {event.target}" if event.target else ""
            return Line(f"rolling back both sides{to}: {event.reason}", "warning")
        case RollbackFinished():
            if event.verdict == "succeeded":
                return Line(f"rollback succeeded: {len(event.restored)} targets restored", "good")
            missing = ", ".join(event.not_restored) or "unknown"
            return Line(
                f"rollback {event.verdict.replace('_', ' ')}: not restored: {missing}", "error"
            )
        case PreflightFinding():
            where = f"{event.target}: " if event.target else ""
            if event.severity == "block":
                return Line(f"preflight refused: {where}{event.message}", "error")
            if event.severity == "info":
                return Line(f"preflight: {where}{event.message}", "info")
            return Line(f"preflight warning: {where}{event.message}", "warning")
        case Notice():
            if event.level == "error":
                return Line(f"error: {event.message}", "error")
            if event.level == "warning":
                return Line(f"warning: {event.message}", "warning")
            return Line(event.message)
        case TrafficMoved():
            if not event.applied:
                said = f"{event.action} of {event.side} not applied: {event.message}"
                return Line(f"traffic: {said}", "warning")
            return Line(
                f"traffic: {event.message}", "warning" if event.action == "drain" else "good"
            )
        case _:
            # release_finished is the summary's job; lock_released and metrics are
            # bookkeeping the JSON stream carries.
            return None


def _limited(view: ReleaseView) -> bool:
    """Whether the running phase has a deadline worth repeating on a progress line."""
    span = view.phases[-1] if view.phases else None
    return span is not None and span.seconds is None and span.limit_seconds is not None


def takeover_text(event: LockTaken) -> str:
    """`took the lock over from alice@bastion: expired` (the core's own words for it)."""
    why = f": {event.takeover_reason}" if event.takeover_reason else ""
    return f"took the lock over from {event.took_over_from}{why}"


def skip_text(event: GateSkipped) -> str:
    """`status gate skipped: REASON`, once per release whatever the phases it covers."""
    return f"status gate skipped: {event.reason}"


def _target_finished(event: TargetFinished) -> Line:
    note = f": {event.message}" if event.message else ""
    if event.rollback:
        if event.verdict == "succeeded":
            return Line(f"{event.target}  restored {fmt.short_version(event.version)}", "good")
        what = event.verdict.replace("_", " ")
        return Line(f"{event.target}  rollback {what}{note}", "error")
    if event.verdict == "succeeded":
        return Line(f"{event.target}  runs {fmt.short_version(event.version)}", "good")
    return Line(f"{event.target}  {event.verdict.replace('_', ' ')}{note}", "error")
