"""Preboot is read only when it can change the connection budget's verdict: an app whose
preboot was not read counts its web dynos doubled (the most preboot can add), and only a
peak that does not fit that way sends ship to read it and judge again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from shipper.core.budget import BudgetPolicy, Concurrency
from shipper.core.estate import Container, DatabaseLimits, Dynos, HerokuApp, Workload
from shipper.core.model import Finding, Severity, Version
from shipper.heroku.api import HerokuApi
from shipper.heroku.auth import Token
from shipper.heroku.estate import read_app, read_preboot
from shipper.preflight.checks import ConnectionsCheck, Estate, Once
from tests.fakes.clock import FakeClock

APP = "acme-web"
# 2 web dynos x 5 threads: 10 connections, 20 while preboot runs the old ones beside them;
# the release phase's one-off dyno adds 1
SPECS = (Concurrency("web", heroku_type="web", heroku_threads=5, kubernetes="deployment/web"),)
PODS = Workload("deployment/web", 2, max_surge=0, hpa_max=4, containers=(Container("web"),))


class Preboot:
    """The estate's preboot reader: answers `on` for every app, and keeps who asked."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.asked: list[list[str]] = []

    def __call__(self, apps: Sequence[str]) -> Mapping[str, bool]:
        self.asked.append(list(apps))
        return dict.fromkeys(apps, self.on)


def judged(allowed: int, preboot: Preboot, workloads: Sequence[Workload] = ()) -> list[Finding]:
    """The budget of one app with its preboot unread, against `allowed` connections."""
    app = HerokuApp(APP, (Dynos(APP, "web", 2, "Standard-1X"),), frozenset(), None)
    estate = Estate(Once(lambda: [app]), Once(lambda: list(workloads)), SPECS, preboot)
    check = ConnectionsCheck(estate, BudgetPolicy(margin=0), lambda: DatabaseLimits(allowed, 0, 0))
    return list(check.run(Version("v2")))


def test_a_budget_that_fits_with_web_doubled_reads_no_preboot() -> None:
    """21 (web doubled, as if preboot were on) within 30: the true peak fits too, so
    preboot is not read, and the finding says how the web dynos were counted."""
    preboot = Preboot(on=True)
    [finding] = judged(30, preboot)
    assert finding.severity is Severity.INFO
    assert "up to 21 database connections" in finding.message
    assert "counted doubled as preboot was not read" in finding.message
    assert preboot.asked == []
    assert any("doubled: preboot not read" in row[2] for row in finding.table)


def test_a_budget_that_fits_only_without_preboot_reads_it_and_passes() -> None:
    """21 over 15: preboot is read; it is off, so the peak is 11 and the release fits."""
    preboot = Preboot(on=False)
    [finding] = judged(15, preboot)
    assert preboot.asked == [[APP]]
    assert finding.severity is Severity.INFO
    assert "up to 11 database connections" in finding.message
    assert "not read" not in finding.message


def test_a_budget_over_even_without_preboot_reads_it_and_blocks() -> None:
    """11 over 8 even with preboot off: read, then refused on the true peak."""
    preboot = Preboot(on=False)
    [finding] = judged(8, preboot)
    assert preboot.asked == [[APP]]
    assert finding.severity is Severity.BLOCK
    assert "up to 11 database connections" in finding.message


def test_preboot_read_on_blocks_on_the_doubled_peak_it_confirms() -> None:
    """21 over 15 and preboot is on: the refusal rests on what was read."""
    preboot = Preboot(on=True)
    [finding] = judged(15, preboot)
    assert preboot.asked == [[APP]]
    assert finding.severity is Severity.BLOCK
    assert any("doubled by preboot" in row[2] for row in finding.table)


def test_an_autoscaler_warning_is_never_caused_by_the_assumption() -> None:
    """21 + 2 pods fit in 24, but 21 + 4 pods at the autoscaler's maximum would not:
    preboot is read (off), and 11 + 4 fits, so no WARN."""
    preboot = Preboot(on=False)
    found = judged(24, preboot, [PODS])
    assert preboot.asked == [[APP]]
    assert [f.severity for f in found] == [Severity.INFO]


def test_an_app_is_read_without_its_preboot_and_preboot_on_its_own() -> None:
    """`read_app` leaves preboot unread (no features call); `read_preboot` is that call,
    and an app that does not know the feature has it off."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/formation"):
            return httpx.Response(200, json=[{"type": "web", "quantity": 2, "size": "basic"}])
        if request.url.path.endswith("/config-vars"):
            return httpx.Response(200, json={"WEB_CONCURRENCY": "2"})
        if request.url.path == f"/apps/{APP}/features/preboot":
            return httpx.Response(200, json={"name": "preboot", "enabled": True})
        return httpx.Response(404, json={"id": "not_found", "message": "no such feature"})

    client = httpx.Client(base_url="https://api.heroku.com", transport=httpx.MockTransport(answer))
    api = HerokuApi(client, Token("preboot-test-token", "T"), clock=FakeClock())
    assert read_app(api, APP).preboot is None
    assert not [p for p in asked if "/features/" in p]
    assert read_preboot(api, APP) is True
    assert read_preboot(api, "acme-worker") is False
    assert asked[-2:] == [f"/apps/{APP}/features/preboot", "/apps/acme-worker/features/preboot"]
