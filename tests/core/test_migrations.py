"""Migration releases: first, separate, never repeated, never reversed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shipper.core.model import MeasurementStatus, ReleaseKind, ReleaseState, TargetState, Version
from tests.core.conftest import World


def test_migration_release_comes_first_and_is_its_own_entry(world: World) -> None:
    """A version with migrations gets a migration release before its code release."""
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    kinds = [(r.number, r.kind) for r in reversed(world.ledger.releases())]
    assert kinds == [(1, ReleaseKind.MIGRATION), (2, ReleaseKind.CODE)]
    assert world.release(1).state is ReleaseState.SUCCEEDED


def test_migrations_are_detected_from_git(world: World) -> None:
    """Without flags, a git diff touching migrations.paths means migrations run."""
    world.history.changed[("v1", "v2")] = ["app/models/user.rb", "db/migrate/2026_add_index.rb"]
    outcome = world.deploy("v2", migrations=None)
    assert outcome.exit_code == 0, outcome.message
    assert world.runner.starts == 1


def test_no_migration_files_means_no_migration_release(world: World) -> None:
    """A git diff that touches no migration path ships the code alone."""
    world.history.changed[("v1", "v2")] = ["app/models/user.rb"]
    outcome = world.deploy("v2", migrations=None)
    assert outcome.exit_code == 0
    assert world.runner.starts == 0
    assert [r.kind for r in world.ledger.releases()] == [ReleaseKind.CODE]


def test_failed_migration_stops_before_any_code(world: World) -> None:
    """A failing migration exits 1 and no target changes."""
    world.runner.fail_with = "PG::DuplicateTable"
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 1
    assert "no code was shipped" in outcome.message
    assert world.everywhere("v1") and not world.heroku.deploys
    assert world.release(1).state is ReleaseState.FAILED


def test_migration_that_breaks_the_old_code_is_caught_before_the_code(world: World) -> None:
    """Checks against the old code after migrating stop the release with exit 1."""
    world.checks[0].when = lambda v: MeasurementStatus.FAILED if world.runner.starts else None
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 1
    assert "NOT reversed" in outcome.message
    assert world.everywhere("v1") and not world.kube.deploys


def test_migration_bake_measures_the_old_version(world: World) -> None:
    """During the migration bake, checks are asked about the version still running."""
    world.deploy("v2", migrations=True)
    versions_during_bake = {v for _, v in world.checks[1].measured[:2]}
    assert versions_during_bake == {Version("v1")}


def test_ship_migrate_runs_the_migration_alone(world: World) -> None:
    """`ship migrate V` applies migrations and ships no code."""
    outcome = world.deploy("v2", migrations=True, migrations_only=True)
    assert outcome.exit_code == 0, outcome.message
    assert world.runner.starts == 1
    assert world.everywhere("v1")


def test_deploy_after_migrate_does_not_repeat_the_migration(world: World) -> None:
    """A code release whose migrations were applied earlier goes straight to the code."""
    world.deploy("v2", migrations=True, migrations_only=True)
    world.releaser = None
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    assert world.runner.starts == 1
    assert world.everywhere("v2")


def test_interrupted_migration_resumes_without_a_second_run(world: World) -> None:
    """A deploy interrupted during the migration finishes it without starting another."""
    releaser = world.make()
    world.runner.during = releaser.interrupt
    first = world.deploy("v2", migrations=True)
    assert first.exit_code == 130
    world.runner.during = None
    world.releaser = None
    second = world.deploy("v2", migrations=True)
    assert second.exit_code == 0, second.message
    assert world.runner.starts == 1
    assert world.everywhere("v2")


def test_interrupt_during_the_migration_bake_keeps_the_migration_outcome(world: World) -> None:
    """A stop during the migration bake exits 130 and leaves the applied migration as it was."""
    releaser = world.make()
    calls = 0

    def stop_in_bake(version: Version) -> MeasurementStatus | None:
        nonlocal calls
        calls += 1
        if world.runner.starts and calls == 1:
            releaser.interrupt()
        return None

    world.checks[0].when = stop_in_bake
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 130
    assert "no code was shipped" in outcome.message and "phase done" not in outcome.message
    migration = world.release(1)
    assert migration is not None
    assert (migration.state, migration.exit_code) == (ReleaseState.SUCCEEDED, 0)
    assert world.everywhere("v1")


def _snapshot_times(world: World) -> list[float]:
    """Patch the Heroku side to note the clock at each read of its targets."""
    times: list[float] = []
    plain = world.heroku.snapshot

    def noted(*, deploying: Version | None = None) -> Sequence[TargetState]:
        times.append(world.clock.now().timestamp())
        return plain(deploying=deploying)

    world.heroku.snapshot = noted  # type: ignore[method-assign]  # notes each read of the fake
    return times


def _bake_window(world: World) -> tuple[float, float]:
    started = next(e for e in world.sink.of("phase_started") if e["phase"] == "migration_bake")
    ended = next(e for e in world.sink.of("phase_finished") if e["phase"] == "migration_bake")
    start = datetime.fromisoformat(str(started["time"])).timestamp()
    end = datetime.fromisoformat(str(ended["time"])).timestamp()
    return start, end


def test_a_short_migration_bake_reads_the_code_releases_targets_meanwhile(world: World) -> None:
    """With a bake short enough for its readings to stay fresh, the code release's
    snapshot is read while the old code bakes (nothing changes a target meanwhile) and
    used at once after it: no read between the bake and the first change."""
    from dataclasses import replace

    assert world.policy.migrations is not None
    world.policy = replace(
        world.policy, migrations=replace(world.policy.migrations, bake_seconds=5)
    )
    times = _snapshot_times(world)
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    assert len(times) == 2  # before the migration, and during its bake
    assert world.everywhere("v2")
    start, end = _bake_window(world)
    assert start <= times[1] <= end


def test_a_long_migration_bake_reads_the_targets_again_after_it(world: World) -> None:
    """A bake longer than a reading stays fresh (60 s here): the code release reads its
    targets after the bake, not a minute-old snapshot."""
    times = _snapshot_times(world)
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    assert len(times) == 2
    _, end = _bake_window(world)
    assert times[1] >= end and times[1] - times[0] >= 60.0


def test_a_status_turning_yellow_during_a_short_bake_still_holds_the_code(
    world: World,
) -> None:
    """The targets may be read during a short migration bake, the status gate never: it
    is read after the bake, so yellow by then stops the code release (exit 3)."""
    from dataclasses import replace

    assert world.policy.migrations is not None
    world.policy = replace(
        world.policy, migrations=replace(world.policy.migrations, bake_seconds=5)
    )
    world.gate.script = [True, False]
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 3, outcome.message
    assert world.runner.starts == 1 and world.everywhere("v1")
