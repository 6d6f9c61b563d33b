"""Which sinks a run gets, and an import that stays light for `ship --help`."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import respx

from shipper.core.emitter import EventSink
from shipper.core.events import ReleaseFinished, Stamped
from shipper.pipeline import parse_pipeline
from shipper.report.console import LiveConsoleSink, PlainConsoleSink
from shipper.report.factory import build_sinks
from shipper.report.github import GitHubSink
from shipper.report.jsonl import JsonLinesSink
from shipper.report.output import OutputMode
from shipper.report.slack import SlackSink
from tests.report import streams

PIPELINE = """
name: web
heroku:
  apps: [acme-web]
  artifact: {type: source, url: "https://example.test/{version}.tgz"}
"""
SLACK = PIPELINE + "notify:\n  slack: {webhook_url_env: SLACK_WEBHOOK_URL}\n"


def _sinks(
    mode: str, env: dict[str, str], *, is_tty: bool = False, text: str = PIPELINE
) -> tuple[list[EventSink], io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    sinks = build_sinks(
        OutputMode(mode),
        pipeline=parse_pipeline(text, "web.yaml"),
        env=env,
        stdout=out,
        stderr=err,
        is_tty=is_tty,
    )
    return sinks, out, err


def test_json_mode_keeps_stdout_for_json_only() -> None:
    """With --output json stdout gets only JSON lines and the human text goes to stderr."""
    sinks, out, err = _sinks("json", {})
    for event in streams.rolled_back():
        for sink in sinks:
            sink.emit(event)
    for sink in sinks:
        sink.close()
    assert all(line.startswith('{"event":') for line in out.getvalue().splitlines())
    assert "rolling back both sides" in err.getvalue()


def test_human_mode_writes_text_to_stdout() -> None:
    """In human mode the console writes to stdout and nothing goes to stderr."""
    sinks, out, err = _sinks("human", {})
    for event in streams.blocked():
        for sink in sinks:
            sink.emit(event)
    assert "platform status blocks gate" in out.getvalue()
    assert err.getvalue() == ""


def test_a_terminal_gets_the_live_view_and_a_pipe_plain_lines() -> None:
    """is_tty chooses the live console; otherwise plain lines."""
    assert any(isinstance(s, LiveConsoleSink) for s in _sinks("human", {}, is_tty=True)[0])
    assert any(isinstance(s, PlainConsoleSink) for s in _sinks("human", {}, is_tty=False)[0])


def test_a_dumb_terminal_gets_plain_lines() -> None:
    """TERM=dumb gets plain lines even on a terminal."""
    sinks = _sinks("human", {"TERM": "dumb"}, is_tty=True)[0]
    assert any(isinstance(s, PlainConsoleSink) for s in sinks)


def test_github_actions_adds_its_sink_before_the_console() -> None:
    """On GitHub Actions the GitHub sink comes first, so groups open before their lines."""
    sinks = _sinks("json", {"GITHUB_ACTIONS": "true"})[0]
    kinds = [type(s) for s in sinks]
    assert kinds == [GitHubSink, JsonLinesSink, PlainConsoleSink]


def test_slack_sink_only_when_configured() -> None:
    """A Slack sink is added when the pipeline has notify.slack, and not otherwise."""
    assert any(isinstance(s, SlackSink) for s in _sinks("human", {}, text=SLACK)[0])
    assert not any(isinstance(s, SlackSink) for s in _sinks("human", {})[0])


def test_importing_the_factory_loads_no_heavy_module() -> None:
    """Importing the report package and factory loads neither httpx, kubernetes nor rich."""
    code = (
        "import sys, shipper.report, shipper.report.factory; "
        "print(sorted(m for m in ('httpx', 'kubernetes', 'rich', 'rich.live') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


SECRET = "hunter2-token-value"


def _leaky() -> list[Stamped]:
    """A recorded release whose platform message quotes a secret."""
    from shipper.core.events import Notice

    leak = Notice(level="warning", message=f"Heroku said: bad key {SECRET}")
    return [*streams.blocked()[:2], Stamped(streams.T0, "web", 12, leak), *streams.blocked()[2:]]


def _redact(text: str) -> str:
    return text.replace(SECRET, "[redacted]")


def test_redact_cleans_the_json_stream_and_the_human_text() -> None:
    """With a redactor, a secret quoted in an event reaches neither stdout nor stderr."""
    out, err = io.StringIO(), io.StringIO()
    sinks = build_sinks(
        OutputMode.JSON,
        pipeline=parse_pipeline(PIPELINE, "web.yaml"),
        env={},
        stdout=out,
        stderr=err,
        is_tty=False,
        redact=_redact,
    )
    for event in _leaky():
        for sink in sinks:
            sink.emit(event)
    for sink in sinks:
        sink.close()
    assert SECRET not in out.getvalue() + err.getvalue()
    assert "[redacted]" in out.getvalue() and "[redacted]" in err.getvalue()


def test_redact_cleans_the_github_step_summary(tmp_path: Path) -> None:
    """With a redactor, a secret quoted in an event stays out of the step summary."""
    summary = tmp_path / "summary.md"
    sink = GitHubSink(io.StringIO(), summary_path=str(summary), redact=_redact)
    for event in _leaky():
        sink.emit(event)
    sink.close()
    assert SECRET not in summary.read_text()


def test_redact_cleans_the_slack_payload(respx_mock: respx.MockRouter) -> None:
    """With a redactor, a secret quoted in an event is not posted to Slack."""
    url = "https://hooks.slack.test/services/T/B/x"
    route = respx_mock.post(url).respond(200)
    sink = SlackSink(url, redact=_redact)
    stream = _leaky()
    finished = stream[-2].event
    assert isinstance(finished, ReleaseFinished)
    stream[-2] = dataclasses.replace(
        stream[-2], event=dataclasses.replace(finished, message=f"blocked: {SECRET}")
    )
    for event in stream:
        sink.emit(event)
    sink.close()
    bodies = [call.request.content.decode() for call in route.calls]
    assert len(bodies) == 2
    assert all(SECRET not in body for body in bodies)
