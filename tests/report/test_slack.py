"""Slack: a message at the start and one at the end, failures as warnings, the URL never shown."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from shipper.core.events import Stamped
from shipper.report.slack import SlackSink
from tests.report import streams

URL = "https://hooks.slack.test/services/T000/B000/secret-token-123"


def _run(stream: list[Stamped], warnings: list[str], *, close: bool = True) -> None:
    sink = SlackSink.from_env("SLACK_WEBHOOK_URL", {"SLACK_WEBHOOK_URL": URL}, warn=warnings.append)
    for event in stream:
        sink.emit(event)
    if close:
        sink.close()


def _texts(route: respx.Route) -> list[str]:
    out = []
    for call in route.calls:
        body = json.loads(call.request.content)
        out.append(body["blocks"][0]["text"]["text"] + "\n" + json.dumps(body))
    return out


def test_one_message_at_start_and_one_at_the_end(respx_mock: respx.MockRouter) -> None:
    """A release posts exactly two messages: when it starts and when it ends."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.success(), [])
    assert route.call_count == 2


def test_start_message_names_version_and_actor(respx_mock: respx.MockRouter) -> None:
    """The start message carries the pipeline, release number, version and actor."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.success(), [])
    start = _texts(route)[0]
    assert start.startswith(
        ":rocket: *web*: release #12 started: code v42 by octocat (github acme/web run 4242)"
    )


def test_shipped_message_has_the_durations(respx_mock: respx.MockRouter) -> None:
    """The end of a shipped release gives the total and each phase's duration."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.success(), [])
    end = _texts(route)[1]
    assert end.startswith(":white_check_mark: *web*: code v42 shipped in 7m39s (release #12)")
    assert "verify 5m00s" in end


def test_rolled_back_message_names_the_failing_check(respx_mock: respx.MockRouter) -> None:
    """The end of a rolled-back release names the failing check and the rollback outcome."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.rolled_back(), [])
    end = _texts(route)[1]
    assert end.startswith(":leftwards_arrow_with_hook: *web*: code v42 rolled back")
    assert "*check* kube-errors failed on kubernetes: 3 failed measurements" in end
    assert "*rollback* succeeded: 4 of 4 targets restored" in end


def test_rollback_failed_message_says_what_was_not_restored(respx_mock: respx.MockRouter) -> None:
    """The end of a failed rollback names the target that was not restored."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.rollback_failed(), [])
    end = _texts(route)[1]
    assert end.startswith(":rotating_light: *web*: code v42 rollback failed")
    assert "not restored: kubernetes:deployment/worker" in end


def test_blocked_message_quotes_the_platform_status(respx_mock: respx.MockRouter) -> None:
    """The end of a blocked release says it was blocked and by what."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.blocked(), [])
    end = _texts(route)[1]
    assert end.startswith(":no_entry: *web*: code v42 blocked")
    assert "Tools is yellow: Delayed builds" in end


def test_a_release_that_never_finished_is_announced_at_close(respx_mock: respx.MockRouter) -> None:
    """A release closed without its end event still posts an end message, saying so."""
    route = respx_mock.post(URL).respond(200, text="ok")
    _run(streams.success()[:10], [])
    assert "did not finish" in _texts(route)[-1]


def test_slack_error_is_a_warning_without_the_url(
    capsys: pytest.CaptureFixture[str], respx_mock: respx.MockRouter
) -> None:
    """A Slack 500 is a warning that never contains the webhook URL, and nothing raises."""
    respx_mock.post(URL).respond(500, text="internal error")
    warnings: list[str] = []
    _run(streams.rolled_back(), warnings)
    assert warnings == ["Slack answered 500; the message was not posted"] * 2
    captured = capsys.readouterr()
    assert "secret-token" not in captured.out + captured.err + " ".join(warnings)


def test_unreachable_slack_is_a_warning_without_the_url(
    capsys: pytest.CaptureFixture[str], respx_mock: respx.MockRouter
) -> None:
    """A connection failure becomes a warning naming only the kind of failure, not the URL."""
    respx_mock.post(URL).mock(side_effect=httpx.ConnectError(f"cannot connect to {URL}"))
    warnings: list[str] = []
    _run(streams.blocked(), warnings)
    assert warnings[0] == "could not reach Slack (ConnectError); no message was sent"
    captured = capsys.readouterr()
    assert "secret-token" not in captured.out + captured.err + " ".join(warnings)


def test_missing_webhook_variable_warns_once_and_posts_nothing(
    respx_mock: respx.MockRouter,
) -> None:
    """When the named variable is unset there is one warning naming it, and no request."""
    warnings: list[str] = []
    sink = SlackSink.from_env("SLACK_WEBHOOK_URL", {}, warn=warnings.append)
    for event in streams.success():
        sink.emit(event)
    sink.close()
    assert warnings == ["SLACK_WEBHOOK_URL is not set; no Slack message was sent"]
    assert respx_mock.calls.call_count == 0


def test_sink_state_never_shows_the_url() -> None:
    """The sink's repr does not reveal the webhook URL."""
    sink = SlackSink.from_env("SLACK_WEBHOOK_URL", {"SLACK_WEBHOOK_URL": URL})
    assert "secret-token" not in repr(sink)
