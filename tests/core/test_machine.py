"""The release state machine: every transition in one line."""

from __future__ import annotations

import pytest

from shipper.core import machine as m
from shipper.core.model import Phase, ReleaseKind, ReleaseState

CODE = m.MachineState(kind=ReleaseKind.CODE)


def at(
    phase: Phase, *, changed: bool = False, kind: ReleaseKind = ReleaseKind.CODE
) -> m.MachineState:
    return m.MachineState(kind=kind, phase=phase, changed=changed)


def test_phases_go_forward() -> None:
    """A code release may move from the gate to the snapshot."""
    assert m.advance(at(Phase.GATE), m.Enter(Phase.SNAPSHOT)).phase is Phase.SNAPSHOT


def test_optional_phases_may_be_skipped() -> None:
    """Without migrations, the snapshot is followed by the release."""
    assert m.advance(at(Phase.SNAPSHOT), m.Enter(Phase.RELEASE)).phase is Phase.RELEASE


def test_phases_never_go_back() -> None:
    """Going back from verify to release is refused."""
    with pytest.raises(m.IllegalTransition):
        m.advance(at(Phase.VERIFY), m.Enter(Phase.RELEASE))


def test_failure_before_any_change_just_fails() -> None:
    """Nothing changed: the release fails without a rollback."""
    s = m.advance(at(Phase.RELEASE), m.Fail())
    assert (s.state, s.phase) == (ReleaseState.FAILED, Phase.DONE)


def test_failure_after_a_change_rolls_back() -> None:
    """Something changed: a failed code release goes to the rollback phase."""
    s = m.advance(at(Phase.VERIFY, changed=True), m.Fail())
    assert (s.state, s.phase) == (ReleaseState.RUNNING, Phase.ROLLBACK)


def test_rollback_outcome_sets_the_final_state() -> None:
    """A rollback that worked ends ROLLED_BACK; one that did not, ROLLBACK_FAILED."""
    rolling = at(Phase.ROLLBACK, changed=True)
    assert m.advance(rolling, m.RolledBack(ok=True)).state is ReleaseState.ROLLED_BACK
    assert m.advance(rolling, m.RolledBack(ok=False)).state is ReleaseState.ROLLBACK_FAILED


def test_a_rolling_back_release_cannot_succeed() -> None:
    """Success is refused while a code release rolls back."""
    with pytest.raises(m.IllegalTransition):
        m.advance(at(Phase.ROLLBACK, changed=True), m.Succeed())


def test_block_is_only_possible_before_a_change() -> None:
    """The gate cannot block a release that already changed something."""
    assert m.advance(at(Phase.GATE), m.Block()).state is ReleaseState.BLOCKED
    with pytest.raises(m.IllegalTransition):
        m.advance(at(Phase.RELEASE, changed=True), m.Block())


def test_a_failed_migration_fails_without_rollback() -> None:
    """Migrations are never rolled back: a failed migration release just fails."""
    s = m.advance(at(Phase.MIGRATE, changed=True, kind=ReleaseKind.MIGRATION), m.Fail())
    assert s.state is ReleaseState.FAILED


def test_a_failed_rollback_release_needs_an_operator() -> None:
    """A rollback release that changed something and failed ends ROLLBACK_FAILED."""
    s = m.advance(at(Phase.ROLLBACK, changed=True, kind=ReleaseKind.ROLLBACK), m.Fail())
    assert s.state is ReleaseState.ROLLBACK_FAILED


def test_interrupted_release_resumes_on_enter() -> None:
    """Entering a phase again after an interruption resumes the release."""
    stopped = m.advance(at(Phase.RELEASE, changed=True), m.Interrupt())
    assert stopped.state is ReleaseState.INTERRUPTED
    assert m.advance(stopped, m.Enter(Phase.RELEASE)).state is ReleaseState.RUNNING


def test_nothing_happens_after_the_end() -> None:
    """A finished release accepts no further transition."""
    done = m.advance(at(Phase.VERIFY, changed=True), m.Succeed())
    with pytest.raises(m.IllegalTransition):
        m.advance(done, m.Enter(Phase.VERIFY))


def test_changes_are_refused_outside_changing_phases() -> None:
    """A change cannot be recorded while still at the gate."""
    with pytest.raises(m.IllegalTransition):
        m.advance(at(Phase.GATE), m.Changed())


def test_supersede_only_open_releases() -> None:
    """Only an open release can be superseded by a rollback."""
    stopped = m.advance(at(Phase.RELEASE, changed=True), m.Interrupt())
    assert m.advance(stopped, m.Supersede()).state is ReleaseState.SUPERSEDED
    with pytest.raises(m.IllegalTransition):
        m.advance(m.advance(at(Phase.GATE), m.Block()), m.Supersede())


def test_code_release_cannot_enter_rollback_directly() -> None:
    """Only a failure moves a code release into the rollback phase."""
    with pytest.raises(m.IllegalTransition):
        m.advance(at(Phase.VERIFY), m.Enter(Phase.ROLLBACK))
