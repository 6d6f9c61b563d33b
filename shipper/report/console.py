"""The console: a live view on a terminal, plain lines everywhere else.

On a terminal a person watches one row per target update in place under a header, with
the log scrolling above it (krane's watch, Argo Rollouts' status view). Anywhere else,
CI logs and pipes, redrawing would leave control sequences and spinner frames in the
log, so the same facts are written as plain lines, one per event that matters. Both end
with the summary panel; the one-line result after it is the CLI's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO, assert_never

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from shipper.core.events import CheckMeasured, PhaseStarted, Stamped, TargetProgress
from shipper.core.model import Side
from shipper.report import fmt
from shipper.report.lines import Level, Line, describe
from shipper.report.summary import summary_panel
from shipper.report.view import BAKES, SIDES, ReleaseView, Row

if TYPE_CHECKING:
    from rich.live import Live

LEVEL_STYLE: dict[Level, str] = {
    "info": "",
    "progress": "dim",
    "log": "dim",
    "good": "green",
    "warning": "yellow",
    "error": "bold red",
}


def side_style(side: str) -> str:
    """The colour a side's name is written in; a side this doesn't know is a type error."""
    if side not in SIDES:
        return ""
    match Side(side):
        case Side.HEROKU:
            return "magenta"
        case Side.KUBERNETES:
            return "blue"
        case unknown:
            assert_never(unknown)


PLAIN_WIDTH = 100


def make_console(out: TextIO, *, is_tty: bool, no_color: bool, width: int | None = None) -> Console:
    """A rich console on `out` that styles only when a person is watching a terminal."""
    return Console(
        file=out,
        force_terminal=is_tty,
        no_color=no_color or not is_tty,
        color_system="auto" if is_tty and not no_color else None,
        width=width if width is not None else (None if is_tty else PLAIN_WIDTH),
        highlight=False,
        emoji=False,
        soft_wrap=not is_tty,
    )


class PlainConsoleSink:
    """Line-by-line text for logs and pipes: no colour, no redraws, one line per change.

    A five-minute bake measures every check every few seconds; a line per passing
    measurement would bury the one that matters. So a check gets a line when it is first
    measured, when its status changes and whenever it does not pass, and the tallies per
    side get one line a minute.
    """

    def __init__(self, console: Console, *, tally_every: float = 60.0) -> None:
        self._console = console
        self._tally_every = tally_every
        self.view = ReleaseView()
        self._guard = threading.Lock()
        self._seen: dict[str, tuple[str, str]] = {}  # target -> last status printed
        self._checks: dict[str, str] = {}  # check -> last status
        self._tallied: datetime | None = None

    def emit(self, event: Stamped) -> None:
        with self._guard:
            self.view.apply(event)
            if isinstance(event.event, PhaseStarted) and event.event.phase in BAKES:
                self._checks.clear()
                self._tallied = event.time
            line = describe(event, self.view)
            if line is None or self._repeats(event):
                return
            if isinstance(event.event, CheckMeasured) and self._routine(event.event):
                self._maybe_tally(event)
                return
            self._print(event, line.text, line.level)

    def _print(self, event: Stamped, text: str, level: Level) -> None:
        prefix = f"[{_clock(self.view, event)}] "
        self._console.print(Text(prefix + text, style=LEVEL_STYLE[level]), markup=False, crop=False)

    def _routine(self, event: CheckMeasured) -> bool:
        """A passing measurement of a check that passed last time too."""
        before = self._checks.get(event.check)
        self._checks[event.check] = event.status
        return event.status == "successful" and before == "successful"

    def _maybe_tally(self, event: Stamped) -> None:
        if self._tallied is not None and (event.time - self._tallied).total_seconds() < (
            self._tally_every
        ):
            return
        self._tallied = event.time
        line = _check_line(self.view)
        if line is not None:
            self._print(event, line.plain, "progress")

    def close(self) -> None:
        with self._guard:
            if self.view.has_release:
                self._console.print(summary_panel(self.view), soft_wrap=False)
            self._console.file.flush()

    def _repeats(self, event: Stamped) -> bool:
        """A target that reports the same status twice gets one line, not a log per poll."""
        if not isinstance(event.event, TargetProgress):
            return False
        now = (event.event.status, event.event.message)
        if self._seen.get(event.event.target) == now:
            return True
        self._seen[event.event.target] = now
        return False


class LiveConsoleSink:
    """The terminal view: a table redrawn in place, with log lines scrolling above it."""

    def __init__(
        self, console: Console, *, now: Callable[[], datetime] | None = None, fps: float = 4.0
    ) -> None:
        self._console = console
        self._now = now or (lambda: datetime.now(UTC))
        self._fps = fps
        self.view = ReleaseView()
        # Never held while calling into rich: the live refresh thread takes rich's lock
        # and then asks us for the renderable, so holding both in the other order deadlocks.
        self._guard = threading.Lock()
        self._live: Live | None = None

    def emit(self, event: Stamped) -> None:
        with self._guard:
            self.view.apply(event)
            line = describe(event, self.view)
        self._start()
        if line is not None and line.level != "progress":
            self._console.print(_styled(line), markup=False)
        else:
            self._refresh()

    def close(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()
        with self._guard:
            started = self.view.has_release
        if started:
            self._console.print(summary_panel(self.view), soft_wrap=False)

    def _start(self) -> None:
        if self._live is not None:
            return
        from rich.live import Live  # only a terminal run pays for it

        self._live = Live(
            console=self._console,
            get_renderable=self._render,
            refresh_per_second=self._fps,
            transient=True,
            # Anything else written meanwhile (a warning on stderr) scrolls above the view
            # instead of tearing through it.
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._live.start()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def _render(self) -> RenderableType:
        with self._guard:
            return live_view(self.view, self._now())


def live_view(view: ReleaseView, now: datetime) -> RenderableType:
    """The live area: a header, one row per target, and the check tallies of the bake."""
    header = Text()
    header.append(f"ship {view.pipeline}", style="bold")
    if view.release is not None:
        header.append(f" · release #{view.release}")
    if view.version:
        header.append(f" · {view.kind} {view.version}".rstrip())
    if view.phase:
        header.append(" · ")
        header.append(view.phase, style="bold cyan")
        if view.phase != "done":
            header.append(f" {view.wait_words(now)}")
    header.append(f" · {fmt.duration(view.elapsed(now))} total", style="dim")
    parts: list[RenderableType] = [header]
    if view.rows:
        parts.append(_table(view, now))
    checks = _check_line(view)
    if checks is not None:
        parts.append(checks)
    return Group(*parts)


def _table(view: ReleaseView, now: datetime) -> Table:
    rows = sorted(
        view.rows.values(),
        key=lambda r: (SIDES.index(r.side) if r.side in SIDES else 9, r.name),
    )
    cells = [
        (
            Text(row.side, style=side_style(row.side)),
            row.name,
            fmt.change(row.from_version, row.to_version),
            Text(_status(row), style=_status_style(row)),
            _elapsed(row, now),
            fmt.clip(row.message, 200),
        )
        for row in rows
    ]
    # The message is the column that gives way on a narrow terminal; the facts keep
    # their full width (up to a cap, so one long name cannot push everything out).
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True)
    for index, (name, cap) in enumerate(
        (("side", 10), ("target", 32), ("version", 28), ("status", 24), ("elapsed", 7))
    ):
        longest = max([len(name)] + [len(str(c[index])) for c in cells])
        table.add_column(
            name,
            no_wrap=True,
            min_width=min(longest, cap),
            justify="right" if name == "elapsed" else "left",
        )
    table.add_column("message", no_wrap=True, overflow="ellipsis", ratio=1)
    for cell in cells:
        table.add_row(*cell)
    return table


def _status(row: Row) -> str:
    return f"↩ {row.status}" if row.rollback else row.status


def _status_style(row: Row) -> str:
    if row.verdict == "succeeded":
        return "green"
    if row.is_failed:
        return "bold red"
    if row.verdict is None and row.started is None:
        return "dim"
    return "yellow"


def _elapsed(row: Row, now: datetime) -> str:
    if row.started is None:
        return ""
    end = row.finished or now
    return fmt.duration(max(0.0, (end - row.started).total_seconds()))


def _check_line(view: ReleaseView) -> Text | None:
    if not view.checks:
        return None
    line = Text("checks ", style="bold")
    first = True
    for side in SIDES:
        if not any(t.side == side for t in view.checks.values()):
            continue
        ok, bad, unsure = view.tally(side)
        if not first:
            line.append(" · ")
        first = False
        line.append(f"{side} ", style=side_style(side))
        line.append(f"{ok} passed", style="green")
        line.append(", ")
        line.append(f"{bad} failed", style="red" if bad else "")
        if unsure:
            line.append(f", {unsure} inconclusive", style="yellow")
    return line


def _styled(line: Line) -> Text:
    return Text(line.text, style=LEVEL_STYLE[line.level])


def _clock(view: ReleaseView, event: Stamped) -> str:
    """Minutes:seconds since the release started: readable in any timezone, and stable."""
    if view.started is None:
        return "00:00"
    seconds = max(0, int((event.time - view.started).total_seconds()))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
