"""The release state machine: a pure function from (state, transition) to state.

`run.py` asks the machine before every step and stores the answer in the ledger, so the
ledger's phase and state are always ones the machine allows. Anything the table does not
allow raises IllegalTransition: a release tool that carries on from a state it does not
understand is worse than one that stops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shipper.core.model import Phase, ReleaseKind, ReleaseState

# The phases each kind of release goes through, in order. A phase may be skipped
# (no migrations, a rollback with --no-verify) but never revisited or reordered.
ORDER: dict[ReleaseKind, tuple[Phase, ...]] = {
    ReleaseKind.CODE: (
        Phase.LOCK,
        Phase.GATE,
        Phase.SNAPSHOT,
        Phase.MIGRATE,
        Phase.MIGRATION_BAKE,
        Phase.RELEASE,
        Phase.VERIFY,
        Phase.DONE,
    ),
    ReleaseKind.MIGRATION: (Phase.LOCK, Phase.GATE, Phase.SNAPSHOT, Phase.MIGRATE, Phase.DONE),
    ReleaseKind.ROLLBACK: (Phase.LOCK, Phase.SNAPSHOT, Phase.ROLLBACK, Phase.VERIFY, Phase.DONE),
}


class IllegalTransition(Exception):
    """A transition the table does not allow (a bug in ship, never an operator error)."""


@dataclass(frozen=True)
class MachineState:
    kind: ReleaseKind
    phase: Phase = Phase.LOCK
    state: ReleaseState = ReleaseState.RUNNING
    changed: bool = False


@dataclass(frozen=True)
class Enter:
    phase: Phase


@dataclass(frozen=True)
class Changed:
    """A platform change is about to be made (written ahead in the ledger)."""


@dataclass(frozen=True)
class Succeed:
    pass


@dataclass(frozen=True)
class Fail:
    """Something failed. Before any change the release just fails; after, it rolls back."""


@dataclass(frozen=True)
class Block:
    """The gate or the lock said no. Only possible while nothing has changed."""


@dataclass(frozen=True)
class RolledBack:
    ok: bool


@dataclass(frozen=True)
class Interrupt:
    pass


@dataclass(frozen=True)
class Supersede:
    """A later rollback undid this interrupted release."""


Transition = Enter | Changed | Succeed | Fail | Block | RolledBack | Interrupt | Supersede


def advance(s: MachineState, t: Transition) -> MachineState:
    """Return the state after `t`, or raise IllegalTransition."""
    if isinstance(t, Supersede):
        if s.state.is_open:
            return replace(s, state=ReleaseState.SUPERSEDED, phase=Phase.DONE)
        raise IllegalTransition(f"cannot supersede a {s.state} release")
    if isinstance(t, Enter) and s.state is ReleaseState.INTERRUPTED:
        s = replace(s, state=ReleaseState.RUNNING)  # resuming
    if s.state is not ReleaseState.RUNNING:
        raise IllegalTransition(f"{type(t).__name__} after the release ended ({s.state})")
    match t:
        case Enter(phase=phase):
            return _enter(s, phase)
        case Changed():
            if s.phase in (Phase.LOCK, Phase.GATE, Phase.DONE):
                raise IllegalTransition(f"a change in phase {s.phase}")
            return replace(s, changed=True)
        case Succeed():
            if s.phase is Phase.ROLLBACK and s.kind is not ReleaseKind.ROLLBACK:
                raise IllegalTransition("a release that is rolling back cannot succeed")
            return replace(s, state=ReleaseState.SUCCEEDED, phase=Phase.DONE)
        case Fail():
            if s.changed and s.kind is ReleaseKind.CODE:
                return replace(s, phase=Phase.ROLLBACK)
            if s.changed and s.kind is ReleaseKind.ROLLBACK:
                # a rollback that changed something and failed: a person must act
                return replace(s, state=ReleaseState.ROLLBACK_FAILED, phase=Phase.DONE)
            # migrations are never rolled back by ship: a failed one simply failed
            return replace(s, state=ReleaseState.FAILED, phase=Phase.DONE)
        case Block():
            if s.changed:
                raise IllegalTransition("cannot block after a change; fail and roll back")
            return replace(s, state=ReleaseState.BLOCKED, phase=Phase.DONE)
        case RolledBack(ok=ok):
            if s.phase is not Phase.ROLLBACK:
                raise IllegalTransition(f"rolled back in phase {s.phase}")
            state = ReleaseState.ROLLED_BACK if ok else ReleaseState.ROLLBACK_FAILED
            return replace(s, state=state, phase=Phase.DONE)
        case Interrupt():
            return replace(s, state=ReleaseState.INTERRUPTED)
    raise IllegalTransition(f"unknown transition {t!r}")  # pragma: no cover


def _enter(s: MachineState, phase: Phase) -> MachineState:
    order = ORDER[s.kind]
    if phase is Phase.ROLLBACK and s.kind is ReleaseKind.CODE:
        raise IllegalTransition("a code release enters rollback only by failing")
    if phase not in order:
        raise IllegalTransition(f"a {s.kind} release has no phase {phase}")
    if s.phase is Phase.ROLLBACK and s.kind is ReleaseKind.CODE:
        raise IllegalTransition(f"cannot enter {phase} while rolling back")
    if order.index(phase) < order.index(s.phase):
        raise IllegalTransition(f"cannot go back from {s.phase} to {phase}")
    return replace(s, phase=phase)
