"""The Heroku call budget of one release, held to the exact calls made, in order.

ship's real adapter against the stand-in over real HTTP, as in production: the stand-in
keeps every Platform API call it answered (`HerokuApi.journal`). Per app, a release costs
the snapshot's releases list (and, only when no listed release says the label, the slug's
commit once: the promoted app; the pushed one's `Deploy 1a2b3c4d` says it), the builds list
(so a build under way is adopted, never made twice; the snapshot reads it instead
when told of the deploy), the build's POST, the build at its
end, its release as the build left it, and once release phase's stream has ended one
dyno list (a dyno on the release proves it live, and no older web dyno serves: the bake
measures the new code alone). A bake measurement is one dyno list. The first rollback
after the deploy is its POST, then the rollback release at its end. A change that adds a
call fails here first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import MeasurementStatus, TargetState, Verdict, Version
from shipper.heroku.api import HerokuApi as HerokuClient
from shipper.heroku.auth import Token
from shipper.heroku.platform import HerokuArtifact, HerokuPlatform
from shipper.sandbox.heroku_api import HerokuApi
from shipper.sandbox.heroku_world import HerokuWorld, Timings
from shipper.sandbox.web import Served, serve
from tests.fakes.operation import RecordingOperation

TOKEN = "call-budget-test-token"
APPS = ("shop-web", "shop-worker")
# release phase outlasts the read that follows the build, so that read finds it running;
# no preboot overlap, so the wait for old web dynos is one look (its polling is timed by
# the platform, not by ship)
TIMINGS = Timings(build=0.3, release_phase=0.6, stream_start=0.0, dyno_boot=0.0, preboot=0.0)
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# shop-web's version came by a promotion: no listed release says its label, the slug does;
# shop-worker's by `git push`: its "Deploy 1a2b3c4d" release says it (heroku_estate.seed_app)
SNAPSHOT = {
    "shop-web": ["GET releases 200", "GET slugs/{id} 200"],
    "shop-worker": ["GET releases 200"],
}
DEPLOY = [
    "GET builds 200",
    "POST builds 201",
    "GET builds/{id} 200",
    "GET releases/{id} 200",
    "GET dynos 200",
]
MEASUREMENT = ["GET dynos 200"]
ROLLBACK = ["POST releases 201", "GET releases/{id} 200"]


@dataclass
class Stand:
    platform: HerokuPlatform
    api: HerokuApi
    served: Served

    def calls(self, run: Callable[[], None]) -> dict[str, list[str]]:
        """The calls `run()` made, per app, ids as {id}."""
        mark = len(self.api.journal)
        run()
        out: dict[str, list[str]] = {app: [] for app in APPS}
        for entry in self.api.calls_since(mark):
            method, path, status = entry.split(" ")
            _, _, app, rest = path.split("/", 3)
            out[app].append(f"{method} {_ID.sub('{id}', rest)} {status}")
        return out


@pytest.fixture
def stand() -> Iterator[Stand]:
    world = HerokuWorld(APPS, timings=TIMINGS)
    api = HerokuApi(world, TOKEN)
    served = serve("heroku-call-budget", api)
    client = HerokuClient(
        httpx.Client(base_url=served.url, timeout=5), Token(TOKEN, "test"), clock=SystemClock()
    )
    artifact = HerokuArtifact(type="source", url=f"{served.url}/artifacts/{{version}}.tar.gz")
    yield Stand(HerokuPlatform(client, APPS, artifact), api, served)
    served.close()


def _op(version: str) -> RecordingOperation:
    return RecordingOperation(version=Version(version), clock=SystemClock(), budget=30)


def test_a_release_and_its_rollback_make_exactly_these_calls(stand: Stand) -> None:
    """Per app: snapshot 1 (2 where only the slug says the label), deploy 5, each bake
    measurement 1, and a rollback that posts first; nothing more."""
    side = stand.platform
    before: list[TargetState] = []
    reached: list[TargetState] = []

    def snapshot() -> None:
        before.extend(side.snapshot())

    def deploy() -> None:
        results = side.deploy(Version("v2"), _op("v2"))
        assert {r.verdict for r in results} == {Verdict.SUCCEEDED}
        reached.extend(r.state for r in results if r.state is not None)

    def measure_forward() -> None:
        assert side.health(reached).status is MeasurementStatus.SUCCESSFUL

    def roll_back() -> None:
        results = side.roll_back(before, _op("v1"))
        assert {r.verdict for r in results} == {Verdict.SUCCEEDED}

    def measure_back() -> None:
        assert side.health(before).status is MeasurementStatus.SUCCESSFUL

    expected = {
        "snapshot": SNAPSHOT,
        "deploy": dict.fromkeys(APPS, DEPLOY),
        "measure_forward": dict.fromkeys(APPS, MEASUREMENT),
        "roll_back": dict.fromkeys(APPS, ROLLBACK),
        "measure_back": dict.fromkeys(APPS, MEASUREMENT),
    }
    for step in (snapshot, deploy, measure_forward, roll_back, measure_back):
        made = stand.calls(step)
        assert made == expected[step.__name__], step.__name__


def test_a_snapshot_told_of_the_deploy_reads_the_builds_list_for_it(stand: Stand) -> None:
    """Told which version the deploy from it will ship, the snapshot reads each app's
    builds list beside its releases (the same round trip), and the deploy then starts
    with its build's POST: the call moves, none is added."""
    side = stand.platform

    def snapshot() -> None:
        side.snapshot(deploying=Version("v2"))

    def deploy() -> None:
        results = side.deploy(Version("v2"), _op("v2"))
        assert {r.verdict for r in results} == {Verdict.SUCCEEDED}

    read = stand.calls(snapshot)
    assert {app: sorted(calls) for app, calls in read.items()} == {
        app: sorted([*calls, "GET builds 200"]) for app, calls in SNAPSHOT.items()
    }
    assert stand.calls(deploy) == dict.fromkeys(APPS, DEPLOY[1:])
