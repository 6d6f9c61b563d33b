"""Apps ship did not make: what runs is read off Heroku's own history, and verified by
Heroku's ids (release and slug), never by a label.

Every history here is one a real app has before ship first meets it: `git push` builds
of SHAs, config-var and add-on releases, Pipeline promotions, `heroku rollback`, and
histories longer than any list window ship reads.
"""

from __future__ import annotations

from shipper.core.model import MeasurementStatus, Verdict, Version
from shipper.heroku.api import HerokuApi
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import platform
from tests.heroku.fake_heroku import FakeHeroku

APP = "acme-web"
SHA_A = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
SHA_B = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c"


def snapshot_of(api: HerokuApi) -> tuple[str | None, str | None, str]:
    [state] = platform(api, apps=[APP]).snapshot()
    return state.version, state.identity, state.message


def test_a_git_push_reads_as_its_deploy_description(heroku: FakeHeroku, api: HerokuApi) -> None:
    """`git push`: the release says `Deploy 1a2b3c4d`, which labels it with no further
    call (its slug's commit, the full SHA, is not read); the slug is still the identity."""
    pushed = heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    version, identity, message = snapshot_of(api)
    assert (version, identity, message) == (SHA_A[:8], f"slug:{pushed['slug']['id']}", "")
    assert heroku.calls("GET", r"/slugs/") == []


def test_config_and_addon_releases_read_as_the_slug_before_them(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """A config-var or add-on release re-releases the same slug: same label, same id."""
    pushed = heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    heroku.release_config(APP, "Attach HEROKU_POSTGRESQL_AMBER (@ref:postgresql-1)")
    heroku.release_config(APP, "Set REDIS_URL config vars")
    version, identity, _ = snapshot_of(api)
    assert (version, identity) == (SHA_A[:8], f"slug:{pushed['slug']['id']}")


def test_a_promotion_reads_as_the_promoted_slug_commit(heroku: FakeHeroku, api: HerokuApi) -> None:
    """A Pipeline promotion copies a slug built on another app: no build here, the
    description is not ship's, the slug's commit labels it."""
    heroku.seed_release(
        APP,
        SHA_B,
        by_build=False,
        description=f"Promote acme-staging v12 {SHA_B[:8]}",
    )
    assert snapshot_of(api)[0] == SHA_B


def test_a_heroku_cli_rollback_reads_as_what_it_went_back_to(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """`heroku rollback`: the slug (and so the label) of the release it went back to."""
    first = heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    heroku.seed_release(APP, SHA_B, description=f"Deploy {SHA_B[:8]}")
    heroku.cli_rollback(APP, first["version"])
    version, identity, _ = snapshot_of(api)
    assert (version, identity) == (SHA_A[:8], f"slug:{first['slug']['id']}")


def test_a_slug_without_commit_reads_from_the_build_that_made_it(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """A slug that records no commit, released under a description that names nothing
    (another tool's): the build that made it names the version."""
    heroku.seed_release(APP, "v50", commit=None, description="Released by deploy-bot")
    assert snapshot_of(api)[0] == "v50"


def test_a_deploy_description_names_the_commit_when_nothing_else_does(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """No slug commit, no build: `Deploy 1a2b3c4d` gives the short SHA."""
    heroku.seed_release(APP, "x", by_build=False, commit=None, description="Deploy 1a2b3c4d")
    assert snapshot_of(api)[0] == "1a2b3c4d"


def test_a_rollback_chain_deeper_than_any_window_is_followed(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """A rollback to a release far older than the newest ten (or twenty) is read by its
    number: no list window limits what ship can tell."""
    old = heroku.seed_release(APP, "x", by_build=False, commit=None, description="Deploy 0badc0de")
    for n in range(40):
        heroku.release_config(APP, f"Set FLAG_{n} config vars")
    heroku.apps[APP].releases[-1]["slug"] = {"id": heroku.new_slug(None)}  # another slug
    heroku.cli_rollback(APP, old["version"])
    version, identity, _ = snapshot_of(api)
    assert (version, identity) == ("0badc0de", f"slug:{old['slug']['id']}")
    assert heroku.calls("GET", rf"^/apps/{APP}/releases/{old['version']}$")


def test_an_unreadable_label_is_said_plainly_and_fails_nothing(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """Nothing names the version: the label is None, the message names the release and
    the slug, and health against that very state still passes (no label is compared)."""
    seeded = heroku.seed_release(
        APP, "x", by_build=False, commit=None, description="Set FOO config vars"
    )
    side = platform(api, apps=[APP])
    [state] = side.snapshot()
    assert state.version is None
    assert state.message == (
        f"release v{seeded['version']} (slug {seeded['slug']['id']}) carries no version "
        "ship can read"
    )
    assert side.health([state]).status is MeasurementStatus.SUCCESSFUL


def test_a_slug_is_read_once_per_run(heroku: FakeHeroku, api: HerokuApi) -> None:
    """A slug never changes: two snapshots read it once (a promotion: no description
    labels it, so the slug's commit does)."""
    heroku.seed_release(APP, SHA_A, description=f"Promote acme-staging v12 {SHA_A[:8]}")
    side = platform(api, apps=[APP])
    side.snapshot()
    side.snapshot()
    assert len(heroku.calls("GET", r"/slugs/")) == 1


def test_rollback_of_a_brownfield_app_is_verified_by_release_and_slug(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """After a deploy over a `git push` history with config releases, the rollback puts
    the recorded release's slug back, and health against the snapshot passes although
    the current release is a new one whose label nobody wrote."""
    heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    heroku.release_config(APP, "Set REDIS_URL config vars")
    side = platform(api, apps=[APP])
    before = side.snapshot()
    [deployed] = side.deploy(Version("v42"), op)
    assert deployed.ok and deployed.state is not None
    assert side.health(before).status is MeasurementStatus.FAILED
    assert side.health([deployed.state]).status is MeasurementStatus.SUCCESSFUL
    [back] = side.roll_back(before, op)
    assert back.verdict is Verdict.SUCCEEDED, back.message
    assert back.state is not None and back.state.runs_same_code(before[0])
    assert (
        heroku.current(APP)["description"] == f"Rollback to v{before[0].detail['release_version']}"
    )
    assert side.health(before).status is MeasurementStatus.SUCCESSFUL


def test_a_heroku_cli_rollback_to_the_recorded_release_also_counts_as_back(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Someone ran `heroku rollback` by hand to the recorded release: that is back."""
    heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    side = platform(api, apps=[APP])
    before = side.snapshot()
    side.deploy(Version("v42"), op)
    heroku.cli_rollback(APP, int(str(before[0].detail["release_version"])))
    assert side.health(before).status is MeasurementStatus.SUCCESSFUL


def test_a_config_change_after_the_snapshot_is_not_called_back(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """Same slug, but a newer release that is no rollback to the recorded one (someone
    changed a config var): health against the snapshot names what runs instead."""
    heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    side = platform(api, apps=[APP])
    before = side.snapshot()
    changed = heroku.release_config(APP, "Set FOO config vars")
    measurement = side.health(before)
    assert measurement.status is MeasurementStatus.FAILED
    assert f"release v{changed['version']}" in measurement.message


def test_a_version_named_by_its_sha_already_runs(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A deploy of the tag whose commit the running slug carries builds nothing: the
    requested version resolved to that SHA (`op.commit`)."""
    heroku.seed_release(APP, SHA_A, description=f"Deploy {SHA_A[:8]}")
    tagged = RecordingOperation(version=Version("v7"), commit=SHA_A, clock=op.clock)
    [result] = platform(api, apps=[APP]).deploy(Version("v7"), tagged)
    assert result.verdict is Verdict.SUCCEEDED
    assert heroku.calls("POST", r"/builds$") == []
    assert tagged.intents == []


def test_a_deploy_waits_out_preboot_before_calling_the_app_done(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """With preboot on, the old release's web dynos serve for a while after the new one
    is current: the deploy says so and returns only once they are gone, so the bake that
    follows measures the new code alone."""
    heroku.apps[APP].preboot = True
    [result] = platform(api, apps=[APP]).deploy(Version("v42"), op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    said = [m for _, status, m in op.updates if status == "preboot"]
    assert said and "still serve" in said[0]
    assert {d["release"]["version"] for d in heroku.apps[APP].dynos} == {
        heroku.current(APP)["version"]
    }


def test_without_preboot_a_deploy_does_not_wait_for_old_dynos(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """Preboot off: no preboot wait; one dyno list, which shows no older web dyno
    serving, answers it (the feature itself is not read)."""
    heroku.hold_streams = True  # as Heroku's: open while the command runs
    [result] = platform(api, apps=[APP]).deploy(Version("v42"), op)
    assert result.verdict is Verdict.SUCCEEDED
    assert not [u for u in op.updates if u[1] == "preboot"]
    assert heroku.calls("GET", rf"^/apps/{APP}/features") == []
    assert len(heroku.calls("GET", rf"^/apps/{APP}/dynos$")) == 1


def test_health_judges_the_newest_release_the_dynos_run(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """While preboot's old web dyno still serves beside the new one, the newest release
    the dynos run is what counts; a crash of the old one is not the new code's."""
    heroku.seed_release(APP, SHA_A)
    heroku.apps[APP].preboot = True
    heroku.preboot_seconds = 10_000.0  # the old dyno outlives the whole test
    side = platform(api, apps=[APP])
    tagged = RecordingOperation(version=Version("v42"), clock=op.clock, budget=300.0)
    [result] = side.deploy(Version("v42"), tagged)  # times out waiting for preboot
    assert result.state is not None
    old = next(d for d in heroku.apps[APP].dynos if d["release"]["version"] < 3)
    old["state"] = "crashed"
    assert side.health([result.state]).status is MeasurementStatus.SUCCESSFUL


def test_an_app_scaled_to_zero_is_judged_by_its_releases(
    heroku: FakeHeroku, api: HerokuApi
) -> None:
    """No dynos to ask: the current release decides, as before."""
    heroku.seed_release(APP, SHA_A)
    side = platform(api, apps=[APP])
    before = side.snapshot()
    heroku.apps[APP].dynos = []
    assert side.health(before).status is MeasurementStatus.SUCCESSFUL
    heroku.release_config(APP, "Set FOO config vars")
    heroku.apps[APP].dynos = []
    assert side.health(before).status is MeasurementStatus.FAILED
