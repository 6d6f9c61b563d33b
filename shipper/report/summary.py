"""The closing summary of a release: what runs where now, how long each phase took,
what failed and why, and how the rollback went.

Printed before the one-line result, as krane prints its deferred summary: at 3 a.m. the
last screen of output must answer "is production all right, and on what version" without
scrolling back.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shipper.report import fmt
from shipper.report.view import ReleaseView

OUTCOME_STYLE = {True: "green", False: "red", None: "yellow"}
FACT_STYLE = {
    "failed": "red",
    "check": "red",
    "blocked": "red",
    "error": "red",
    "override": "yellow",
}


def facts(view: ReleaseView) -> list[tuple[str, str]]:
    """The summary's sentences as (label, text), shared with the GitHub summary."""
    out: list[tuple[str, str]] = []
    for earlier in view.earlier:
        number = f"release #{earlier.release} " if earlier.release is not None else ""
        what = f"{number}{earlier.version} {earlier.outcome}"
        out.append((earlier.kind, f"{what}: {earlier.message}" if earlier.message else what))
    if view.finished is not None and view.finished.message:
        out.append(("result", view.finished.message))
    elif view.finished is None:
        out.append(("result", "the release did not finish; `ship status` shows where it stopped"))
    if view.blocked is not None:
        out.append(
            ("blocked", f"platform status before {view.blocked.phase}: {view.blocked.reason}")
        )
    said = view.finished.message if view.finished is not None else ""
    for target in view.failed_targets:
        if target.message and target.message in said:
            continue  # the result already says what failed, in the same words: once is enough
        name = target.target.partition(":")[2] or target.target
        verdict = target.verdict.replace("_", " ")
        if target.message and name in target.message:
            out.append(("failed", target.message))  # the adapter already names the target
        else:
            why = f": {target.message}" if target.message else ""
            out.append(("failed", f"{target.target} {verdict}{why}"))
    for check in view.failed_checks:
        last = f"; last: {', '.join(check.last)}" if check.last else ""
        if check.reason in said:  # the result names the check and why: add only the rest
            out.append(("check", f"{check.check}: passing means {check.threshold}{last}"))
            continue
        out.append(
            (
                "check",
                f"{check.check} failed on {check.side}: {check.reason} "
                f"(passing means {check.threshold}{last})",
            )
        )
    if view.rollback is not None:
        rb = view.rollback
        total = len(rb.restored) + len(rb.not_restored)
        if rb.verdict == "succeeded":
            out.append(("rollback", f"succeeded: {len(rb.restored)} of {total} targets restored"))
        else:
            missing = ", ".join(rb.not_restored) or "unknown"
            out.append(("rollback", f"{rb.verdict.replace('_', ' ')}: not restored: {missing}"))
    elif view.rollback_reason is not None:
        out.append(("rollback", f"started ({view.rollback_reason}) and did not finish"))
    for text in view.errors:
        if not (view.finished is not None and text == view.finished.message):
            out.append(("error", text))
    for text in view.overrides:
        out.append(("override", text))
    for text in view.warnings:
        out.append(("warning", text))
    return out


def phase_line(view: ReleaseView) -> str:
    """`gate 1s · release 1m22s · verify 5m00s · total 6m24s`."""
    parts = [f"{span.phase} {fmt.duration(span.seconds)}" for span in view.phases]
    if view.finished is not None and view.last_time is not None:
        parts.append(f"total {fmt.duration(view.elapsed(view.last_time))}")
    return " · ".join(parts)


def title(view: ReleaseView) -> str:
    number = f"release #{view.release} · " if view.release is not None else ""
    what = f"{view.kind} {view.version}".strip()
    return f"{number}{view.pipeline} · {what} · {view.outcome}"


def summary_panel(view: ReleaseView) -> RenderableType:
    """The summary as one rich panel: facts, what runs where now, phase durations."""
    facts_grid = _grid()
    for label, text in facts(view):
        facts_grid.add_row(label, Text(text, style=FACT_STYLE.get(label, "")))
    parts: list[RenderableType] = [facts_grid]
    running = view.running_now()
    if running:
        usual = majority(running)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
        table.add_column("side")
        table.add_column("target")
        table.add_column("runs now")
        for key, version in sorted(running.items()):
            side, _, name = key.partition(":")
            shown = Text(fmt.version(version))
            if version is None or version != usual:
                shown.append(" (differs)" if version is not None else " (unknown)")
                shown.stylize("bold yellow")
            table.add_row(side, name, shown)
        parts.append(table)
    phases = phase_line(view)
    if phases:
        phase_grid = _grid()
        phase_grid.add_row("phases", phases)
        parts.append(phase_grid)
    return Panel(
        Group(*parts), title=title(view), title_align="left", border_style=OUTCOME_STYLE[view.ok]
    )


def majority(running: dict[str, str | None]) -> str | None:
    """The version most targets run (ties: the first in sorted order): the others differ."""
    counts: dict[str | None, int] = {}
    for _, version in sorted(running.items()):
        counts[version] = counts.get(version, 0) + 1
    return max(counts, key=lambda v: counts[v]) if counts else None


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True, min_width=9)
    grid.add_column()
    return grid
