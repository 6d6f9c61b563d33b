"""What every Platform adapter promises (run over each backend in platforms.RIGS)."""

from __future__ import annotations

from shipper.core.model import MeasurementStatus, Verdict
from tests.contract.platforms import NEW, PlatformRig


def test_one_targets_failure_is_a_result_not_an_exception(rig: PlatformRig) -> None:
    """A target whose deploy fails comes back as a FAILED result; the other target's
    result is its own."""
    first, second = rig.platform.targets()
    rig.fail_next_deploy(second)
    results = rig.platform.deploy(NEW, rig.operation())
    verdicts = {r.target: r.verdict for r in results}
    assert verdicts == {first: Verdict.SUCCEEDED, second: Verdict.FAILED}


def test_repeating_a_deploy_changes_nothing(rig: PlatformRig) -> None:
    """A deploy of the version already deployed succeeds without a single write."""
    first = rig.platform.deploy(NEW, rig.operation())
    assert all(r.ok for r in first), [r.message for r in first]
    made = rig.changes()
    assert made > 0  # the first deploy did change something, and the rig counted it
    again = rig.platform.deploy(NEW, rig.operation())
    assert all(r.ok for r in again) and rig.changes() == made


def test_repeating_a_roll_back_changes_nothing(rig: PlatformRig) -> None:
    """A roll_back to the state already restored succeeds without a single write."""
    before = rig.platform.snapshot()
    rig.platform.deploy(NEW, rig.operation())
    first = rig.platform.roll_back(before, rig.operation())
    assert all(r.ok for r in first), [r.message for r in first]
    made = rig.changes()
    again = rig.platform.roll_back(before, rig.operation())
    assert all(r.ok for r in again) and rig.changes() == made


def test_a_restore_verifies_by_identity(rig: PlatformRig) -> None:
    """After a roll_back every target runs the snapshot's code by the platform's identity,
    and no longer the deployed code."""
    before = {s.target: s for s in rig.platform.snapshot()}
    deployed = {r.target: r.state for r in rig.platform.deploy(NEW, rig.operation()) if r.state}
    assert deployed  # every adapter reports the state each target ended in
    rig.platform.roll_back(list(before.values()), rig.operation())
    after = rig.platform.snapshot()
    assert all(s.runs_same_code(before[s.target]) for s in after)
    assert not any(s.runs_same_code(deployed[s.target]) for s in after if s.target in deployed)


def test_the_snapshot_just_read_is_healthy(rig: PlatformRig) -> None:
    """The side's health, measured against the snapshot it just gave, is SUCCESSFUL."""
    measurement = rig.platform.health(rig.platform.snapshot())
    assert measurement.status is MeasurementStatus.SUCCESSFUL, measurement.message
