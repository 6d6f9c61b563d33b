"""`ship rollback`: a release of its own that returns both sides to a recorded state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipper.core import machine as m
from shipper.core.command import Command
from shipper.core.events import (
    RollbackStarted,
    SnapshotTaken,
)
from shipper.core.holding import Hold
from shipper.core.model import (
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Snapshot,
    Version,
)
from shipper.core.outcome import EXIT_OK, EXIT_OPERATOR, Outcome, RollbackRequest
from shipper.core.sides import (
    common_version,
    describe,
)
from shipper.errors import (
    BadInput,
    Interrupted,
    LockLost,
)

UNKNOWN_LABEL = "(unknown version)"  # a rollback's ledger label when the snapshot's is unknown

if TYPE_CHECKING:
    from shipper.core.run import Releaser


class Rollback(Command):
    def __init__(self, releaser: Releaser, hold: Hold, req: RollbackRequest) -> None:
        super().__init__(releaser, hold)
        self.req = req

    def run(self) -> Outcome:
        try:
            return self._run()
        except (Interrupted, LockLost) as exc:
            return self.stopped(exc)

    def _run(self) -> Outcome:
        req, ledger = self.req, self.ports.ledger
        undone, recorded = rollback_target(ledger.releases(limit=500), req.to)
        now = self.releaser.snapshot()
        snapshot = recorded or now
        # the label is for people (history, the live view); what is restored and verified
        # is the snapshot's states by the platforms' identities
        label = common_version(snapshot) or Version(UNKNOWN_LABEL)
        record = self.open(
            ReleaseKind.ROLLBACK,
            label,
            req.reason or f"undo release {undone.number}",
            snapshot=now,
            parent=undone.number,
            holder=req.holder,
        )
        record.enter(Phase.SNAPSHOT)
        record.emit(SnapshotTaken(targets={t.target.key: t.version for t in now.targets}))
        record.leave(Phase.SNAPSHOT, "taken")
        if undone.state.is_open:  # a killed or interrupted release: this rollback ends it
            state = m.advance(
                m.MachineState(
                    kind=undone.kind, phase=undone.phase, state=undone.state, changed=undone.changed
                ),
                m.Supersede(),
            )
            from dataclasses import replace

            ledger.save(
                replace(
                    undone,
                    state=state.state,
                    phase=state.phase,
                    message=f"undone by rollback release {record.number}",
                )
            )
        record.enter(Phase.ROLLBACK)
        record.emit(RollbackStarted(reason=req.reason or "ship rollback", to_release=undone.number))
        _, missing, running = self.restore(snapshot)
        if missing:
            record.leave(Phase.ROLLBACK, "failed", missing[0])
            record.step(m.Fail(), message=missing[0])
            text = rollback_failed(
                f"rollback to before release {undone.number}",
                missing,
                running,
                self.manual_steps(snapshot, missing),
            )
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.ROLLBACK, "succeeded")
        record.enter(Phase.VERIFY)
        # the rollouts' health, plus one round of checks (not a whole bake: on-call needs
        # to know now). A check failing in that round is measured on until its limits, so
        # one flaky reading does not call for a person. --no-verify keeps only the health.
        result = self.bake(
            self.pinned_checks(snapshot, health_only=not req.verify),
            0.0,
            common_version(snapshot) or Version(""),
            rounds=1,
        )
        if result.interrupted:
            raise Interrupted("interrupted while verifying the rollback")
        if not result.passed:
            record.leave(Phase.VERIFY, "failed", result.reason)
            record.step(m.Fail(), message=result.reason)
            text = (
                f"both sides were rolled back, but check {result.check} ({result.side}) "
                f"fails: {result.reason}; look at the application now"
            )
            record.finish(EXIT_OPERATOR, text, running)
            return Outcome(EXIT_OPERATOR, text, record.release.state, record.number, running)
        record.leave(Phase.VERIFY, "passed")
        record.step(m.Succeed(), deployed=running)
        text = f"rolled back to before release {undone.number}: {describe(running)}"
        record.finish(EXIT_OK, text, running)
        return Outcome(EXIT_OK, text, record.release.state, record.number, running)


_NOT_IN_EFFECT = frozenset(
    {
        ReleaseState.ROLLED_BACK,
        ReleaseState.FAILED,
        ReleaseState.BLOCKED,
        ReleaseState.UNCHANGED,
        ReleaseState.SUPERSEDED,
    }
)


def rollback_target(
    releases: Sequence[Release], to: ReleaseNo | None
) -> tuple[Release, Snapshot | None]:
    """Which release a rollback undoes, and the snapshot it restores.

    No `--to`: the latest release still in effect (succeeded, stopped half-way even before
    its first change, or whose own rollback failed), back to its snapshot: what ran before
    it. `--to N`: what release N deployed. Migrations are never undone by ship.
    None as the snapshot means "what runs now": an open release killed before it read
    its snapshot changed nothing, so undoing it is closing it.
    """
    if to is not None:
        chosen = next((r for r in releases if r.number == to), None)
        if chosen is None:
            raise BadInput(f"there is no release {to} in the ledger; see `ship history`")
        if chosen.deployed is None:
            raise BadInput(
                f"release {to} ({chosen.state}) did not finish deploying, so there is no state "
                "of it to return to; pick a succeeded release from `ship history`"
            )
        return chosen, chosen.deployed
    for release in releases:
        if release.kind is ReleaseKind.MIGRATION or release.state in _NOT_IN_EFFECT:
            continue  # never undone by ship; or already undone, or it changed nothing
        if release.snapshot is None:
            if release.state.is_open and not release.changed:
                return release, None
            continue
        if release.changed or release.kind is ReleaseKind.ROLLBACK or release.state.is_open:
            # An open release is undone even if it changed nothing yet: the stop message
            # offers `ship rollback`, and skipping it would undo an older release instead.
            return release, release.snapshot
    raise BadInput("the ledger has no release to roll back; see `ship history`")


def rollback_failed(why: str, missing: list[str], running: Snapshot, steps: list[str]) -> str:
    where = "; ".join(f"{t.target} runs {t.version}" for t in running.targets)
    by_hand = " && ".join(steps) if steps else "see `ship status`"
    return (
        f"{why}; ROLLBACK FAILED for {'; '.join(missing)}. Now: {where}. "
        f"Run `ship rollback` again, or by hand: {by_hand}"
    )
