"""The API client: retries, rate limits, adoption after ambiguous POSTs, error messages."""

from __future__ import annotations

from itertools import pairwise

import httpx
import pytest

from shipper.core.model import Verdict, Version
from shipper.errors import (
    MalformedAnswer,
    PlatformAuthError,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
)
from shipper.heroku.api import HerokuApi
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import APPS, Leaks, platform
from tests.heroku.fake_heroku import FakeHeroku

V42 = Version("v42")
RELEASES = r"^/apps/acme-web/releases$"
BUILDS = r"^/apps/acme-web/builds$"
RATE_LIMITED = {"id": "rate_limit", "message": "Your account reached the API rate limit."}


def _429(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(429, json=RATE_LIMITED, headers=headers)


def _500() -> httpx.Response:
    return httpx.Response(503, json={"id": "unavailable", "message": "try later"})


def test_429_storm_with_retry_after_waits_what_heroku_asks(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock
) -> None:
    """Three 429s carrying Retry-After: 7 make three 7-second waits, then the call succeeds."""
    heroku.fail("GET", RELEASES, _429("7"), _429("7"), _429("7"))
    states = platform(api, apps=["acme-web"]).snapshot()
    assert states[0].version == "v41"
    assert clock.sleeps == [7.0, 7.0, 7.0]


def test_429_storm_without_retry_after_backs_off_exponentially(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock
) -> None:
    """429s without Retry-After are retried with growing, jittered waits."""
    heroku.fail("GET", RELEASES, _429(), _429(), _429(), _429())
    platform(api, apps=["acme-web"]).snapshot()
    assert len(clock.sleeps) == 4
    assert all(later > earlier for earlier, later in pairwise(clock.sleeps))
    assert 1.0 <= clock.sleeps[0] < 2.0


def test_endless_429s_end_at_the_total_deadline(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock, leaks: Leaks
) -> None:
    """A rate limit that never lifts ends as PlatformUnavailable within the read deadline."""
    heroku.fail("GET", RELEASES, *[_429("60") for _ in range(20)])
    with pytest.raises(PlatformUnavailable, match="rate limit") as caught:
        platform(api, apps=["acme-web"]).snapshot()
    leaks.add(caught.value)
    assert sum(clock.sleeps) <= 180.0


def test_5xx_burst_on_a_read_is_retried(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock
) -> None:
    """Two 503s on a GET are retried and the third answer is used."""
    heroku.fail("GET", RELEASES, _500(), _500())
    assert platform(api, apps=["acme-web"]).snapshot()[0].version == "v41"
    assert len(clock.sleeps) == 2


def test_low_rate_limit_remaining_slows_calls_down(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock
) -> None:
    """With RateLimit-Remaining near zero each further call waits before it is sent."""
    heroku.rate_limit_remaining = 5
    side = platform(api, apps=["acme-web"])
    side.snapshot()
    side.snapshot()
    assert api.rate_limit_remaining == 5
    assert clock.sleeps and all(s > 5.0 for s in clock.sleeps)


def test_timed_out_build_post_adopts_the_build_it_created(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A build POST that times out after Heroku made the build is not repeated: the build
    it made is found and followed, so exactly one build exists afterwards."""

    def made_then_timed_out(request: httpx.Request) -> httpx.Response:
        heroku._route(request)
        raise httpx.ReadTimeout("read timed out", request=request)

    heroku.fail("POST", BUILDS, made_then_timed_out)
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.builds_of("acme-web", "v42")) == 1
    assert len(heroku.calls("POST", BUILDS)) == 1


def test_5xx_on_build_post_that_made_nothing_fails_without_a_retry(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A 500 on the build POST with no build behind it fails the app; it is never re-sent."""
    heroku.fail("POST", BUILDS, httpx.Response(500, json={"id": "internal", "message": "x"}))
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.FAILED
    assert "nothing was created" in results[0].message
    assert len(heroku.calls("POST", BUILDS)) == 1


def test_429_on_build_post_is_retried(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A 429 means Heroku did not take the POST, so it is sent again and one build results."""
    heroku.fail("POST", BUILDS, _429("2"))
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.calls("POST", BUILDS)) == 2
    assert len(heroku.builds_of("acme-web", "v42")) == 1


def test_401_is_an_auth_error_for_the_whole_side(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, leaks: Leaks
) -> None:
    """Heroku's 401 raises PlatformAuthError telling to check HEROKU_API_KEY, token unshown."""
    for app in APPS:
        heroku.fail(
            "GET",
            f"^/apps/{app}/releases$",
            httpx.Response(
                401, json={"id": "unauthorized", "message": "Invalid credentials provided."}
            ),
        )
    with pytest.raises(PlatformAuthError, match="HEROKU_API_KEY") as caught:
        platform(api).deploy(V42, op)
    leaks.add(caught.value)
    assert op.intents == []


def test_404_names_the_app(heroku: FakeHeroku, api: HerokuApi, leaks: Leaks) -> None:
    """An unknown app reads as PlatformNotFound naming it and the pipeline key to check."""
    with pytest.raises(PlatformNotFound, match=r"acme-gone.*heroku\.apps") as caught:
        platform(api, apps=["acme-gone"]).snapshot()
    leaks.add(caught.value)


def test_422_carries_herokus_message(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A 422 on the build POST fails that app with Heroku's own message and request id."""
    heroku.fail(
        "POST",
        BUILDS,
        httpx.Response(
            422,
            json={"id": "invalid_params", "message": "source_blob.url is not reachable"},
            headers={"Request-Id": "req-123"},
        ),
    )
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.FAILED
    assert "source_blob.url is not reachable" in results[0].message
    assert "req-123" in results[0].message


def test_two_factor_says_ship_cannot_prompt(
    heroku: FakeHeroku, api: HerokuApi, leaks: Leaks
) -> None:
    """A 403 two_factor becomes an auth error explaining that ship cannot ask for a code."""
    heroku.fail(
        "GET",
        RELEASES,
        httpx.Response(
            403, json={"id": "two_factor", "message": "A second authentication factor is required."}
        ),
    )
    with pytest.raises(PlatformAuthError, match="second factor") as caught:
        platform(api, apps=["acme-web"]).snapshot()
    leaks.add(caught.value)


def test_malformed_json_is_a_malformed_answer(heroku: FakeHeroku, api: HerokuApi) -> None:
    """A body that is not JSON reads as MalformedAnswer, never as a decode error."""
    heroku.fail("GET", RELEASES, httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(MalformedAnswer, match="not JSON"):
        platform(api, apps=["acme-web"]).snapshot()


def test_error_echoing_the_token_is_redacted(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, leaks: Leaks
) -> None:
    """A Heroku message that quotes the token reaches the result with the token redacted."""
    from tests.heroku.conftest import CANARY

    heroku.fail(
        "POST",
        BUILDS,
        httpx.Response(
            422, json={"id": "invalid_params", "message": f"bad token {CANARY} in request"}
        ),
    )
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    leaks.add(*results)
    assert "[redacted]" in results[0].message


def test_connection_refused_reads_as_unavailable(
    heroku: FakeHeroku, api: HerokuApi, leaks: Leaks
) -> None:
    """Refused connections are retried and end as PlatformUnavailable naming the call."""
    refused = [httpx.ConnectError("refused") for _ in range(10)]
    heroku.fail("GET", RELEASES, *refused)
    with pytest.raises(PlatformUnavailable, match="list the releases of acme-web") as caught:
        platform(api, apps=["acme-web"]).snapshot()
    leaks.add(caught.value)


def test_builds_list_falls_back_when_range_field_is_refused(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A 416 on the builds Range makes ship read the whole list, following Next-Range."""
    heroku.builds_range_ok = False
    for n in range(250):
        heroku.apps["acme-web"].builds.append(
            {
                **heroku.apps["acme-web"].builds[0],
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "created_at": f"2026-01-01T00:00:{n:03d}Z",
                "source_blob": {"version": f"old{n}"},
            }
        )
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.SUCCEEDED
    pages = [r for r in heroku.calls("GET", BUILDS) if "Range" in r.headers]
    assert any(r.headers["Range"].startswith("id ]") for r in pages)


def test_request_id_is_logged_with_errors(
    heroku: FakeHeroku, api: HerokuApi, caplog: pytest.LogCaptureFixture
) -> None:
    """Heroku's Request-Id of a failed call is in the log, for Heroku support."""
    heroku.fail(
        "GET",
        RELEASES,
        httpx.Response(
            404, json={"id": "not_found", "message": "gone"}, headers={"Request-Id": "abc-123"}
        ),
    )
    with pytest.raises(PlatformNotFound):
        platform(api, apps=["acme-web"]).snapshot()
    assert "abc-123" in caplog.text


def _leaves(cls: type[Exception]) -> list[type[Exception]]:
    subs = cls.__subclasses__()
    return [leaf for sub in subs for leaf in _leaves(sub)] if subs else [cls]


@pytest.mark.parametrize("error", _leaves(httpx.RequestError), ids=lambda e: e.__name__)
def test_no_httpx_error_leaves_the_client_unmapped(
    heroku: FakeHeroku, api: HerokuApi, error: type[Exception]
) -> None:
    """Every kind of httpx request failure reaches the caller as a ShipError."""
    heroku.fail("GET", RELEASES, *[error("boom") for _ in range(10)])
    with pytest.raises(PlatformError):
        platform(api, apps=["acme-web"]).snapshot()
