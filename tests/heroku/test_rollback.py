"""Snapshots, rollbacks to them, health during the bake, and the by-hand command."""

from __future__ import annotations

import json

import httpx

from shipper.core.model import MeasurementStatus, Verdict, Version
from shipper.heroku.api import HerokuApi
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import APPS, Leaks, platform
from tests.heroku.fake_heroku import FakeHeroku

V41 = Version("v41")
V42 = Version("v42")


def test_snapshot_records_what_rollback_needs(heroku: FakeHeroku, api: HerokuApi) -> None:
    """A snapshot holds each app's current release id, number, slug and version label."""
    states = platform(api).snapshot()
    for state in states:
        current = heroku.current(state.target.name)
        assert state.version == V41
        assert state.detail["release_id"] == current["id"]
        assert state.detail["release_version"] == current["version"]
        assert state.detail["slug_id"] == current["slug"]["id"]
        assert state.detail["label"] == "v41"


def test_snapshot_reads_the_label_through_a_rollback_release(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A Heroku rollback release carries the label of the release it went back to."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    side.roll_back(before, op)
    fresh = platform(api, apps=["acme-web"]).snapshot()
    assert heroku.current("acme-web")["description"].startswith("Rollback to v")
    assert fresh[0].version == V41


def test_snapshot_of_an_unlabelled_release_has_no_version(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """A release ship cannot trace to a version (its slug records no commit, no build
    made it, its description names none) reads as None, never as a guess; its identity,
    the slug, is still known."""
    seeded = heroku.seed_release(
        "acme-web", "v43", by_build=False, commit=None, description="Set FOO config vars"
    )
    state = platform(api, apps=["acme-web"]).snapshot()[0]
    assert state.version is None
    assert state.identity == f"slug:{seeded['slug']['id']}"
    assert "carries no version ship can read" in state.message


def test_rollback_returns_every_app_to_the_recorded_release(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, leaks: Leaks
) -> None:
    """Rollback posts {"release": <recorded id>} per app and ends with v41's slug live."""
    side = platform(api)
    before = side.snapshot()
    side.deploy(V42, op)
    results = side.roll_back(before, op)
    leaks.add(*results)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3
    for state in before:
        posts = heroku.calls("POST", f"^/apps/{state.target.name}/releases$")
        assert [json.loads(p.content) for p in posts] == [{"release": state.detail["release_id"]}]
        assert heroku.current(state.target.name)["slug"]["id"] == state.detail["slug_id"]
    assert [r.state.version for r in results if r.state] == [V41] * 3
    assert [a for _, a, _ in op.intents].count("roll back") == 3


def test_rollback_twice_posts_once(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A rollback repeated after it finished sees the app is back and posts nothing."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    side.roll_back(before, op)
    again = side.roll_back(before, op)
    assert again[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.calls("POST", "/releases$")) == 1


def test_rollback_of_an_app_already_on_the_snapshot_is_a_no_op(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """An app whose deploy never started is reported back without any call that changes it."""
    side = platform(api)
    before = side.snapshot()
    results = side.roll_back(before, op)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3
    assert heroku.calls("POST", ".") == [] and op.intents == []


def test_rollback_reports_which_apps_are_back(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A rollback whose release phase fails on one app says which apps are back and which not."""
    side = platform(api)
    before = side.snapshot()
    side.deploy(V42, op)
    heroku.release_outcome["acme-worker"] = "failed"
    results = {r.target.name: r for r in side.roll_back(before, op)}
    assert results["acme-worker"].verdict is Verdict.FAILED
    assert results["acme-web"].verdict is results["acme-admin"].verdict is Verdict.SUCCEEDED


def test_timed_out_rollback_post_is_adopted(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A rollback POST that times out after Heroku acted is found, not sent again."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)

    def made_then_timed_out(request: httpx.Request) -> httpx.Response:
        heroku._route(request)
        raise httpx.ReadTimeout("read timed out", request=request)

    heroku.fail("POST", "^/apps/acme-web/releases$", made_then_timed_out)
    results = side.roll_back(before, op)
    assert results[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.calls("POST", "/releases$")) == 1


def test_manual_steps_name_the_heroku_cli_rollback(heroku: FakeHeroku, api: HerokuApi) -> None:
    """The by-hand command is `heroku rollback vN --app APP` for the recorded release."""
    state = platform(api, apps=["acme-web"]).snapshot()[0]
    version = state.detail["release_version"]
    assert platform(api).manual_steps(state) == f"heroku rollback v{version} --app acme-web"


def test_health_is_successful_when_every_app_runs_the_version(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """After a deploy, health reads every app current on v42 with no crashed dyno."""
    side = platform(api)
    reached = [r.state for r in side.deploy(V42, op) if r.state]
    measurement = side.health(reached)
    assert measurement.status is MeasurementStatus.SUCCESSFUL
    assert measurement.value == f"{len(APPS)}/{len(APPS)} apps healthy on the expected release"


def test_health_fails_on_a_crashed_dyno(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A crashed dyno of the current release fails the health measurement, naming it."""
    side = platform(api)
    reached = [r.state for r in side.deploy(V42, op) if r.state]
    heroku.apps["acme-worker"].dynos[0]["state"] = "crashed"
    measurement = side.health(reached)
    assert measurement.status is MeasurementStatus.FAILED
    assert "acme-worker has crashed dynos: web.1" in measurement.message


def test_health_fails_when_an_app_runs_another_release(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """An app whose current release is not the expected one (nor a rollback to it) fails
    health, naming the release and slug it runs instead."""
    side = platform(api)
    before = side.snapshot()
    side.deploy(V42, op)
    measurement = side.health(before)
    assert measurement.status is MeasurementStatus.FAILED
    assert "acme-web runs v42 (release v2, slug" in measurement.message
    assert "not release v1 (v41)" in measurement.message


def test_health_is_inconclusive_when_heroku_cannot_be_read(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """An unreachable API makes health INCONCLUSIVE, not FAILED."""
    side = platform(api)
    before = side.snapshot()
    heroku.fail("GET", "/dynos$", *[httpx.ConnectError("down") for _ in range(40)])
    assert side.health(before).status is MeasurementStatus.INCONCLUSIVE


def test_rollback_cancels_a_pending_build_so_it_cannot_release_later(
    heroku: FakeHeroku, api: HerokuApi, clock: FakeClock
) -> None:
    """A build left pending by a stopped deploy is cancelled (after an intent) by the
    rollback, so it never makes the rolled-back version current again."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    stopped = RecordingOperation(version=V42, clock=clock, cancel_after_intents=1)
    side.deploy(V42, stopped)
    pending = [b["id"] for b in heroku.builds_of("acme-web", "v42") if b["status"] == "pending"]
    assert pending
    op = RecordingOperation(version=V41, clock=clock)
    results = side.roll_back(before, op)
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED]
    assert heroku.cancelled == pending
    assert ("heroku:acme-web", "cancel build") in [(t, a) for t, a, _ in op.intents]
    clock.advance(3600)
    assert platform(api, apps=["acme-web"]).snapshot()[0].version == V41


def test_a_health_measurement_is_one_call_per_app(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The dyno list names each dyno's release: one call per app per measurement. A
    release other than the expected one (a rollback release) is read once, and not at
    all by the process that just followed it to live."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    side.roll_back(before, op)
    heroku.requests.clear()
    for _ in range(3):
        assert side.health(before).status is MeasurementStatus.SUCCESSFUL
    assert [r.url.path for r in heroku.requests] == ["/apps/acme-web/dynos"] * 3
    heroku.requests.clear()
    other = platform(api, apps=["acme-web"])  # another process: knows no release yet
    for _ in range(3):
        assert other.health(before).status is MeasurementStatus.SUCCESSFUL
    paths = [r.url.path for r in heroku.requests]
    assert paths.count("/apps/acme-web/dynos") == 3
    assert len(paths) == 4  # the rollback release, read once


def test_rollback_waits_for_a_stopped_deploys_release_phase_then_rolls_back(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A deploy stopped after its build leaves v42's release in release phase, not yet
    current. The rollback does not call the app "already back on v41": that release would
    go live right after. It waits for it, then rolls back: v41 is what stays."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    app = heroku.apps["acme-web"]
    pending = heroku._new_release(app, "slug-of-v42", "Deploy v42")
    assert pending["status"] == "pending"
    [result] = side.roll_back(before, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert heroku.current("acme-web")["slug"]["id"] == before[0].detail["slug_id"]
    [post] = heroku.calls("POST", r"^/apps/acme-web/releases$")
    assert json.loads(post.content) == {"release": before[0].detail["release_id"]}
    assert any("finish its release phase" in message for _, _, message in op.updates)


def test_rollback_waits_only_so_long_for_a_stuck_release_phase(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, clock: FakeClock
) -> None:
    """Another version's release phase that never ends is waited on for a bounded time,
    then the rollback goes on (and says so): a stuck release command does not hold it."""
    from shipper.heroku.rollback import FOREIGN_RELEASE_WAIT

    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    heroku.release_seconds = 10_000.0
    heroku._new_release(heroku.apps["acme-web"], "slug-of-v42", "Deploy v42")
    started = clock.monotonic()
    [result] = side.roll_back(before, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert FOREIGN_RELEASE_WAIT <= clock.monotonic() - started < FOREIGN_RELEASE_WAIT + 30
    assert any("still in release phase" in message for _, _, message in op.updates)


def test_a_rollback_reads_builds_and_releases_together_before_posting(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A rollback that does not know what is live (here: in another process than the
    deploy, as `ship rollback` or a resumed release runs) reads builds (for pending ones
    to cancel) and releases once each, in flight together (the builds read waits here for
    the releases read to be asked), then POSTs."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    heroku.requests.clear()
    overlapped = heroku.expect_together(r"^/apps/acme-web/builds$", r"^/apps/acme-web/releases$")
    [result] = platform(api, apps=["acme-web"]).roll_back(before, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert overlapped == [True]
    upto = next(i for i, r in enumerate(heroku.requests) if r.method == "POST")
    reads = [r.url.path for r in heroku.requests[:upto] if r.method == "GET"]
    assert sorted(reads) == ["/apps/acme-web/builds", "/apps/acme-web/releases"]


def test_snapshot_names_the_release_for_display(heroku: FakeHeroku, api: HerokuApi) -> None:
    """Each app's state carries Heroku's own release number as people read it (`v12`)."""
    for state in platform(api).snapshot():
        assert state.revision == f"v{heroku.current(state.target.name)['version']}"


def test_the_first_rollback_after_this_process_deploy_posts_before_any_read(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The deploy followed its release to the end, current, its build finished: nothing
    else can be under way, so the rollback's first call is its POST, written ahead."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    heroku.requests.clear()
    [result] = side.roll_back(before, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    first = heroku.requests[0]
    assert (first.method, first.url.path) == ("POST", "/apps/acme-web/releases")
    assert json.loads(first.content) == {"release": before[0].detail["release_id"]}
    assert op.intents[-1][1] == "roll back"


def test_a_second_rollback_in_the_same_process_reads_first(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Only the first rollback after the deploy skips the reads: a second one (a retry)
    finds the app already back and posts nothing."""
    side = platform(api, apps=["acme-web"])
    before = side.snapshot()
    side.deploy(V42, op)
    side.roll_back(before, op)
    heroku.requests.clear()
    [result] = side.roll_back(before, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert "already back" in result.message
    assert [r.method for r in heroku.requests if r.method != "GET"] == []
