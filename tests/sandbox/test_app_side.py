"""Each side's application endpoint: /health and the Prometheus query API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from shipper.sandbox.app_side import AppSide
from shipper.sandbox.web import serve
from tests.sandbox.conftest import ManualClock


@dataclass
class Running:
    versions: dict[str, str | None] = field(default_factory=lambda: {"web": "v1", "worker": "v1"})

    def __call__(self) -> dict[str, str | None]:
        return dict(self.versions)


@dataclass
class Side:
    app: AppSide
    running: Running
    clock: ManualClock
    client: httpx.Client

    def rate(self) -> float:
        body = self.client.get("/api/v1/query", params={"query": "errors"}).json()
        return float(body["data"]["result"][0]["value"][1])


@pytest.fixture
def side(clock: ManualClock) -> Iterator[Side]:
    running = Running()
    app = AppSide("kubernetes", running, clock)
    served = serve("app-test", app)
    with httpx.Client(base_url=served.url, timeout=5) as client:
        yield Side(app, running, clock, client)
    served.close()


def test_health_names_the_running_version(side: Side) -> None:
    """/health answers 200 with the version the side runs now."""
    answer = side.client.get("/health")
    assert answer.status_code == 200
    assert answer.json() | {"targets": None} == {
        "status": "ok",
        "side": "kubernetes",
        "version": "v1",
        "targets": None,
    }


def test_health_follows_live_state(side: Side) -> None:
    """Once the side runs v2, /health says v2."""
    side.running.versions = {"web": "v2", "worker": "v2"}
    assert side.client.get("/health").json()["version"] == "v2"


def test_broken_version_fails_health(side: Side) -> None:
    """While any target runs a `broken` version, /health answers 503 `failing`."""
    side.running.versions["worker"] = "v2-broken"
    answer = side.client.get("/health")
    assert (answer.status_code, answer.json()["status"]) == (503, "failing")


def test_nothing_serving_is_starting(side: Side) -> None:
    """A target with no version yet makes /health answer 503 `starting`."""
    side.running.versions["web"] = None
    assert side.client.get("/health").json()["status"] == "starting"


def test_healthy_error_rate_is_low(side: Side) -> None:
    """A good version's 5xx ratio stays well under a 5 % threshold."""
    assert side.rate() < 0.01


def test_broken_error_rate_rises_above_threshold(side: Side) -> None:
    """Within a second of a broken version serving, the 5xx ratio passes 30 %."""
    side.rate()
    side.running.versions["web"] = "v2-broken"
    first = side.rate()
    side.clock.advance(1.0)
    assert first < side.rate()
    assert side.rate() > 0.3


def test_query_answers_a_prometheus_vector(side: Side) -> None:
    """The query API answers success with an instant vector of one series."""
    body = side.client.get("/api/v1/query", params={"query": "up"}).json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    assert body["data"]["result"][0]["value"][1] == "1"


def test_query_by_form_post(side: Side) -> None:
    """A form-encoded POST works as Prometheus clients send long queries."""
    answer = side.client.post("/api/v1/query", data={"query": "up"})
    assert answer.json()["data"]["result"][0]["value"][1] == "1"


def test_missing_query_is_bad_data(side: Side) -> None:
    """A query call without a query answers 400 with errorType bad_data."""
    answer = side.client.get("/api/v1/query")
    assert (answer.status_code, answer.json()["errorType"]) == (400, "bad_data")


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("empty", lambda a: a.json()["data"]["result"] == []),
        ("nan", lambda a: a.json()["data"]["result"][0]["value"][1] == "NaN"),
        ("error", lambda a: a.status_code == 422 and a.json()["status"] == "error"),
    ],
)
def test_scripted_query_modes(
    side: Side, mode: str, check: Callable[[httpx.Response], bool]
) -> None:
    """The empty, NaN and error modes answer as a misbehaving Prometheus would."""
    side.app.mode = mode
    assert check(side.client.get("/api/v1/query", params={"query": "errors"}))
