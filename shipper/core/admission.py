"""What a deploy passes before its first change: the preflight (every side's own and
the configured checks) and the status gate, whose reading can start early."""

from __future__ import annotations

from shipper.core import machine as m
from shipper.core.command_io import Outcome
from shipper.core.context import ReleaseContext
from shipper.core.events import GateBlocked, GatePassed, GateSkipped, Notice, PreflightFinding
from shipper.core.model import JSONDict, Phase, PhaseVerdict, Version
from shipper.core.ports import FRESH_SECONDS, GateReading
from shipper.core.preflight import PreflightResult, run_preflight
from shipper.core.reach import reach_checks
from shipper.core.read_ahead import ReadAhead
from shipper.core.record import Record
from shipper.errors import ExitCode


def start_preflight(ctx: ReleaseContext, version: Version) -> ReadAhead[PreflightResult]:
    """Start the preflight's reads now, for `preflight(..., early=)`: they need nothing
    the snapshot reads, so both take the time of the slower one instead of their sum."""
    ports = ctx.ports
    checks = [*ports.preflight_checks, *reach_checks(ports.checks)]
    return ReadAhead(
        lambda: run_preflight(ports.platforms, checks, ctx.policy.preflight, version),
        ports.clock,
    )


def preflight(
    ctx: ReleaseContext,
    version: Version,
    log: list[tuple[str, JSONDict]],
    early: ReadAhead[PreflightResult] | None = None,
) -> Outcome | None:
    """Every side's preflight and the configured checks, read concurrently, after the
    snapshot and before the first change anywhere. Every finding and every override
    of a check is emitted (and appended to `log`, for the ledger of the release that
    follows); any BLOCK finding ends the run with exit 3 and nothing changed (the outcome
    names the first). A verify check that cannot connect at all is such a finding
    (`core.reach`): it would fail every measurement and roll a healthy release back."""
    ports = ctx.ports
    result = early.take(FRESH_SECONDS) if early is not None else None
    if result is None:  # not started early, or too long ago: read now
        checks = [*ports.preflight_checks, *reach_checks(ports.checks)]
        result = run_preflight(ports.platforms, checks, ctx.policy.preflight, version)
    for note in result.notes:
        ports.emitter.emit(Notice(level="warning", message=note))
        log.append(("preflight_override", {"message": note}))
    for f in result.findings:
        event = PreflightFinding(
            target=f.target.key if f.target else None,
            check=f.check,
            severity=f.severity.value,
            message=f.message,
            table=[list(row) for row in f.table],
        )
        ports.emitter.emit(event)
        log.append((event.name, event.fields()))
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


class Gatekeeper:
    """The platform status gate of one command, read at most once per `soon`."""

    def __init__(self, ctx: ReleaseContext) -> None:
        self._ctx = ctx
        self._early: ReadAhead[GateReading] | None = None

    def soon(self, skip_reason: str) -> None:
        """Start reading the status gate now, for the next `read`: the caller reads
        the targets meanwhile, and both answers arrive in the time of one round trip."""
        gate = self._ctx.ports.gate
        if gate is not None and not skip_reason:
            self._early = ReadAhead(gate.read, self._ctx.ports.clock)

    def read(self, record: Record, phase: Phase, skip_reason: str) -> str:
        """ "" when the gate is open (or overridden, which is recorded), else why not."""
        gate = self._ctx.ports.gate
        if gate is None:
            return ""
        if skip_reason:
            record.emit(GateSkipped(phase=phase, reason=skip_reason))
            return ""
        early, self._early = self._early, None
        reading = (early.take(FRESH_SECONDS) if early else None) or gate.read()
        if reading.is_open:
            record.emit(GatePassed(phase=phase, summary=reading.summary))
            return ""
        record.emit(GateBlocked(phase=phase, reason=reading.summary))
        return reading.summary


def blocked(record: Record, why: str, what: str) -> Outcome:
    """End `record` as blocked by the status gate before `what`; nothing was changed."""
    record.leave(Phase.GATE, PhaseVerdict.BLOCKED, why)
    record.step(m.Block(), message=why)
    text = (
        f"blocked by the platform status before {what}: {why}; nothing was changed "
        "(--skip-status-gate --reason TEXT overrides)"
    )
    record.finish(ExitCode.BLOCKED, text, None)
    return Outcome(ExitCode.BLOCKED, text, record.release.state, record.number)
