"""Deploys: source builds on every app, slug reuse, failures and their output tails."""

from __future__ import annotations

import pytest

from shipper.core.model import Verdict, Version
from shipper.errors import Interrupted
from shipper.heroku.api import HerokuApi
from shipper.heroku.platform import HerokuArtifact
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import APPS, Leaks, platform
from tests.heroku.fake_heroku import FakeHeroku

V42 = Version("v42")


def test_source_deploy_builds_and_releases_every_app(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, leaks: Leaks
) -> None:
    """A source deploy over three apps builds v42 once per app and ends with v42 current."""
    results = platform(api).deploy(V42, op)
    leaks.add(*results)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3, [r.message for r in results]
    for app in APPS:
        assert len(heroku.builds_of(app, "v42")) == 1
        assert heroku.current(app)["description"] == "Deploy v42"
    assert {r.state.version for r in results if r.state} == {V42}


def test_deploy_reports_api_calls_spent(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A deploy reports the API calls it spent as the heroku_api_calls metric."""
    platform(api).deploy(V42, op)
    assert op.metrics == [("heroku_api_calls", float(len(heroku.requests)), None)]


def test_every_mutating_call_is_preceded_by_an_intent(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Each build POST is announced with op.intend, naming the app and the version."""
    platform(api).deploy(V42, op)
    posts = heroku.calls("POST", r"/builds$")
    assert len(posts) == len(op.intents) == 3
    assert {(key, action) for key, action, _ in op.intents} == {
        (f"heroku:{app}", "create build") for app in APPS
    }
    assert all(detail and detail["version"] == "v42" for _, _, detail in op.intents)


def test_intent_details_drop_the_signed_query_of_the_source_url(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The source URL in an intent has no query string: pre-signed URLs keep secrets there."""
    platform(api).deploy(V42, op)
    assert all("sig=" not in str(detail) for _, _, detail in op.intents)


def test_slug_deploy_builds_once_and_releases_that_slug_elsewhere(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A slug deploy builds only on the first app and releases the same slug on the others."""
    artifact = HerokuArtifact("slug", url="https://codeload.example.com/{version}.tgz")
    results = platform(api, artifact).deploy(V42, op)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3
    assert len(heroku.builds_of("acme-web", "v42")) == 1
    assert heroku.builds_of("acme-worker", "v42") == heroku.builds_of("acme-admin", "v42") == []
    slug = heroku.builds_of("acme-web", "v42")[0]["slug"]["id"]
    for app in ("acme-worker", "acme-admin"):
        assert heroku.current(app)["slug"]["id"] == slug
        assert heroku.current(app)["description"] == "ship: v42 (release 7)"
    assert [r.state.version for r in results if r.state] == [V42] * 3


def test_slug_deploy_releases_nothing_when_the_build_fails(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """When the one build fails, no other app gets a release and each says why."""
    heroku.build_outcome["acme-web"] = "failed"
    artifact = HerokuArtifact("slug", url="https://codeload.example.com/{version}.tgz")
    results = platform(api, artifact).deploy(V42, op)
    assert [r.verdict for r in results] == [Verdict.FAILED] * 3
    assert heroku.calls("POST", r"/releases$") == []
    assert "the build on acme-web failed" in results[1].message


def test_build_failure_carries_the_build_output_tail(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, leaks: Leaks
) -> None:
    """A failed build is that app's FAILED result, with the end of the build log in it."""
    heroku.build_outcome["acme-worker"] = "failed"
    results = platform(api).deploy(V42, op)
    leaks.add(*results)
    by_app = {r.target.name: r for r in results}
    assert by_app["acme-worker"].verdict is Verdict.FAILED
    assert "ERROR: could not compile" in by_app["acme-worker"].message
    assert by_app["acme-web"].verdict is Verdict.SUCCEEDED


def test_release_phase_failure_fails_that_app_with_the_release_log(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A release command that fails makes that app FAILED with the release output tail."""
    heroku.release_outcome["acme-admin"] = "failed"
    results = platform(api).deploy(V42, op)
    by_app = {r.target.name: r for r in results}
    assert by_app["acme-admin"].verdict is Verdict.FAILED
    assert "release phase" in by_app["acme-admin"].message
    assert "migration failed: relation exists" in by_app["acme-admin"].message
    assert heroku.current("acme-admin")["description"] == "Deploy v41"


def test_stream_that_has_not_started_gives_no_tail(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A build log stream that answers 404 is retried briefly and then left out."""
    heroku.build_outcome["acme-web"] = "failed"
    heroku.build_log = None
    heroku.streams.clear()
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.FAILED
    assert results[0].message.endswith("failed")


def test_deploy_of_a_running_version_changes_nothing(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Deploying the version every app already runs makes no build and no release."""
    for app in APPS:
        heroku.seed_release(app, "v42")
    results = platform(api).deploy(V42, op)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3
    assert heroku.calls("POST", ".") == [] and op.intents == []


def test_second_deploy_after_success_is_a_no_op(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Running the same deploy twice leaves exactly one build per app."""
    side = platform(api)
    side.deploy(V42, op)
    side.deploy(V42, op)
    assert [len(heroku.builds_of(app, "v42")) for app in APPS] == [1, 1, 1]


def test_resumed_deploy_follows_the_build_already_running(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A deploy interrupted mid-build follows that build on resume instead of building again."""
    first = RecordingOperation(version=V42, clock=op.clock, budget=3600.0, cancel_after_intents=1)
    pending = platform(api, apps=["acme-web"]).deploy(V42, first)
    assert [r.verdict for r in pending] == [Verdict.PENDING]
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED]
    assert len(heroku.builds_of("acme-web", "v42")) == 1
    assert op.intents == []


def test_deadline_gives_timed_out(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A build still running at the operation's deadline is TIMED_OUT, not FAILED."""
    op.budget = 20.0
    op.limit = "20s (kubernetes.rollout_timeout)"
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.TIMED_OUT
    # the message names the limit and the pipeline key that sets it
    assert "did not finish within 20s (kubernetes.rollout_timeout)" in results[0].message


def test_old_build_of_the_version_is_released_again_from_its_slug(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """After a rollback, deploying v42 again re-releases its slug instead of rebuilding."""
    heroku.seed_release("acme-web", "v42")
    heroku.seed_release("acme-web", "v43")
    results = platform(api, apps=["acme-web"]).deploy(V42, op)
    assert results[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.builds_of("acme-web", "v42")) == 1
    assert heroku.current("acme-web")["description"] == "ship: v42 (release 7)"


def test_polling_uses_etags_and_grows_its_interval(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """While a build shows nothing new, polls are conditional and further apart: the first
    after 0.5 s, none longer than a quarter of the time waited (or 20 s); a 5-minute build
    costs about 32 looks."""
    heroku.build_seconds = 300.0
    platform(api, apps=["acme-web"]).deploy(V42, op)
    polls = heroku.calls("GET", r"/builds/[^/]+$")
    assert sum(1 for r in polls if r.headers.get("If-None-Match")) >= len(polls) - 1
    clock = op.clock
    assert isinstance(clock, FakeClock)
    waits = clock.sleeps[: len(polls) - 1]
    assert waits[0] == 0.5
    waited = 0.0
    for wait in waits:
        assert wait <= max(0.5, 0.25 * waited) and wait <= 20.0
        waited += wait
    assert waits[-2] == 20.0  # the cap is reached and held
    assert 28 <= len(polls) <= 36


def test_slug_deploy_still_building_is_not_reported_failed(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """When the one build outlives the deadline, the other apps share its TIMED_OUT verdict."""
    op.budget = 20.0
    artifact = HerokuArtifact("slug", url="https://codeload.example.com/{version}.tgz")
    results = platform(api, artifact).deploy(V42, op)
    assert [r.verdict for r in results] == [Verdict.TIMED_OUT] * 3
    assert "did not finish" in results[1].message


def test_snapshot_finds_the_current_release_behind_ten_newer_ones(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """A current release older than the newest ten is still found (one deeper list call)."""
    app = heroku.apps["acme-web"]
    for _ in range(12):
        heroku._new_release(app, None, "Deploy broken", status="failed")
    state = platform(api, apps=["acme-web"]).snapshot()[0]
    assert state.version == "v41"


def test_refused_intent_stops_the_call_and_is_raised(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """When op.intend refuses (interrupted, lock lost), no POST is made and the error is raised."""
    op.cancel()
    with pytest.raises(Interrupted):
        platform(api).deploy(V42, op)
    assert heroku.calls("POST", ".") == []
