"""Fixtures for the Heroku adapter tests: a scripted Heroku behind respx, a FakeClock,
and a canary token that every test checks never leaked anywhere."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from shipper.core.model import Version
from shipper.heroku.api import HerokuApi
from shipper.heroku.auth import Token
from shipper.heroku.platform import HerokuArtifact, HerokuPlatform
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.fake_heroku import API, STREAMS, FakeHeroku

CANARY = "hk-CANARY-3f9a2c71-never-print-me"
APPS = ["acme-web", "acme-worker", "acme-admin"]
SOURCE = HerokuArtifact(
    "source", url="https://codeload.example.com/acme/web/tar.gz/{version}?sig=abc"
)


class Leaks:
    """Things a test produced that must not contain the token: checked after the test."""

    def __init__(self) -> None:
        self.things: list[Any] = []

    def add(self, *things: Any) -> None:
        self.things.extend(things)


@pytest.fixture
def leaks() -> Leaks:
    return Leaks()


@pytest.fixture(autouse=True)
def _no_canary_leak(
    leaks: Leaks, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    out, err = capsys.readouterr()
    texts = [out, err, caplog.text, *(r.getMessage() for r in caplog.records)]
    for thing in leaks.things:
        if isinstance(thing, RecordingOperation):
            texts += [
                repr(thing.intents),
                repr(thing.updates),
                repr(thing.lines),
                repr(thing.metrics),
            ]
        elif isinstance(thing, BaseException):
            texts += [str(thing), repr(thing), repr(thing.__cause__), repr(thing.__context__)]
        else:
            texts.append(repr(thing))
    for text in texts:
        assert CANARY not in text


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def heroku(clock: FakeClock) -> Iterator[FakeHeroku]:
    fake = FakeHeroku(APPS, clock, CANARY)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(url__startswith=API).mock(side_effect=fake.handle)
        router.route(url__startswith=STREAMS).mock(side_effect=fake.stream)
        fake.router = router
        yield fake


@pytest.fixture
def api(heroku: FakeHeroku, clock: FakeClock) -> HerokuApi:
    return HerokuApi(httpx.Client(base_url=API), Token(CANARY, "HEROKU_API_KEY"), clock=clock)


@pytest.fixture
def op(clock: FakeClock, leaks: Leaks) -> RecordingOperation:
    operation = RecordingOperation(version=Version("v42"), clock=clock, budget=3600.0)
    leaks.add(operation)
    return operation


def platform(
    api: HerokuApi, artifact: HerokuArtifact = SOURCE, apps: list[str] | None = None
) -> HerokuPlatform:
    return HerokuPlatform(api, apps or APPS, artifact)
