"""The preflight phase: every side's own preflight and the configured checks, read
concurrently, judged with the pipeline's severities. Read-only; no I/O of its own.

The pipeline may set a check's severity (`block`, `warn`, `info`) or turn it off with a
reason; either override is said once as a note, which the event stream carries and the
release's ledger keeps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from shipper.core.config import CheckSetting
from shipper.core.model import Finding, Severity, Side, Version
from shipper.core.ports import Platform, PreflightCheck
from shipper.errors import ShipError


@dataclass(frozen=True)
class PreflightResult:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # overrides, said and recorded

    @property
    def blocks(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOCK]


def weigh(findings: Sequence[Finding], default: Severity, severity: Severity) -> list[Finding]:
    """The check's problems (its findings at its own severity) at `severity`; anything
    else it said (an INFO figure, never a problem; a WARN about what it had to assume)
    as it was."""
    return [
        replace(f, severity=severity)
        if f.severity is default and f.severity is not Severity.INFO
        else f
        for f in findings
    ]


def override_note(check: PreflightCheck, setting: CheckSetting | None) -> str:
    if setting is None:
        return ""
    why = f": {setting.reason}" if setting.reason else ""
    if setting.off:
        return f"preflight check {check.name} is turned off by the pipeline{why}"
    if setting.severity is not None and setting.severity is not check.severity:
        return (
            f"preflight check {check.name} is {setting.severity.value} "
            f"(not {check.severity.value}) by the pipeline{why}"
        )
    return ""


def _run_check(check: PreflightCheck, severity: Severity, version: Version) -> list[Finding]:
    try:
        found = list(check.run(version))
    except ShipError as exc:
        # What a check needs could not be read: a finding of its severity, not a crash
        # (a BLOCK check that can't tell fails closed, as the status gate does).
        found = [Finding(None, check.name, check.severity, f"could not run: {exc}")]
    return weigh(found, check.severity, severity)


def run_preflight(
    platforms: Mapping[Side, Platform],
    checks: Sequence[PreflightCheck],
    settings: Sequence[CheckSetting],
    version: Version,
) -> PreflightResult:
    """Every side's preflight and every check not turned off, concurrently; findings in a
    stable order (sides first, then the checks as configured)."""
    by_name = {s.name: s for s in settings}
    notes = [n for c in checks if (n := override_note(c, by_name.get(c.name)))]
    active = [c for c in checks if not (by_name.get(c.name) or CheckSetting(c.name)).off]
    sides = list(platforms.values())
    workers = max(1, len(sides) + len(active))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pre") as pool:
        side_found = [pool.submit(p.preflight, version) for p in sides]
        check_found = [
            pool.submit(
                _run_check,
                c,
                (by_name.get(c.name) or CheckSetting(c.name)).severity or c.severity,
                version,
            )
            for c in active
        ]
        findings = [f for fut in side_found for f in fut.result()]
        findings += [f for fut in check_found for f in fut.result()]
    return PreflightResult(findings, notes)
