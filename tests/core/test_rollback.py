"""`ship rollback` through the core, with fakes at every port."""

from __future__ import annotations

import pytest

from shipper.core.model import (
    MeasurementStatus,
    Phase,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Version,
)
from shipper.errors import BadInput
from tests.core.conftest import World


def test_rollback_after_a_good_deploy_restores_the_snapshot(world: World) -> None:
    """With no argument, both sides go back to what ran before the latest release."""
    world.deploy("v2")
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")
    release = world.release(outcome.release)
    assert release is not None and release.kind is ReleaseKind.ROLLBACK
    assert release.parent == 1


def test_rollback_to_a_release_restores_what_it_deployed(world: World) -> None:
    """--to N returns both sides to the state release N deployed."""
    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    outcome = world.rollback(to=ReleaseNo(1))
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")


def test_rollback_to_an_unknown_release_is_bad_input(world: World) -> None:
    """--to a number the ledger does not have exits 2 and changes nothing."""
    world.deploy("v2")
    with pytest.raises(BadInput, match="no release 9"):
        world.rollback(to=ReleaseNo(9))
    assert world.everywhere("v2")


def test_rollback_with_an_empty_ledger_is_bad_input(world: World) -> None:
    """There is nothing to roll back before the first release."""
    with pytest.raises(BadInput, match="no release to roll back"):
        world.rollback()


def test_rollback_after_a_killed_deploy_restores_and_supersedes_it(world: World) -> None:
    """A deploy killed mid-way is undone by `ship rollback`, which marks it superseded."""
    world.kube.deploy_seconds = 30
    releaser = world.make()
    world.kube.during_deploy = releaser.interrupt
    first = world.deploy("v2")
    assert first.exit_code == 130
    world.releaser = None
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")
    assert world.release(first.release).state is ReleaseState.SUPERSEDED


def test_rollback_verifies_with_one_round_of_checks(world: World) -> None:
    """A rollback acts at once and verifies with a single round, not a whole bake."""
    world.deploy("v2")
    before = len(world.checks[0].measured)
    started = world.clock.monotonic()
    outcome = world.rollback()
    assert outcome.exit_code == 0
    assert len(world.checks[0].measured) - before == 1
    assert world.clock.monotonic() - started < world.policy.verify.interval_seconds


def test_no_verify_skips_the_checks_but_not_the_rollout_health(world: World) -> None:
    """--no-verify measures no configured check after the rollback."""
    world.deploy("v2")
    world.checks[0].default = MeasurementStatus.FAILED
    before = len(world.checks[0].measured)
    outcome = world.rollback(verify=False)
    assert outcome.exit_code == 0, outcome.message
    assert len(world.checks[0].measured) == before


def test_rollback_whose_check_fails_exits_4(world: World) -> None:
    """A rollback that does not bring health back needs a person: exit 4."""
    world.deploy("v2")
    world.checks[1].default = MeasurementStatus.FAILED
    outcome = world.rollback()
    assert outcome.exit_code == 4
    assert "kube-errors" in outcome.message


def test_rollback_that_cannot_restore_a_target_exits_4(world: World) -> None:
    """A target that refuses to go back is named, with the command to finish by hand."""
    world.deploy("v2")
    world.kube.fail_rollback["cronjob/report"] = "422 Unprocessable"
    outcome = world.rollback()
    assert outcome.exit_code == 4
    assert "cronjob/report" in outcome.message and "fake rollback cronjob/report" in outcome.message


def test_rollback_is_not_blocked_by_the_status_gate(world: World) -> None:
    """On-call can roll back during a platform incident: the gate is not consulted."""
    world.deploy("v2")
    world.gate.is_open = False
    outcome = world.rollback()
    assert outcome.exit_code == 0
    assert world.everywhere("v1")


def test_rollback_never_runs_migrations_backwards(world: World) -> None:
    """Rolling back a release with migrations leaves the migration alone."""
    world.deploy("v2", migrations=True)
    starts = world.runner.starts
    outcome = world.rollback()
    assert outcome.exit_code == 0
    assert world.runner.starts == starts
    assert world.release(outcome.release).parent == 2


def test_rollback_skips_a_release_that_was_already_rolled_back(world: World) -> None:
    """After a release ship rolled back itself, `ship rollback` undoes the one before it."""
    world.deploy("v2")
    world.releaser = None
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff"
    assert world.deploy("v3").exit_code == 1
    world.kube.fail_deploy.clear()
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")


def test_rollback_closes_a_release_killed_before_its_snapshot(world: World) -> None:
    """A release killed at the gate (no snapshot, nothing changed) is closed by `ship
    rollback`, which leaves the previous release running instead of undoing it."""
    from dataclasses import replace

    world.deploy("v2")
    good = world.ledger.get(ReleaseNo(1))
    assert good is not None
    world.ledger.create(
        replace(
            good,
            number=ReleaseNo(2),
            version=Version("v3"),
            state=ReleaseState.RUNNING,
            phase=Phase.GATE,
            snapshot=None,
            deployed=None,
            changed=False,
            targets={},
        )
    )
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")
    assert world.release(ReleaseNo(2)).state is ReleaseState.SUPERSEDED


def test_rollback_names_its_target_before_acting(world: World) -> None:
    """The plan (and so the prompt) names the release, its version and the targets' count."""
    from shipper.core.rollback import plan_rollback

    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    plan = plan_rollback(world.ledger, ReleaseNo(1))
    assert plan.question() == (
        "roll back both sides to what release #1 deployed (v2): "
        "heroku 2 apps, kubernetes 3 workloads?"
    )
    assert plan_rollback(world.ledger, None).target_text == "what ran before release #2 (v2)"


def test_rollback_to_a_release_is_recorded_as_going_back_to_it(world: World) -> None:
    """--to N is recorded as "rolled back to release N (version)", never as undoing N."""
    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    world.releaser = None
    outcome = world.rollback(to=ReleaseNo(1))
    assert outcome.exit_code == 0, outcome.message
    release = world.release(outcome.release)
    assert release is not None
    assert release.reason == "rolled back to release 1 (v2)"
    assert outcome.message.startswith("rolled back to release 1 (v2)")
    started = world.sink.of("rollback_started")[-1]
    assert started["to_release"] == 1 and started["undoes"] is None


def test_rollback_to_a_migration_release_is_refused_naming_the_code_release(world: World) -> None:
    """Migrations are never reversed: --to a migration release exits 2 and names the code
    release that shipped that version."""
    world.deploy("v2", migrations=True)  # 1: migration of v2, 2: code v2
    world.releaser = None
    world.deploy("v3")
    with pytest.raises(BadInput, match=r"migrations are never reversed.*--to 2"):
        world.rollback(to=ReleaseNo(1))
    assert world.everywhere("v3")


def test_a_second_rollback_never_ships_the_rolled_back_version_again(world: World) -> None:
    """Right after a rollback, `ship rollback` skips the rollback and the release it undid."""
    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    world.releaser = None
    assert world.rollback().exit_code == 0
    assert world.everywhere("v2")
    world.releaser = None
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")
    assert ("web", "v3") not in world.kube.rollbacks + world.kube.deploys[2:]


def test_rollback_to_what_already_runs_changes_nothing(world: World) -> None:
    """When the target state already runs (by identity), rollback says so and acts on nothing."""
    world.deploy("v2")
    world.releaser = None
    numbers = len(world.ledger.stored)
    outcome = world.rollback(to=ReleaseNo(1))
    assert outcome.exit_code == 0
    assert "already run what release #1 deployed (v2)" in outcome.message
    assert world.kube.rollbacks == [] and world.heroku.rollbacks == []
    assert len(world.ledger.stored) == numbers


def test_already_running_is_decided_by_identity_not_label(world: World) -> None:
    """A target whose label reads as the wanted version while its code differs is rolled back."""
    from dataclasses import replace

    from shipper.core.model import TargetState

    world.deploy("v2")
    world.releaser = None
    original = world.kube._state

    def mislabelled(name: str) -> TargetState:
        state = original(name)
        return replace(state, version=Version("v2")) if state.version == "v9" else state

    world.kube._state = mislabelled  # type: ignore[method-assign]  # a fake whose label lies
    world.kube.running["deployment/web"] = Version("v9")
    outcome = world.rollback(to=ReleaseNo(1))
    assert outcome.exit_code == 0, outcome.message
    assert world.kube.rollbacks == [("deployment/web", "v2")]


def test_a_failed_rollback_is_finished_to_the_same_state(world: World) -> None:
    """`ship rollback` after a rollback that failed returns to what that one was returning
    to, and never to what ran when it started (the bad version)."""
    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    world.releaser = None
    world.heroku.fail_rollback["acme-web"] = "stuck"
    assert world.rollback().exit_code == 4
    world.heroku.fail_rollback.clear()
    world.releaser = None
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")


def test_a_killed_rollback_is_finished_and_closed(world: World) -> None:
    """A rollback whose process died mid-way is finished by the next `ship rollback`,
    which marks it superseded and returns to the same state."""
    from dataclasses import replace

    world.deploy("v2")
    world.releaser = None
    world.deploy("v3")
    world.releaser = None
    world.heroku.fail_rollback["acme-web"] = "stuck"
    first = world.rollback()
    world.heroku.fail_rollback.clear()
    killed = world.release(first.release)
    assert killed is not None
    world.ledger.save(replace(killed, state=ReleaseState.RUNNING, phase=Phase.ROLLBACK))
    world.releaser = None
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")
    assert world.release(first.release).state is ReleaseState.SUPERSEDED


def test_a_forced_rollback_during_a_freeze_puts_the_freeze_back(world: World) -> None:
    """--force-lock over a deploy freeze is for one command: the freeze returns after it,
    with its holder and reason, and the takeover is in the release's events."""
    from tests.fakes.ports import holder

    world.deploy("v2")
    world.releaser = None
    assert world.lock is not None
    world.lock.acquire(holder("carol", None), "Black Friday", None, manual=True)
    outcome = world.rollback(force_lock=True, reason="checkout down")
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")
    frozen = world.lock.show()
    assert frozen is not None and frozen.manual
    assert (frozen.holder.name, frozen.reason) == ("carol", "Black Friday")
    release = world.release(outcome.release)
    assert release is not None and release.reason == "checkout down"
    notices = [n["message"] for n in world.sink.of("notice")]
    assert any("took the lock over from carol" in str(n) for n in notices)
    assert any("freeze by carol" in str(n) and "back in place" in str(n) for n in notices)
