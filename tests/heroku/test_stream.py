"""Waiting on builds and release commands through their output streams."""

from __future__ import annotations

import threading

import httpx

from shipper.core.model import Verdict, Version
from shipper.heroku.api import HerokuApi
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import platform
from tests.heroku.fake_heroku import FakeHeroku

V42 = Version("v42")


def test_the_end_of_a_stream_is_noticed_at_once(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, clock: FakeClock
) -> None:
    """With streams open while the build and the release command run, the deploy looks at
    each exactly when it ends: the build is read once (the POST answered it before), its
    release once (as the build left it), then one dyno list when the release command's
    stream ended (a dyno on the release proves it live), and the deploy takes the
    platform's own 60 s + 30 s, not a polling interval more."""
    heroku.hold_streams = True
    started = clock.monotonic()
    [result] = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    build_id = heroku.builds_of("acme-web", "v42")[0]["id"]
    assert len(heroku.calls("GET", rf"/builds/{build_id}$")) == 1
    assert clock.monotonic() - started == heroku.build_seconds + heroku.release_seconds
    assert len(heroku.stream_requests) == 2  # the build's, then the release command's
    release_id = heroku.current("acme-web")["id"]
    # read once as the build's release; when its stream ended, the dynos answered
    assert len(heroku.calls("GET", rf"/releases/{release_id}$")) == 1
    assert len(heroku.calls("GET", r"/apps/acme-web/dynos$")) == 1


def test_a_stream_that_ends_early_hands_back_to_polling(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A stream that ends while the build still runs is not trusted: ship polls on."""
    [result] = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    build_id = heroku.builds_of("acme-web", "v42")[0]["id"]
    assert len(heroku.calls("GET", rf"/builds/{build_id}$")) > 2


def test_a_broken_stream_hands_back_to_polling(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A stream host that fails (here 503) costs nothing but the polling it replaces."""
    heroku.stream_hook = lambda request: httpx.Response(503, text="unavailable")
    [result] = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message


def test_a_cancellation_is_noticed_while_the_stream_is_quiet(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The other side failed: the wait ends (PENDING) while the stream is still open and
    silent, instead of waiting for the build to say anything."""
    opened, release = threading.Event(), threading.Event()

    def quiet(request: httpx.Request) -> httpx.Response:
        opened.set()
        release.wait(timeout=30)
        return httpx.Response(200, text="")

    heroku.stream_hook = quiet

    def cancel_once_open() -> None:
        if opened.wait(timeout=30):
            op.cancel()

    threading.Thread(target=cancel_once_open, daemon=True).start()
    try:
        [result] = platform(api, apps=["acme-web"]).deploy(V42, op)
        assert result.verdict is Verdict.PENDING, result.message
        assert not release.is_set()  # the stream was still open when the wait ended
    finally:
        release.set()


def test_a_quiet_stream_is_not_taken_for_a_cut_one(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A build step may print nothing for minutes: the wait on a stream allows 120 s of
    silence before it counts the stream as cut (the tail read keeps the client's 15 s)."""
    from shipper.heroku.stream import QUIET

    heroku.hold_streams = True
    platform(api, apps=["acme-web"]).deploy(V42, op)
    reads = [r.extensions["timeout"]["read"] for r in heroku.stream_requests]
    assert reads and all(read == QUIET == 120.0 for read in reads)
