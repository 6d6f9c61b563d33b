"""Wiring for the CLI: which sinks a run gets, and the one-shot renderers.

Importing this module is cheap (`ship --help` may import it): each sink's module, and
with it rich's live display or httpx, is imported only when that sink is built.

Which sinks:
- `human` mode: the console on stdout (live on a terminal, plain lines otherwise).
- `json` mode: JSON lines on stdout, and the console on stderr (always plain lines
  there unless stderr is a terminal).
- GitHub Actions (`GITHUB_ACTIONS=true`): workflow commands (groups, annotations) on the
  console's stream, and the step summary file; in both modes.
- Slack: when the pipeline has `notify.slack`, whatever the mode.

`ship status` builds a `shipper.report.status.StatusView` (import it where it is built).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from shipper.report.confirm import confirm
from shipper.report.output import OutputMode

if TYPE_CHECKING:
    from shipper.core.events import PlanMade, Stamped
    from shipper.core.model import LedgerEntry, Release
    from shipper.core.plan import Plan
    from shipper.pipeline import Pipeline
    from shipper.ports import EventSink
    from shipper.report.status import StatusView

__all__ = [
    "OutputMode",
    "build_sinks",
    "confirm",
    "human_stream",
    "render_history",
    "render_plan",
    "render_release",
    "render_status",
]


def human_stream(mode: OutputMode, *, stdout: TextIO, stderr: TextIO) -> TextIO:
    """Where text for people goes: stdout, except with `--output json` (stderr)."""
    return stderr if mode == "json" else stdout


def build_sinks(
    mode: OutputMode,
    *,
    pipeline: Pipeline,
    env: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    is_tty: bool,
    warn: Callable[[str], None] | None = None,
    redact: Callable[[str], str] | None = None,
) -> list[EventSink]:
    """The sinks of one deploy, migrate or rollback, in the order they must see events.

    `is_tty` says whether the human stream (`human_stream(mode, ...)`) is a terminal: the
    CLI passes `human_stream(...).isatty()`. `warn` receives one-line warnings (a Slack
    message that could not be sent); by default they go to stderr as `ship: warning: ...`.
    `redact` (the CLI's secret scrubber) cleans everything every sink writes or sends.
    """
    from shipper.report.console import LiveConsoleSink, PlainConsoleSink, make_console
    from shipper.report.redacting import redacting

    stdout, stderr = redacting(stdout, redact), redacting(stderr, redact)
    human = human_stream(mode, stdout=stdout, stderr=stderr)
    no_color = env.get("NO_COLOR", "") != ""
    live = is_tty and env.get("TERM") != "dumb"
    say = warn or _warner(stderr)
    sinks: list[EventSink] = []
    on_github = env.get("GITHUB_ACTIONS") == "true"
    if on_github:
        from shipper.report.github import GitHubSink

        summary = env.get("GITHUB_STEP_SUMMARY") or None
        # Before the console: a group must open before the phase's first line is written.
        sinks.append(GitHubSink(human, summary_path=summary, warn=say, redact=redact))
    if mode == "json":
        from shipper.report.jsonl import JsonLinesSink

        sinks.append(JsonLinesSink(stdout))
    console = make_console(human, is_tty=live, no_color=no_color)
    sinks.append(LiveConsoleSink(console) if live else PlainConsoleSink(console))
    slack = pipeline.notify.slack
    if slack is not None:
        from shipper.report.slack import SlackSink

        sinks.append(SlackSink.from_env(slack.webhook_url_env, env, warn=say, redact=redact))
    return sinks


def _warner(stderr: TextIO) -> Callable[[str], None]:
    def warn(message: str) -> None:
        stderr.write(f"ship: warning: {message}\n")
        stderr.flush()

    return warn


# The renderers live in their own modules (they import rich); these typed wrappers keep
# this module light for `ship --help`.


def render_plan(
    plan: Plan | PlanMade | Stamped,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    pipeline: Pipeline | str,
    release: int | None = None,
    time: datetime | None = None,
    is_tty: bool | None = None,
) -> None:
    """The dry-run plan; see `shipper.report.plan.render_plan`."""
    from shipper.report.plan import render_plan as render

    render(plan, out, output, pipeline=pipeline, release=release, time=time, is_tty=is_tty)


def render_status(
    view: StatusView,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
) -> None:
    """`ship status`; see `shipper.report.status.render_status`."""
    from shipper.report.status import render_status as render

    render(view, out, output, is_tty=is_tty)


def render_history(
    releases: Sequence[Release],
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
    detail: bool = False,
) -> None:
    """`ship history`; see `shipper.report.history.render_history`."""
    from shipper.report.history import render_history as render

    render(releases, out, output, is_tty=is_tty, detail=detail)


def render_release(
    release: Release,
    entries: Sequence[LedgerEntry],
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
    detail: bool = False,
) -> None:
    """`ship history N`; see `shipper.report.history.render_release`."""
    from shipper.report.history import render_release as render

    render(release, entries, out, output, is_tty=is_tty, detail=detail)
