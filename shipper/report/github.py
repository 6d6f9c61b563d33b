"""GitHub Actions: fold the log per phase, annotate failures and overrides, and leave a
Markdown summary of the release on the run's page.

Workflow commands are plain lines (`::group::`, `::error::`) that the runner reads from
both stdout and stderr, so they go to the same stream as the human text: folding only
works if a phase's lines fall between its `::group::` and `::endgroup::`. Lines from
elsewhere (a migration's output) cannot forge a command, because the console prefixes
every line with its time and commands must start a line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from shipper.core.events import (
    CheckFailed,
    GateBlocked,
    GateSkipped,
    LockTaken,
    Notice,
    PhaseStarted,
    ReleaseFinished,
    RollbackFinished,
    RollbackStarted,
    Stamped,
    TargetFinished,
)
from shipper.errors import ExitCode
from shipper.report import fmt
from shipper.report.lines import skip_text, takeover_text
from shipper.report.summary import facts, majority, phase_line
from shipper.report.view import ReleaseView

OUTCOME_ICON = {
    "shipped": "✅",
    "applied": "✅",
    "restored": "✅",
    "already running": "✅",
    "rolled back": "↩️",
    "blocked": "⛔",
    "rollback failed": "🚨",
    "failed": "❌",
    "interrupted": "⏸️",
    "running": "⏳",
}


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **props: str) -> str:
    """`::name key=value,...::message` as one line."""
    shown = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v)
    head = f"::{name} {shown}" if shown else f"::{name}"
    return f"{head}::{escape_data(message)}"


class GitHubSink:
    """Groups, annotations and the step summary of one release on GitHub Actions."""

    def __init__(
        self,
        out: TextIO,
        *,
        summary_path: str | None,
        warn: Callable[[str], None] | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._out = out
        self._redact = redact or (lambda text: text)
        self._summary_path = summary_path
        self._warn = warn or (lambda message: None)
        self.view = ReleaseView()
        self._group_open = False
        self._group = ""
        self._annotated: set[str] = set()
        self._guard = threading.Lock()

    def emit(self, event: Stamped) -> None:
        with self._guard:
            self.view.apply(event)
            for line in self._lines(event):
                self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        with self._guard:
            if self._group_open:
                self._out.write("::endgroup::\n")
                self._group_open = False
            self._out.flush()
            if self._summary_path and self.view.has_release:
                try:
                    with Path(self._summary_path).open("a", encoding="utf-8") as f:
                        f.write(self._redact(markdown_summary(self.view)))
                except OSError as exc:
                    self._warn(f"could not write the GitHub step summary: {exc.strerror}")

    def _lines(self, stamped: Stamped) -> list[str]:
        event = stamped.event
        title = f"ship {stamped.pipeline}"
        out: list[str] = []
        match event:
            case PhaseStarted():
                out += self._open_group(title, event.phase)
            case RollbackStarted():
                # The rollback's lines get their own fold, whether or not a phase says so.
                out += self._open_group(title, "rollback")
            case ReleaseFinished():
                if self._group_open:
                    out.append("::endgroup::")
                    self._group_open = False
                if event.exit_code != ExitCode.OK:
                    result = f"{title}: {self.view.outcome}"
                    out.append(command("error", event.message, title=result))
            case GateBlocked():
                out.append(command("error", event.reason, title=f"{title}: platform status"))
            case GateSkipped():
                out.append(command("warning", skip_text(event), title=f"{title}: override"))
            case LockTaken() if event.took_over_from:
                out.append(command("warning", takeover_text(event), title=f"{title}: override"))
            case CheckFailed():
                last = f"; last: {', '.join(event.last)}" if event.last else ""
                out.append(
                    command(
                        "error",
                        f"{event.reason} (passing means {event.threshold}{last})",
                        title=f"{title}: check {event.check} failed on {event.side}",
                    )
                )
            case TargetFinished() if event.verdict in ("failed", "timed_out"):
                what = "rollback of " if event.rollback else ""
                verdict = event.verdict.replace("_", " ")
                out.append(
                    command(
                        "error",
                        event.message or verdict,
                        title=f"{title}: {what}{event.target} {verdict}",
                    )
                )
            case RollbackFinished() if event.verdict != "succeeded":
                out.append(
                    command(
                        "error",
                        f"not restored: {', '.join(event.not_restored) or 'unknown'}",
                        title=f"{title}: rollback {event.verdict.replace('_', ' ')}",
                    )
                )
            case Notice() if event.level in ("warning", "error"):
                out.append(command(event.level, event.message, title=title))
            case _:
                pass
        return [line for line in out if self._first_time(line)]

    def _open_group(self, title: str, name: str) -> list[str]:
        if self._group_open and self._group == name:
            return []
        out = ["::endgroup::"] if self._group_open else []
        self._group_open, self._group = True, name
        return [*out, command("group", f"{title}: {name}")]

    def _first_time(self, line: str) -> bool:
        """Each annotation once: the gate is skipped before every phase, and the core
        announces some overrides both as a typed event and as a notice."""
        if not line.startswith(("::warning", "::error")):
            return True
        message = line.split("::", 2)[2]
        if message in self._annotated:
            return False
        self._annotated.add(message)
        return True


def markdown_summary(view: ReleaseView) -> str:
    """The release as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY`."""
    icon = OUTCOME_ICON.get(view.outcome, "")
    number = f" (release #{view.release})" if view.release is not None else ""
    what = f"{view.kind} {view.version}".strip()
    lines = [f"### {icon} ship {_md(view.pipeline)}: {_md(what)} {view.outcome}{number}", ""]
    lines += ["| | |", "| --- | --- |"]
    if view.actor:
        lines.append(f"| actor | {_md(view.actor)} |")
    if view.reason:
        lines.append(f"| reason | {_md(view.reason)} |")
    for label, text in facts(view):
        lines.append(f"| {label} | {_md(text)} |")
    phases = phase_line(view)
    if phases:
        lines.append(f"| phases | {_md(phases)} |")
    lines.append("")
    running = view.running_now()
    if running:
        usual = majority(running)
        lines += ["| side | target | before | now | result |", "| --- | --- | --- | --- | --- |"]
        for key, version in sorted(running.items()):
            row = view.rows.get(key)
            side, _, name = key.partition(":")
            before = fmt.version(view.before.get(key))
            now = fmt.version(version)
            if version is None or version != usual:
                now = f"**{now}** ⚠️"
            result = (row.status if row else "") or "-"
            lines.append(f"| {side} | `{_md(name)}` | {before} | {now} | {_md(result)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
