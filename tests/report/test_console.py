"""The console: plain lines off a terminal, the live view and the summary on one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta

from rich.console import Console

from shipper.core.events import CheckMeasured, PhaseStarted, Stamped, TargetProgress
from shipper.report.console import LiveConsoleSink, PlainConsoleSink, live_view, make_console
from shipper.report.summary import summary_panel
from shipper.report.view import ReleaseView
from tests.report import streams
from tests.report.snapshot import matches, render

ANSI = re.compile(r"\x1b\[")


def _plain(stream: list[Stamped]) -> str:
    out = io.StringIO()
    sink = PlainConsoleSink(make_console(out, is_tty=False, no_color=False))
    for event in stream:
        sink.emit(event)
    sink.close()
    return out.getvalue()


def _view(stream: list[Stamped]) -> ReleaseView:
    view = ReleaseView()
    for event in stream:
        view.apply(event)
    return view


def _until(stream: list[Stamped], predicate: Callable[[Stamped], bool]) -> list[Stamped]:
    for i, event in enumerate(stream):
        if predicate(event):
            return stream[: i + 1]
    raise AssertionError("no such event")


def test_plain_output_has_no_control_sequences() -> None:
    """Off a terminal the console writes no colour codes and no cursor movement."""
    text = _plain(streams.rolled_back())
    assert not ANSI.search(text)
    assert "\r" not in text


def test_plain_output_is_one_line_per_event_in_order() -> None:
    """Off a terminal each event that matters is one timestamped line, in stream order."""
    lines = _plain(streams.rolled_back()).splitlines()
    wanted = [
        "[00:00] ship web: release #12, code v42 by octocat (github acme/web run 4242)",
        "[00:08] kubernetes:deployment/web  v41 -> v42  rolling out 0/3",
        "[02:17] check kube-errors failed on kubernetes: 3 failed measurements in a row (limit 2) "
        "(passing means value <= 0.01; last: 0.002, 0.031, 0.044)",
        "[02:19] rolling back both sides: check kube-errors failed on kubernetes",
        "[03:01] rollback succeeded: 4 targets restored",
    ]
    positions = [lines.index(w) for w in wanted]
    assert positions == sorted(positions)


def test_plain_output_prints_a_repeated_status_once() -> None:
    """A target polled with the same status twice yields one line, not one per poll."""
    stream = streams.success()[:1]
    event = TargetProgress(
        "kubernetes:deployment/web", "kubernetes", "v41", "v42", "rolling out 1/3"
    )
    stream += [Stamped(streams.T0 + timedelta(seconds=s), "web", 12, event) for s in (5, 10)]
    assert _plain(stream).count("rolling out 1/3") == 1


def test_plain_output_keeps_migration_log_lines() -> None:
    """Every migration log line reaches the plain log."""
    text = _plain(streams.success())
    assert "  | -- add_index(:orders, :created_at)" in text


def test_plain_output_ends_with_the_summary() -> None:
    """The summary panel is the last thing the console writes."""
    text = _plain(streams.rolled_back()).rstrip()
    assert text.splitlines()[-1].startswith("╰")
    assert "release #12 · web · code v42 · rolled back" in text


def test_summary_says_what_runs_where_after_a_failed_rollback() -> None:
    """After a failed rollback the summary names the failure and the target left behind."""
    assert matches(
        "summary_rollback_failed", render(summary_panel(_view(streams.rollback_failed())))
    )


def test_summary_of_a_rollback_names_the_failing_check() -> None:
    """After a rollback the summary names the check, why it failed, and the rollback's outcome."""
    assert matches("summary_rolled_back", render(summary_panel(_view(streams.rolled_back()))))


def test_summary_lists_overrides() -> None:
    """A skipped gate and a lock takeover are in the summary once each, though announced twice."""
    text = render(summary_panel(_view(streams.overridden())))
    assert text.count("status gate skipped: status page down, incident 123") == 1
    assert text.count("took the lock over from alice@bastion: expired") == 1


def test_live_view_during_the_rollout() -> None:
    """Mid-rollout the live view shows a row per target with from -> to, status and elapsed."""
    stream = _until(
        streams.rolled_back(),
        lambda e: (
            getattr(e.event, "target", "") == "heroku:acme-worker"
            and e.event.name == "target_finished"
        ),
    )
    now = stream[-1].time + timedelta(seconds=3)
    assert matches("live_rollout", render(live_view(_view(stream), now)))


def test_live_view_during_the_bake_counts_checks_per_side() -> None:
    """During the bake the live view shows pass and fail counts per side."""
    stream = _until(
        streams.rolled_back(),
        lambda e: isinstance(e.event, CheckMeasured) and e.event.failures == 2,
    )
    text = render(live_view(_view(stream), stream[-1].time))
    assert "checks heroku 3 passed, 0 failed · kubernetes 1 passed, 2 failed" in text


def test_live_view_header_shows_release_version_and_phase() -> None:
    """The header names the pipeline, release number, version and the phase with its time."""
    stream = _until(
        streams.rolled_back(),
        lambda e: isinstance(e.event, PhaseStarted) and e.event.phase == "verify",
    )
    text = render(live_view(_view(stream), stream[-1].time + timedelta(seconds=72)))
    assert text.splitlines()[0] == "ship web · release #12 · code v42 · verify 1m12s · 2m43s total"


def test_live_sink_prints_the_log_above_and_the_summary_at_the_end() -> None:
    """On a terminal the live sink scrolls log lines, then leaves the summary on screen."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    sink = LiveConsoleSink(console, now=lambda: streams.T0, fps=50)
    for event in streams.rolled_back():
        sink.emit(event)
    sink.close()
    text = out.getvalue()
    assert "rolling back both sides: check kube-errors failed on kubernetes" in text
    assert text.rstrip().endswith("╯")


def test_no_color_turns_colour_off_on_a_terminal() -> None:
    """With NO_COLOR a terminal console writes text without colour codes."""
    out = io.StringIO()
    console = make_console(out, is_tty=True, no_color=True, width=100)
    console.print("[red]failed[/red]")
    assert out.getvalue() == "failed\n"


def test_a_terminal_gets_colour_without_no_color() -> None:
    """Without NO_COLOR a terminal console colours its text."""
    out = io.StringIO()
    console = make_console(out, is_tty=True, no_color=False, width=100)
    console.print("[red]failed[/red]")
    assert ANSI.search(out.getvalue())


def test_a_run_refused_before_its_release_has_no_summary() -> None:
    """When nothing started (a bad flag after the lock), the console prints no summary panel."""
    stream = [e for e in streams.blocked() if e.event.name in ("lock_taken", "lock_released")]
    text = _plain(stream)
    assert "╭" not in text
    assert "lock taken by" in text


def test_live_view_during_the_rollback() -> None:
    """During a rollback each row shows the way back, marked as a rollback."""
    stream = _until(
        streams.rollback_failed(),
        lambda e: (
            getattr(e.event, "target", "") == "kubernetes:deployment/web"
            and e.event.name == "target_finished"
            and getattr(e.event, "rollback", False)
        ),
    )
    now = stream[-1].time + timedelta(seconds=4)
    assert matches("live_rollback", render(live_view(_view(stream), now)))


def test_live_sink_survives_concurrent_emits_while_refreshing() -> None:
    """Two sides reporting at once while the view redraws neither deadlock nor lose rows."""
    import threading

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    sink = LiveConsoleSink(console, now=lambda: streams.T0, fps=100)
    sink.emit(streams.success()[0])

    def report(side: str, target: str) -> None:
        for i in range(200):
            event = TargetProgress(target, side, "v41", "v42", f"rolling out {i}/200")
            sink.emit(Stamped(streams.T0, "web", 12, event))

    threads = [
        threading.Thread(target=report, args=("heroku", "heroku:acme-web")),
        threading.Thread(target=report, args=("kubernetes", "kubernetes:deployment/web")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sink.close()
    assert not any(thread.is_alive() for thread in threads)
    assert sink.view.rows["kubernetes:deployment/web"].status == "rolling out 199/200"
