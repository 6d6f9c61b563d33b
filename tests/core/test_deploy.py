"""`ship deploy` through the core, with fakes at every port."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shipper.core.model import MeasurementStatus, ReleaseKind, ReleaseState, TargetState, Version
from shipper.errors import LockHeld, MigrationsUndecided, ReleaseInProgress
from tests.core.conftest import World
from tests.fakes.ports import holder


def test_good_release_ships_the_version_everywhere(world: World) -> None:
    """A release with healthy checks ends with every target on the version and exit 0."""
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")
    release = world.release(outcome.release)
    assert release is not None and release.state is ReleaseState.SUCCEEDED
    assert release.deployed is not None and release.deployed.runs_everywhere(Version("v2"))


def test_snapshot_is_in_the_ledger_before_the_first_change(world: World) -> None:
    """The rollback target is written ahead: the snapshot entry precedes every intent."""
    outcome = world.deploy("v2")
    release = world.release(outcome.release)
    assert release is not None and release.snapshot is not None
    assert {t.version for t in release.snapshot.targets} == {"v1"}
    names = [e.event for e in world.ledger.entries(release.number)]
    assert names.index("snapshot_taken") < names.index("intent")


def test_every_change_is_written_ahead(world: World) -> None:
    """Each target change made by a platform has an intent entry in the ledger."""
    outcome = world.deploy("v2")
    intents = [
        str(e.fields["target"]) for e in world.entries(outcome.release) if e.event == "intent"
    ]
    assert sorted(intents) == sorted(world.versions())


def test_lock_is_released_after_the_release(world: World) -> None:
    """After a deploy, nobody holds the pipeline lock."""
    world.deploy("v2")
    assert world.lock is not None and world.lock.show() is None


@pytest.mark.parametrize(
    ("side", "target"),
    [("heroku", "acme-worker"), ("kube", "deployment/worker")],
)
def test_failed_target_rolls_back_both_sides(world: World, side: str, target: str) -> None:
    """A build, release-phase or rollout failure on either side restores both sides."""
    platform = world.heroku if side == "heroku" else world.kube
    platform.fail_deploy[target] = "release phase failed: exit 1"
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert world.everywhere("v1")
    assert "release phase failed" in outcome.message
    assert world.release(outcome.release).state is ReleaseState.ROLLED_BACK


def test_failure_on_one_side_stops_the_wait_on_the_other(world: World) -> None:
    """Failures are caught early: the other side's rollout wait is cancelled."""
    import threading

    kube_rolling = threading.Event()
    world.heroku.fail_deploy["acme-web"] = "build failed"
    world.heroku.during_deploy = lambda: kube_rolling.wait(timeout=5) and None
    world.kube.during_deploy = kube_rolling.set
    world.kube.block_until_cancelled = True
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert world.kube.cancelled_seen
    assert world.everywhere("v1")


@pytest.mark.parametrize("check", ["heroku-http", "kube-errors"])
def test_failing_check_during_bake_rolls_back_both_sides(world: World, check: str) -> None:
    """A check failing on either side ends the bake and restores both sides."""
    failing = next(c for c in world.checks if c.name == check)
    failing.when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert check in outcome.message
    assert world.everywhere("v1")
    entries = [e.event for e in world.entries(outcome.release)]
    assert "check_failed" in entries


def test_failed_rollback_exits_4_and_says_what_runs_where(world: World) -> None:
    """When a rollback fails, the message names what runs where and the command to finish."""
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff"
    world.heroku.fail_rollback["acme-web"] = "Heroku answered 503"
    outcome = world.deploy("v2")
    assert outcome.exit_code == 4
    assert "heroku:acme-web runs v2" in outcome.message
    assert "fake rollback acme-web --to v1" in outcome.message
    assert world.release(outcome.release).state is ReleaseState.ROLLBACK_FAILED


def test_rollback_that_leaves_a_failing_check_exits_4(world: World) -> None:
    """A rollback whose verification still fails needs a person: exit 4."""
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff"
    world.checks[0].default = MeasurementStatus.FAILED
    outcome = world.deploy("v2")
    assert outcome.exit_code == 4
    assert "still fails" in outcome.message


def test_yellow_status_blocks_with_nothing_changed(world: World) -> None:
    """A closed gate exits 3, changes nothing, and the ledger records the blocked attempt."""
    world.gate.is_open = False
    outcome = world.deploy("v2")
    assert outcome.exit_code == 3
    assert world.everywhere("v1") and not world.heroku.deploys and not world.kube.deploys
    assert world.release(outcome.release).state is ReleaseState.BLOCKED


def test_skipped_gate_is_recorded(world: World) -> None:
    """--skip-status-gate ships on a yellow status and records the reason."""
    world.gate.is_open = False
    outcome = world.deploy("v2", skip_gate_reason="hotfix for INC-12")
    assert outcome.exit_code == 0
    release = world.release(outcome.release)
    assert release is not None and release.gate_override == "hotfix for INC-12"
    assert "gate_skipped" in [e.event for e in world.ledger.entries(release.number)]


def test_gate_turning_yellow_after_migrations_blocks_the_code(world: World) -> None:
    """The gate is checked before each changing phase: yellow after migrating stops there."""
    world.gate.script = [True, False]
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 3
    assert world.runner.starts == 1
    assert world.everywhere("v1")


def test_version_already_everywhere_changes_nothing(world: World) -> None:
    """Deploying what already runs says so, exits 0 and changes nothing."""
    outcome = world.deploy("v1")
    assert outcome.exit_code == 0 and "already runs" in outcome.message
    assert not world.heroku.deploys and not world.ledger.stored


def test_force_redeploys_the_running_version(world: World) -> None:
    """--force runs a release even when the version already runs everywhere."""
    outcome = world.deploy("v1", force=True)
    assert outcome.exit_code == 0
    assert world.release(outcome.release).kind is ReleaseKind.CODE


def test_held_lock_blocks_naming_the_holder(world: World) -> None:
    """A lock held by someone else raises LockHeld (exit 3) naming holder and reason."""
    assert world.lock is not None
    world.lock.alive.add(99)
    world.lock.acquire(holder("ci-1234", 99), "deploy v9", 900)
    with pytest.raises(LockHeld, match=r'ci-1234 \(reason: "deploy v9"') as info:
        world.deploy("v2")
    assert info.value.exit_code == 3
    assert not world.heroku.deploys


def test_lock_wait_waits_for_the_holder(world: World) -> None:
    """--lock-wait waits for a lock held by a CI run, then deploys."""
    assert world.lock is not None
    world.lock.alive.add(99)
    lease = world.lock.acquire(holder("ci-1234", 99), "deploy v9", 900)
    sleeps = 0
    original = world.clock.sleep

    def release_later(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        if sleeps == 3:
            world.lock.release(lease)
        original(seconds)

    world.clock.sleep = release_later  # type: ignore[method-assign]  # frees the lock mid-wait
    outcome = world.deploy("v2", lock_wait_seconds=60)
    assert outcome.exit_code == 0
    assert "lock_waiting" in [e.event.name for e in world.sink.events]


def test_lock_of_a_dead_process_is_taken_over_and_recorded(world: World) -> None:
    """A lock whose holder process died on this host is stale: taken over, with a notice."""
    assert world.lock is not None
    world.lock.acquire(holder("alice@here:4242", 4242), "deploy v9", 900)
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0
    notices = [e for e in world.entries(outcome.release) if e.event == "notice"]
    assert any("no longer exists" in str(n.fields["message"]) for n in notices)


def test_rollback_has_its_own_time_budget(world: World) -> None:
    """A deploy that used its whole rollout budget still gets a full budget to roll back."""
    world.kube.deploy_seconds = 10_000  # never finishes within rollout_timeout (600 s)
    world.kube.rollback_seconds = 150  # 3 targets in turn: 450 s of a fresh 600 s budget
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.everywhere("v1")


def test_interrupt_exits_130_and_records_where(world: World) -> None:
    """SIGINT during the release stops changes, records INTERRUPTED and frees the lock."""
    world.kube.deploy_seconds = 30
    releaser = world.make()
    world.kube.during_deploy = releaser.interrupt
    outcome = world.deploy("v2")
    assert outcome.exit_code == 130
    release = world.release(outcome.release)
    assert release is not None and release.state is ReleaseState.INTERRUPTED
    assert "ship deploy v2" in outcome.message
    assert world.lock is not None and world.lock.show() is None


def test_resume_finishes_without_repeating_changes(world: World) -> None:
    """`ship deploy V` after an interruption continues the same release, repeating nothing."""
    world.kube.deploy_seconds = 30
    releaser = world.make()
    world.kube.during_deploy = releaser.interrupt
    first = world.deploy("v2")
    assert first.exit_code == 130
    done_before = list(world.heroku.deploys) + list(world.kube.deploys)
    world.releaser = None
    second = world.deploy("v2")
    assert second.exit_code == 0, second.message
    assert second.release == first.release
    repeated = [d for d in world.heroku.deploys + world.kube.deploys if done_before.count(d) > 1]
    assert not repeated
    assert len(world.heroku.deploys) == 2 and len(world.kube.deploys) == 3


def test_other_version_while_a_release_is_open_is_refused(world: World) -> None:
    """An open release of another version must be finished or undone first (exit 3)."""
    world.kube.deploy_seconds = 30
    releaser = world.make()
    world.kube.during_deploy = releaser.interrupt
    world.deploy("v2")
    world.releaser = None
    with pytest.raises(ReleaseInProgress, match="ship deploy v2"):
        world.deploy("v3")


def test_taken_over_lock_stops_the_old_process(world: World) -> None:
    """--force-lock fences the old holder: it makes no further change and exits 3."""
    world.kube.deploy_seconds = 30
    assert world.lock is not None

    def steal() -> None:
        world.lock.acquire(holder("bob@oncall:7", 7), "rollback", 900, force=True)

    world.heroku.during_deploy = steal
    outcome = world.deploy("v2")
    assert outcome.exit_code == 3
    assert "lost the lock" in outcome.message
    assert world.heroku.deploys == []  # its first change was refused by the fence


def test_internal_state_never_left_running_after_a_failure(world: World) -> None:
    """After a rolled-back release, the ledger holds no open release."""
    world.heroku.fail_deploy["acme-web"] = "build failed"
    world.deploy("v2")
    assert all(not r.state.is_open for r in world.ledger.releases())


def test_undecided_migrations_stop_with_exit_2(world: World) -> None:
    """Without flags and without a git history that knows both versions, ship asks."""
    with pytest.raises(MigrationsUndecided) as info:
        world.deploy("v2", migrations=None)
    assert info.value.exit_code == 2
    assert not world.ledger.stored


def test_a_release_without_migrations_reads_each_side_once(world: World) -> None:
    """Once before (the snapshot, reused for the code release). What runs after is what
    every target reported at its end, the detail a rollback --to needs included."""
    outcome = world.deploy("v2")
    assert (world.heroku.snapshots, world.kube.snapshots) == (1, 1)
    release = world.release(outcome.release)
    assert release is not None and release.deployed is not None
    assert {t.target.key: t.detail for t in release.deployed.targets} == {
        t.target.key: t.detail for t in (*world.heroku.snapshot(), *world.kube.snapshot())
    }


def test_targets_that_report_no_end_state_are_read_after_the_release(world: World) -> None:
    """A side whose results carry no state (an adapter that could not say) is read again
    at the end, so the ledger's `deployed` is never a guess."""
    from tests.fakes.ports import FakePlatform

    plain_deploy = FakePlatform.deploy

    def without_states(self, version, op):
        return [replace(r, state=None) for r in plain_deploy(self, version, op)]

    from dataclasses import replace

    world.kube.deploy = without_states.__get__(world.kube)  # type: ignore[method-assign]  # no states
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    assert (world.heroku.snapshots, world.kube.snapshots) == (2, 2)


def test_the_result_names_the_failure_not_the_wait_it_cut_short(world: World) -> None:
    """When Kubernetes fails while Heroku still waits, the message names the Kubernetes cause."""
    import threading

    kube_failed = threading.Event()
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff: app exited 1"
    world.heroku.block_until_cancelled = True
    world.kube.during_deploy = kube_failed.set
    world.heroku.during_deploy = lambda: kube_failed.wait(timeout=5) and None
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1
    assert outcome.message.startswith("the release failed: kubernetes:deployment/web: Crash")


def test_the_gate_is_read_while_the_targets_are(world: World) -> None:
    """Before each release the status page and the targets are read together: each read
    waits to see the other one start, which only happens when they overlap (one round
    trip, not two), for both releases of a migration."""
    import threading

    from shipper.ports import GateReading

    seen: list[tuple[str, bool]] = []
    gate_started, snapshot_started = threading.Event(), threading.Event()
    plain_read, plain_snapshot = world.gate.read, world.heroku.snapshot

    def read() -> GateReading:
        gate_started.set()
        seen.append(("gate saw the snapshot", snapshot_started.wait(timeout=2)))
        snapshot_started.clear()
        return plain_read()

    def snapshot(*, deploying: Version | None = None) -> Sequence[TargetState]:
        if len(seen) >= 4:  # both releases have passed their gates: later reads are alone
            return plain_snapshot(deploying=deploying)
        snapshot_started.set()
        seen.append(("snapshot saw the gate", gate_started.wait(timeout=2)))
        gate_started.clear()
        return plain_snapshot(deploying=deploying)

    # each fake read waits for the other to start: they must overlap
    world.gate.read = read  # type: ignore[method-assign]  # see above
    world.heroku.snapshot = snapshot  # type: ignore[method-assign]  # see above
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    assert sorted(seen) == sorted(
        [("gate saw the snapshot", True), ("snapshot saw the gate", True)] * 2
    )


def test_a_stale_early_gate_reading_is_read_again(world: World) -> None:
    """An early reading older than the freshness bound never decides: the gate is read
    again at the gate itself (here it has turned yellow meanwhile)."""
    from shipper.core.ports import FRESH_SECONDS

    world.gate.script = [True, False]
    plain_snapshot = world.heroku.snapshot

    def slow_snapshot(*, deploying: Version | None = None) -> Sequence[TargetState]:
        world.clock.sleep(FRESH_SECONDS + 1)
        return plain_snapshot(deploying=deploying)

    world.heroku.snapshot = slow_snapshot  # type: ignore[method-assign]  # a slow read of the fake
    outcome = world.deploy("v2")
    assert outcome.exit_code == 3
    assert world.gate.reads == 2 and world.everywhere("v1")


def test_the_code_release_snapshot_is_told_of_the_deploy(world: World) -> None:
    """The snapshot a code release starts from says which version it ships (a side reads
    its deploy's first look with it); a migration release's first snapshot does not, as
    the code release reads the targets again after the migration bake."""
    assert world.deploy("v2", migrations=False).exit_code == 0
    assert world.heroku.snapshots_deploying[0] == Version("v2")

    world.heroku.snapshots_deploying.clear()
    assert world.deploy("v3", migrations=True).exit_code == 0
    first, code = world.heroku.snapshots_deploying[:2]
    assert (first, code) == (None, Version("v3"))
