"""The preflight's findings: a table for people, `preflight_finding` JSON lines for CI."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TextIO

from shipper.core.events import Notice, PreflightFinding, Stamped
from shipper.core.model import Finding, Severity
from shipper.core.preflight import PreflightResult
from shipper.report.output import OutputMode

_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


def _event(f: Finding) -> PreflightFinding:
    return PreflightFinding(
        target=f.target.key if f.target else None,
        check=f.check,
        severity=f.severity.value,
        message=f.message,
        table=[list(row) for row in f.table],
    )


def _grid(rows: tuple[tuple[str, ...], ...], indent: str) -> list[str]:
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(widths[i]) if i < len(row) - 1 else c for i, c in enumerate(row)]
        cells = [c.rjust(widths[i]) if i == len(row) - 1 else c for i, c in enumerate(cells)]
        lines.append(indent + "  ".join(cells).rstrip())
        if n == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return lines


def render_preflight(
    pipeline: str, result: PreflightResult, out: TextIO, mode: OutputMode, now: datetime
) -> None:
    if mode == "json":
        for note in result.notes:
            stamped = Stamped(now, pipeline, None, Notice(level="warning", message=note))
            out.write(json.dumps(stamped.to_json()) + "\n")
        for f in result.findings:
            out.write(json.dumps(Stamped(now, pipeline, None, _event(f)).to_json()) + "\n")
        return
    for note in result.notes:
        out.write(f"note: {note}\n")
    findings = sorted(result.findings, key=lambda f: _ORDER[f.severity])
    if not findings:
        out.write(f"preflight of {pipeline}: nothing found\n")
        return
    head = ("severity", "check", "target", "finding")
    rows = [head] + [
        (f.severity.value.upper(), f.check, str(f.target) if f.target else "-", f.message)
        for f in findings
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for n, row in enumerate(rows):
        out.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:3])) + "  " + row[3])
        out.write("\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "  " + "-" * 7 + "\n")
            continue
        f = findings[n - 1]
        if f.table:
            out.write("\n".join(_grid(f.table, "    ")) + "\n")
    blocks = len(result.blocks)
    warns = sum(1 for f in findings if f.severity is Severity.WARN)
    verdict = "would refuse the release (exit 3)" if blocks else "would let the release go on"
    out.write(f"preflight of {pipeline}: {blocks} block, {warns} warn: {verdict}\n")
