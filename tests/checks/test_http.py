"""HttpCheck against answers scripted with respx (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from shipper.checks.http import HttpCheck
from shipper.core.model import MeasurementStatus, Side, Version
from tests.fakes.clock import FakeClock

URL = "https://acme-web.example.test/health"
V42 = Version("v42")


def make(clock: FakeClock | None = None, **kwargs: Any) -> HttpCheck:
    return HttpCheck(
        "web-health",
        Side.HEROKU,
        url=kwargs.pop("url", URL),
        client=httpx.Client(),
        clock=clock or FakeClock(),
        **kwargs,
    )


class SlowStream(httpx.SyncByteStream):
    """A body that arrives in chunks, each taking `per_chunk` seconds on the clock."""

    def __init__(self, clock: FakeClock, chunks: list[bytes], per_chunk: float) -> None:
        self.clock, self.chunks, self.per_chunk = clock, chunks, per_chunk

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.clock.advance(self.per_chunk)
            yield chunk


def test_any_2xx_passes_by_default(respx_mock: respx.MockRouter) -> None:
    """With no status configured, a 204 is a successful measurement."""
    respx_mock.get(URL).respond(204)
    m = make().measure(V42)
    assert m.status is MeasurementStatus.SUCCESSFUL
    assert m.value.startswith("HTTP 204")


def test_server_error_fails(respx_mock: respx.MockRouter) -> None:
    """A 503 fails the measurement and the message names the status."""
    respx_mock.get(URL).respond(503)
    m = make().measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "503" in m.message and "2xx" in m.message


def test_redirect_is_not_followed(respx_mock: respx.MockRouter) -> None:
    """A redirect is judged as the 3xx it is, not as the page it points to."""
    respx_mock.get(URL).respond(302, headers={"Location": "https://elsewhere.test/"})
    assert make().measure(V42).status is MeasurementStatus.FAILED


def test_listed_status_replaces_2xx(respx_mock: respx.MockRouter) -> None:
    """With `status: [200]` configured, a 204 fails."""
    respx_mock.get(URL).respond(204)
    assert make(statuses=(200,)).measure(V42).status is MeasurementStatus.FAILED


def test_url_is_rendered_with_the_version(respx_mock: respx.MockRouter) -> None:
    """`{version}` in the URL is replaced by the version under test."""
    route = respx_mock.get("https://acme-web.example.test/v42/health").respond(200)
    make(url="https://acme-web.example.test/{version}/health").measure(V42)
    assert route.called


def test_body_substring_with_version_passes(respx_mock: respx.MockRouter) -> None:
    """A body containing the rendered substring passes."""
    respx_mock.get(URL).respond(200, text="ok running v42")
    m = make(body_contains="running {version}").measure(V42)
    assert m.status is MeasurementStatus.SUCCESSFUL


def test_body_without_substring_fails(respx_mock: respx.MockRouter) -> None:
    """A body that lacks the rendered substring fails, quoting the start of the body."""
    respx_mock.get(URL).respond(200, text="ok running v41")
    m = make(body_contains="running {version}").measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "running v42" in m.message and "v41" in m.message


def test_json_field_equal_to_version_passes(respx_mock: respx.MockRouter) -> None:
    """A JSON field equal to the rendered `equals` passes."""
    respx_mock.get(URL).respond(200, json={"build": {"version": "v42"}})
    m = make(json_field="build.version", equals="{version}").measure(V42)
    assert m.status is MeasurementStatus.SUCCESSFUL


def test_json_field_with_old_version_fails(respx_mock: respx.MockRouter) -> None:
    """The old version still answering fails the measurement, showing what was found."""
    respx_mock.get(URL).respond(200, json={"build": {"version": "v41"}})
    m = make(json_field="build.version", equals="{version}").measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert '"v41"' in m.message and '"v42"' in m.message


def test_missing_json_field_fails(respx_mock: respx.MockRouter) -> None:
    """A JSON answer without the field fails and says the field is missing."""
    respx_mock.get(URL).respond(200, json={"status": "ok"})
    m = make(json_field="build.version", equals="{version}").measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "missing" in m.message


def test_non_json_answer_fails_a_json_check(respx_mock: respx.MockRouter) -> None:
    """An HTML error page where JSON was expected fails the measurement."""
    respx_mock.get(URL).respond(200, text="<html>Application error</html>")
    m = make(json_field="version", equals="{version}").measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "not JSON" in m.message


def test_json_number_matches_its_text(respx_mock: respx.MockRouter) -> None:
    """A numeric field matches `equals` written as text, and array indexes work."""
    respx_mock.get(URL).respond(200, json={"pods": [{"ready": 3}]})
    m = make(json_field="pods.0.ready", equals="3").measure(V42)
    assert m.status is MeasurementStatus.SUCCESSFUL


def test_latency_over_limit_fails(respx_mock: respx.MockRouter) -> None:
    """An answer slower than `max_latency` fails, with the time it took."""
    clock = FakeClock()

    def slow(request: httpx.Request) -> httpx.Response:
        clock.advance(0.75)
        return httpx.Response(200)

    respx_mock.get(URL).mock(side_effect=slow)
    m = make(clock, max_latency=0.5).measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "0.750s" in m.message


def test_latency_at_limit_passes(respx_mock: respx.MockRouter) -> None:
    """An answer taking exactly `max_latency` passes: the limit is inclusive."""
    clock = FakeClock()

    def at_limit(request: httpx.Request) -> httpx.Response:
        clock.advance(0.5)
        return httpx.Response(200)

    respx_mock.get(URL).mock(side_effect=at_limit)
    assert make(clock, max_latency=0.5).measure(V42).status is MeasurementStatus.SUCCESSFUL


def test_timeout_is_a_failed_measurement(respx_mock: respx.MockRouter) -> None:
    """A read timeout is FAILED (not inconclusive) and measure() does not raise."""
    respx_mock.get(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    m = make(timeout=5.0).measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert m.message == f"no answer from {URL} within 5s"


def test_connection_refused_is_a_failed_measurement(respx_mock: respx.MockRouter) -> None:
    """A refused connection is a FAILED measurement."""
    respx_mock.get(URL).mock(side_effect=httpx.ConnectError("[Errno 111] refused"))
    m = make().measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert f"could not connect to {URL}" in m.message


def test_trickling_body_is_cut_at_the_timeout(respx_mock: respx.MockRouter) -> None:
    """A body that keeps arriving past the timeout fails even though each chunk is quick."""
    clock = FakeClock()
    stream = SlowStream(clock, [b"o"] * 10, per_chunk=1.0)
    respx_mock.get(URL).mock(return_value=httpx.Response(200, stream=stream))
    m = make(clock, timeout=3.0).measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "did not finish within 3s" in m.message


def test_credentials_in_the_url_never_reach_the_message(respx_mock: respx.MockRouter) -> None:
    """A URL's user:password is not repeated in the message of a failed measurement."""
    url = "https://probe:hunter2secret@acme-web.example.test/health"
    respx_mock.get(url).mock(side_effect=httpx.ConnectError(f"cannot reach {url}"))
    m = make(url=url).measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert "hunter2secret" not in m.message + m.value
    assert "probe:" not in m.message
    assert "https://acme-web.example.test/health" in m.message


def test_threshold_says_what_passing_means() -> None:
    """The threshold text lists status, body, JSON field and latency limit."""
    check = make(statuses=(200,), json_field="version", equals="{version}", max_latency=0.5)
    assert check.threshold == 'HTTP 200, version == "{version}", within 0.5s'


@pytest.mark.parametrize("json_field", ["a", None])
def test_json_field_and_equals_go_together(json_field: str | None) -> None:
    """Giving only one of json_field and equals is refused at construction."""
    with pytest.raises(ValueError, match="go together"):
        make(json_field=json_field, equals=None if json_field else "x")


# --- probe: one try before any change (ship validate --online, the deploy's preflight) ---


def test_probe_of_an_answering_url_names_it_and_the_answer(respx_mock: respx.MockRouter) -> None:
    """A probe that gets an answer is reached and ok, and names the URL and the status."""
    respx_mock.get(URL).respond(200, text="ok")
    probe = make().probe(V42)
    assert (probe.reached, probe.ok, probe.where) == (True, True, URL)
    assert "HTTP 200" in probe.answer


def test_probe_of_an_unexpected_status_is_reached_but_not_ok(
    respx_mock: respx.MockRouter,
) -> None:
    """A 503 is an answer (reached) the check would refuse (not ok), said with the status."""
    respx_mock.get(URL).respond(503)
    probe = make().probe(V42)
    assert (probe.reached, probe.ok) == (True, False)
    assert "HTTP 503" in probe.answer and "expected 2xx" in probe.answer


def test_probe_that_cannot_connect_is_not_reached(respx_mock: respx.MockRouter) -> None:
    """A refused connection is not reached; the URL is shown without user:password or query."""
    url = "https://probe:hunter2secret@acme-web.example.test/health?token=abc123"
    respx_mock.get(url).mock(side_effect=httpx.ConnectError(f"cannot reach {url}"))
    probe = make(url=url).probe(V42)
    assert probe.reached is False
    assert probe.where == "https://acme-web.example.test/health?…"
    text = probe.where + probe.answer
    assert "hunter2secret" not in text and "abc123" not in text


def test_probe_read_timeout_is_reached(respx_mock: respx.MockRouter) -> None:
    """A server that accepted the connection but did not answer in time was reached."""
    respx_mock.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    probe = make(timeout=2.0).probe(V42)
    assert (probe.reached, probe.ok) == (True, False)


def test_probe_skips_a_url_naming_the_version(respx_mock: respx.MockRouter) -> None:
    """A URL with {version} is not tried before the release: that version runs nowhere yet."""
    probe = make(url="https://{version}.example.test/health").probe(V42)
    assert (probe.reached, probe.ok) == (True, True)
    assert "not probed" in probe.answer
    assert not respx_mock.calls
