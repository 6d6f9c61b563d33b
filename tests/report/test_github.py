"""GitHub Actions: groups per phase, annotations, and the step summary, from recorded streams."""

from __future__ import annotations

import io
from pathlib import Path

from shipper.core.emitter import EventSink
from shipper.core.events import Notice, Stamped
from shipper.report.console import PlainConsoleSink, make_console
from shipper.report.github import GitHubSink, command
from tests.report import streams


def _run(stream: list[Stamped], summary: Path | None = None) -> str:
    out = io.StringIO()
    sink = GitHubSink(out, summary_path=str(summary) if summary else None)
    for event in stream:
        sink.emit(event)
    sink.close()
    return out.getvalue()


def _commands(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"::{name}")]


def test_one_group_per_phase() -> None:
    """Each phase opens one group, and every group is closed."""
    text = _run(streams.success())
    groups = [line.split(": ", 1)[1] for line in _commands(text, "group")]
    assert groups == ["gate", "snapshot", "migrate", "migration_bake", "release", "verify"]
    assert len(_commands(text, "endgroup")) == len(groups)


def test_console_lines_of_a_phase_fall_inside_its_group() -> None:
    """With the GitHub sink first, a phase's console lines are written inside its group."""
    out = io.StringIO()
    sinks: list[EventSink] = [
        GitHubSink(out, summary_path=None),
        PlainConsoleSink(make_console(out, is_tty=False, no_color=True)),
    ]
    for event in streams.rolled_back():
        for sink in sinks:
            sink.emit(event)
    lines = out.getvalue().splitlines()
    start = lines.index("::group::ship web: verify")
    end = lines.index("::endgroup::", start)
    inside = lines[start:end]
    assert any("check kube-errors failed on kubernetes" in line for line in inside)


def test_a_failed_check_is_an_error_annotation() -> None:
    """A failed check becomes one ::error:: naming the check, the side and why."""
    errors = _commands(_run(streams.rolled_back()), "error")
    assert (
        "::error title=ship web%3A check kube-errors failed on kubernetes::"
        "3 failed measurements in a row (limit 2) (passing means value <= 0.01; "
        "last%3A 0.002, 0.031, 0.044)"
    ).replace("last%3A", "last:") in errors


def test_a_failed_release_ends_with_an_error_annotation() -> None:
    """A release that did not ship gets an error carrying its one-line message."""
    errors = _commands(_run(streams.rollback_failed()), "error")
    assert errors[-1].startswith("::error title=ship web%3A rollback failed::deployment/worker")


def test_a_blocked_release_annotates_the_platform_status() -> None:
    """A closed gate becomes an error that quotes the platform status."""
    errors = _commands(_run(streams.blocked()), "error")
    assert "::error title=ship web%3A platform status::Tools is yellow: Delayed builds" in errors


def test_overrides_are_warning_annotations() -> None:
    """A skipped gate and a lock takeover each become one ::warning::, however often announced."""
    warnings = _commands(_run(streams.overridden()), "warning")
    assert [w.split("::")[2] for w in warnings] == [
        "took the lock over from alice@bastion: expired",
        "status gate skipped: status page down, incident 123",
        "deployment/worker has no readiness probe",
    ]


def test_a_shipped_release_has_no_error_annotation() -> None:
    """A release that shipped cleanly annotates nothing as an error."""
    assert _commands(_run(streams.success()), "error") == []


def test_newlines_in_a_message_cannot_start_a_new_command() -> None:
    """A message with a newline is escaped, so it stays one workflow command."""
    line = command("error", "bad\n::add-mask::x", title="t")
    assert "\n" not in line
    assert line == "::error title=t::bad%0A::add-mask::x"


def test_step_summary_is_appended_as_markdown(tmp_path: Path) -> None:
    """The step summary file gets a Markdown report appended, keeping what was there."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    _run(streams.rolled_back(), summary)
    text = summary.read_text()
    assert text.startswith("earlier step\n### ↩️ ship web: code v42 rolled back (release #12)")
    assert "| check | kube-errors failed on kubernetes: 3 failed measurements" in text
    assert "| rollback | succeeded: 4 of 4 targets restored |" in text
    assert "| kubernetes | `deployment/web` | v41 | v41 | restored |" in text


def test_step_summary_marks_a_target_left_on_another_version(tmp_path: Path) -> None:
    """After a failed rollback the summary flags the target whose version differs."""
    summary = tmp_path / "summary.md"
    _run(streams.rollback_failed(), summary)
    assert "| kubernetes | `deployment/worker` | v41 | **v42** ⚠️ | rollback timed out |" in (
        summary.read_text()
    )


def test_an_unwritable_summary_is_a_warning(tmp_path: Path) -> None:
    """A step summary that cannot be written is reported as a warning, not raised."""
    warnings: list[str] = []
    sink = GitHubSink(io.StringIO(), summary_path=str(tmp_path), warn=warnings.append)
    for event in streams.blocked():
        sink.emit(event)
    sink.close()
    assert warnings and warnings[0].startswith("could not write the GitHub step summary")


def test_an_error_notice_is_an_error_annotation() -> None:
    """A notice at level error becomes an ::error:: annotation."""
    lost = Notice(level="error", message="lost the lock to bob")
    stream = [*streams.blocked()[:2], Stamped(streams.T0, "web", 12, lost)]
    assert "::error title=ship web::lost the lock to bob" in _commands(_run(stream), "error")
