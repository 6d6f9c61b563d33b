"""The real checks over real HTTP, against the sandbox's application endpoint on loopback.

respx proves the parsing; these prove the wire: query encoding, timeouts that really
expire and connections that really drop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shipper.checks.http import HttpCheck
from shipper.checks.prometheus import PrometheusCheck
from shipper.core.model import MeasurementStatus, Side, Version
from shipper.sandbox.app_side import AppSide
from shipper.sandbox.faults import Fault
from shipper.sandbox.web import serve


@dataclass
class Running:
    versions: dict[str, str | None] = field(default_factory=lambda: {"deployment/web": "v2"})

    def __call__(self) -> dict[str, str | None]:
        return dict(self.versions)


@dataclass
class Clock:
    now: float = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class App:
    app: AppSide
    running: Running
    clock: Clock
    url: str
    client: httpx.Client

    def http(self, **kwargs: Any) -> HttpCheck:
        options: dict[str, Any] = {"json_field": "version", "equals": "{version}"}
        options.update(kwargs)
        return HttpCheck(
            "health",
            Side.KUBERNETES,
            url=f"{self.url}/health",
            client=self.client,
            **options,
        )

    def prometheus(self, **kwargs: Any) -> PrometheusCheck:
        return PrometheusCheck(
            "errors",
            Side.KUBERNETES,
            url=self.url,
            query='sum(rate(http_requests_total{code=~"5.."}[1m]))',
            client=self.client,
            maximum=0.01,
            **kwargs,
        )


@pytest.fixture
def app() -> Iterator[App]:
    running, clock = Running(), Clock()
    side = AppSide("kubernetes", running, clock=clock)
    served = serve("checks-test", side)
    with httpx.Client() as client:
        yield App(side, running, clock, served.url, client)
    served.close()


def test_healthy_side_passes_both_checks(app: App) -> None:
    """The running version answering /health and a low error ratio pass."""
    assert app.http().measure(Version("v2")).status is MeasurementStatus.SUCCESSFUL
    assert app.prometheus().measure(Version("v2")).status is MeasurementStatus.SUCCESSFUL


def test_old_version_answering_fails_the_http_check(app: App) -> None:
    """/health naming another version than the one under test fails."""
    m = app.http().measure(Version("v3"))
    assert m.status is MeasurementStatus.FAILED and '"v2"' in m.message


def test_broken_version_fails_both_checks(app: App) -> None:
    """A broken version answers 503 and its error ratio breaks the maximum."""
    app.running.versions = {"deployment/web": "v3-broken"}
    assert app.http().measure(Version("v3-broken")).status is MeasurementStatus.FAILED
    # the sandbox ramps the error ratio up over its first second of serving
    app.clock.now += 5
    m = app.prometheus().measure(Version("v3-broken"))
    assert m.status is MeasurementStatus.FAILED and "> max 0.01" in m.message


@pytest.mark.parametrize("mode", ["empty", "nan", "error"])
def test_prometheus_without_data_is_inconclusive(app: App, mode: str) -> None:
    """Empty, NaN and error answers from a real server are inconclusive."""
    app.app.mode = mode
    assert app.prometheus().measure(Version("v2")).status is MeasurementStatus.INCONCLUSIVE


def test_hanging_server_fails_the_http_check_within_its_timeout(app: App) -> None:
    """A server that never answers is a FAILED measurement after about the timeout."""
    app.app.faults.add(Fault(kind="hang", path="/health", delay=2.0))
    started = time.monotonic()
    m = app.http(timeout=0.3).measure(Version("v2"))
    took = time.monotonic() - started
    assert m.status is MeasurementStatus.FAILED and "within 0.3s" in m.message
    assert took < 1.5


def test_dropped_connection_fails_the_http_check(app: App) -> None:
    """A connection reset is a FAILED measurement, not an exception."""
    app.app.faults.add(Fault(kind="reset", path="/health"))
    assert app.http().measure(Version("v2")).status is MeasurementStatus.FAILED


def test_hanging_prometheus_is_inconclusive_within_its_timeout(app: App) -> None:
    """A Prometheus that never answers gives no data, after about the timeout."""
    app.app.faults.add(Fault(kind="hang", path="/api/v1/query", delay=2.0))
    started = time.monotonic()
    m = app.prometheus(timeout=0.3).measure(Version("v2"))
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert time.monotonic() - started < 1.5


def test_proxy_error_page_is_inconclusive(app: App) -> None:
    """A 503 text page in front of Prometheus is inconclusive."""
    app.app.faults.add(Fault(kind="status", path="/api/v1/query", status=503))
    m = app.prometheus().measure(Version("v2"))
    assert m.status is MeasurementStatus.INCONCLUSIVE and "not JSON" in m.message
