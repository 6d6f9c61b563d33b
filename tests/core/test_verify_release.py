"""The verify phase inside whole releases: `shipper.core.run` with fakes at every port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shipper.core.model import (
    MeasurementStatus,
    ReleaseKind,
    ReleaseState,
    TargetResult,
    TargetState,
)
from shipper.ports import Operation
from tests.checks.scripted import ScriptedCheck
from tests.core.conftest import World
from tests.fakes.ports import FakePlatform
from tests.narrow import present

INTERVAL, LIMIT = 15.0, 2  # the World's verify policy


def rollback_times(world: World, platform: FakePlatform) -> list[float]:
    """Record the clock time of each roll_back call on `platform`."""
    times: list[float] = []
    real = platform.roll_back

    def timed(to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        times.append(world.clock.monotonic())
        return real(to, op)

    platform.roll_back = timed  # type: ignore[method-assign]  # the fake's, timed
    return times


def scripted(world: World, **kwargs: Any) -> ScriptedCheck:
    check = ScriptedCheck(clock=world.clock, **kwargs)
    world.checks[:] = [check]  # type: ignore[list-item]  # World types its checks as FakeCheck
    return check


def fails_on(*versions: str) -> Callable[[str], MeasurementStatus | None]:
    return lambda v: MeasurementStatus.FAILED if v in versions else None


def test_detection_latency_to_each_rollback_call_is_bounded(world: World) -> None:
    """From the first failed measurement to the first rollback call on each side takes
    at most interval x failure_limit plus one request timeout."""
    timeout = 10.0
    check = scripted(world, name="p99", script="SSSSSFFF", duration=timeout)
    heroku_calls, kube_calls = (
        rollback_times(world, world.heroku),
        rollback_times(world, world.kube),
    )
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    first_bad = check.started_at(5)
    bound = INTERVAL * LIMIT + timeout
    latencies = [heroku_calls[0] - first_bad, kube_calls[0] - first_bad]
    assert all(latency <= bound for latency in latencies), latencies
    assert world.everywhere("v1")


def test_failing_check_is_recorded_with_side_threshold_and_last_measurements(world: World) -> None:
    """The ledger's check_failed entry names the check, its side, threshold and last readings."""
    world.checks[1].when = fails_on("v2")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    [entry] = [e for e in world.entries(outcome.release) if e.event == "check_failed"]
    assert entry.fields["check"] == "kube-errors"
    assert entry.fields["side"] == "kubernetes"
    assert entry.fields["threshold"] == "error rate < 1%"
    assert entry.fields["last"] == ["failed: 0.5"] * 3


def test_heroku_check_failure_rolls_back_kubernetes_too(world: World) -> None:
    """A check failing on the Heroku side alone restores the Kubernetes side as well."""
    world.checks[0].when = fails_on("v2")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert world.kube.rollbacks and world.heroku.rollbacks
    assert world.everywhere("v1")


def test_kubernetes_check_failure_rolls_back_heroku_too(world: World) -> None:
    """A check failing on the Kubernetes side alone restores the Heroku side as well."""
    world.checks[1].when = fails_on("v2")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert world.heroku.rollbacks and world.kube.rollbacks
    assert world.everywhere("v1")


def test_a_check_result_event_every_interval(world: World) -> None:
    """A passing release emits one check_result per check per interval of the bake."""
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    rounds = int(world.policy.verify.bake_seconds // INTERVAL) + 1
    checks = 2 + len(world.checks)  # each side's own health, plus the configured checks
    assert len(world.sink.of("check_result")) == rounds * checks


def test_check_failing_in_the_rollback_verification_exits_4(world: World) -> None:
    """A check that still fails after both sides were rolled back needs a person: exit 4."""
    world.checks[0].when = fails_on("v2", "v1")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 4
    assert "heroku-http" in outcome.message and "still fails" in outcome.message
    assert world.everywhere("v1")
    release = world.release(outcome.release)
    assert release is not None and release.state is ReleaseState.ROLLBACK_FAILED


def test_rollback_verification_lets_a_restored_side_recover(world: World) -> None:
    """A check failing once right after the rollback, then passing, ends in exit 1, not 4."""
    after_rollback = iter([MeasurementStatus.FAILED])
    world.checks[1].when = lambda v: (
        MeasurementStatus.FAILED if v == "v2" else next(after_rollback, None)
    )
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.everywhere("v1")


def test_ship_rollback_verified_by_the_checks_exits_4_when_they_fail(world: World) -> None:
    """`ship rollback` whose checks fail against the restored version exits 4."""
    assert world.deploy("v2").exit_code == 0
    world.checks[1].when = fails_on("v1")
    outcome = world.rollback()
    assert outcome.exit_code == 4
    assert "kube-errors" in outcome.message
    assert world.everywhere("v1")


def test_migration_breaking_the_running_code_stops_before_any_code_ships(world: World) -> None:
    """A check failing against the old code after migrating exits 1, ships no code, and
    says the migration itself was not reversed."""
    world.checks[1].when = fails_on("v1")
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 1
    assert world.heroku.deploys == [] and world.kube.deploys == []
    assert world.everywhere("v1")
    assert "NOT reversed" in outcome.message and "kube-errors" in outcome.message
    assert world.runner.starts == 1
    kinds = [r.kind for r in world.ledger.releases()]
    assert ReleaseKind.MIGRATION in kinds


def test_migration_bake_measures_the_old_code(world: World) -> None:
    """During the migration bake the checks are asked about the version still running."""
    check = scripted(world)
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    versions = [v for v, _ in check.calls]
    migration_rounds = int(present(world.policy.migrations).bake_seconds // INTERVAL) + 1
    assert set(versions[:migration_rounds]) == {"v1"}
    assert set(versions[migration_rounds:]) == {"v2"}


def test_migration_bake_without_data_stops_the_release(world: World) -> None:
    """Only inconclusive readings after migrating stop the release: no data is never a pass."""
    scripted(world, then="I")
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 1
    assert world.heroku.deploys == [] and world.kube.deploys == []
    assert "no data is not a pass" in outcome.message
