"""ship's real Heroku adapter against the stand-in, over real HTTP.

These prove the stand-in speaks the Platform API well enough for the adapter that runs
against production: a deploy, a failed build, a failed release phase, a rollback, and
the status gate in both of its shapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import Verdict, Version
from shipper.heroku.api import HerokuApi as HerokuClient
from shipper.heroku.auth import Token
from shipper.heroku.platform import HerokuArtifact, HerokuPlatform
from shipper.heroku.poll import PollSettings
from shipper.heroku.status_gate import HerokuStatusGate
from shipper.sandbox.heroku_api import HerokuApi
from shipper.sandbox.heroku_world import HerokuWorld, Timings
from shipper.sandbox.status_page import StatusPage
from shipper.sandbox.web import Served, serve
from tests.fakes.operation import RecordingOperation
from tests.narrow import present

TOKEN = "adapter-test-token"
APPS = ("shop-web", "shop-worker")
FAST = Timings(build=0.15, release_phase=0.1, stream_start=0.0, dyno_boot=0.05)


@dataclass
class Side:
    platform: HerokuPlatform
    world: HerokuWorld
    served: Served

    def op(self, version: str) -> RecordingOperation:
        return RecordingOperation(version=Version(version), clock=SystemClock(), budget=30)

    def running(self) -> set[str | None]:
        return {self.world.running_version(app) for app in APPS}


@pytest.fixture
def heroku() -> Iterator[Side]:
    world = HerokuWorld(APPS, timings=FAST)
    served = serve("heroku-adapter-test", HerokuApi(world, TOKEN))
    client = HerokuClient(
        httpx.Client(base_url=served.url, timeout=5), Token(TOKEN, "test"), clock=SystemClock()
    )
    artifact = HerokuArtifact(type="source", url=f"{served.url}/artifacts/{{version}}.tar.gz")
    platform = HerokuPlatform(
        client, APPS, artifact, poll=PollSettings(first=0.05, growth=1.5, longest=0.2)
    )
    yield Side(platform, world, served)
    served.close()


def test_snapshot_labels_a_brownfield_app_with_its_sha(heroku: Side) -> None:
    """A fresh stand-in's apps came by a promotion and by `git push`, with config-var and
    add-on releases since: the snapshot labels the promoted one with its slug's commit
    (no release says it) and the pushed one with the short SHA its `Deploy 1a2b3c4d`
    release says, and records the slug as the identity of each."""
    states = heroku.platform.snapshot()
    said = {"shop-web": 40, "shop-worker": 8}  # promoted, pushed (heroku_estate.seed_app)
    for state in states:
        app = heroku.world.apps[state.target.name]
        slug = heroku.world.slugs[present(heroku.world.current(app)).slug_id or ""]
        assert state.version == (slug.commit or "")[: said[state.target.name]]
        assert state.version is not None and len(state.version) == said[state.target.name]
        assert state.identity == f"slug:{slug.id}"


def test_deploy_brings_every_app_to_the_version(heroku: Side) -> None:
    """A source deploy ends SUCCEEDED on both apps, which then run v2."""
    results = heroku.platform.deploy(Version("v2"), heroku.op("v2"))
    assert {r.verdict for r in results} == {Verdict.SUCCEEDED}
    assert heroku.running() == {"v2"}


def test_deploy_builds_once_per_app(heroku: Side) -> None:
    """One deploy makes exactly one build per app, and a repeat makes none."""
    heroku.platform.deploy(Version("v2"), heroku.op("v2"))
    heroku.platform.deploy(Version("v2"), heroku.op("v2"))
    assert heroku.world.summary()["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}


def test_snapshot_after_deploy_reads_the_new_version(heroku: Side) -> None:
    """After a deploy, the adapter reads the version label back from the stand-in."""
    heroku.platform.deploy(Version("v2"), heroku.op("v2"))
    assert {s.version for s in heroku.platform.snapshot()} == {"v2"}


def test_badbuild_is_a_failed_result(heroku: Side) -> None:
    """A failed build comes back as FAILED results and nothing changes."""
    results = heroku.platform.deploy(Version("v2-badbuild"), heroku.op("v2-badbuild"))
    assert {r.verdict for r in results} == {Verdict.FAILED}
    assert heroku.running() == {"v1"}


def test_badrelease_is_a_failed_result(heroku: Side) -> None:
    """A failed release phase comes back as FAILED results and v1 stays live."""
    results = heroku.platform.deploy(Version("v2-badrelease"), heroku.op("v2-badrelease"))
    assert {r.verdict for r in results} == {Verdict.FAILED}
    assert heroku.running() == {"v1"}


def test_roll_back_restores_the_snapshot(heroku: Side) -> None:
    """Rolling back to the snapshot taken before a deploy puts v1 back on both apps."""
    before = heroku.platform.snapshot()
    heroku.platform.deploy(Version("v2"), heroku.op("v2"))
    results = heroku.platform.roll_back(before, heroku.op("v1"))
    assert {r.verdict for r in results} == {Verdict.SUCCEEDED}
    assert heroku.running() == {"v1"}
    assert heroku.world.summary()["received"]["rollbacks"] == {
        "shop-web@v1": 1,
        "shop-worker@v1": 1,
    }


def test_health_fails_on_crashed_dynos(heroku: Side) -> None:
    """The adapter's health check sees the stand-in's crashed dynos."""
    results = heroku.platform.deploy(Version("v2-crashdyno"), heroku.op("v2-crashdyno"))
    time.sleep(0.1)  # past the dynos' boot
    reached = [r.state for r in results if r.state]
    assert heroku.platform.health(reached).status.value == "failed"


@pytest.mark.parametrize("path", ["/api/v4/current-status", "/v1"])
@pytest.mark.parametrize(("colour", "is_open"), [("green", True), ("yellow", False)])
def test_status_gate_reads_both_shapes(path: str, colour: str, is_open: bool) -> None:
    """The real gate opens on green and closes on yellow, in the v4 and the Trust shape."""
    page = StatusPage()
    page.set(colour, ("Apps",))
    served = serve("status-gate-test", page)
    try:
        gate = HerokuStatusGate(
            f"{served.url}{path}", ("Apps", "Tools"), httpx.Client(timeout=5), timeout=5
        )
        assert gate.read().is_open is is_open
    finally:
        served.close()


def test_slug_deploy_builds_once_and_releases_the_slug_elsewhere(heroku: Side) -> None:
    """With artifact type slug, one build on the first app and one slug release on the other."""
    url = f"{heroku.served.url}/artifacts/{{version}}.tar.gz"
    platform = HerokuPlatform(
        heroku.platform.api,
        APPS,
        HerokuArtifact(type="slug", url=url),
        poll=PollSettings(first=0.05, growth=1.5, longest=0.2),
    )
    results = platform.deploy(Version("v2"), heroku.op("v2"))
    assert {r.verdict for r in results} == {Verdict.SUCCEEDED}
    received = heroku.world.summary()["received"]
    assert received["builds"] == {"shop-web@v2": 1}
    assert received["releases"] == {"shop-worker@v2": 1}
    assert heroku.running() == {"v2"}
