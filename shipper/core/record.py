"""One release's ledger record, kept in step with the state machine.

Every change of phase or state goes through `step`, which asks the machine and then
saves the record; every platform change goes through `write_ahead` first. Both are
fenced: a process that lost the lock writes nothing more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from shipper.core import machine as m
from shipper.core.emitter import Emitter
from shipper.core.events import Event, MigrationLog, ReleaseFinished, TargetProgress
from shipper.core.model import (
    JSONDict,
    LedgerEntry,
    Phase,
    PhaseVerdict,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Snapshot,
    Target,
    Version,
)
from shipper.core.ports import BatchLedger, Clock, Ledger
from shipper.errors import LockLost

# High-volume events stay out of the ledger; everything else is the release's event log.
_NOT_LOGGED = (TargetProgress, MigrationLog)


class Record:
    def __init__(
        self,
        ledger: Ledger,
        emitter: Emitter,
        clock: Clock,
        fence: Callable[[], None],
        release: Release,
    ) -> None:
        self.ledger = ledger
        self.emitter = emitter
        self.clock = clock
        self.fence = fence
        self.release = release
        self.machine = m.MachineState(
            kind=release.kind, phase=release.phase, state=release.state, changed=release.changed
        )
        self._guard = threading.RLock()
        self._phase_started = clock.monotonic()
        self._started = clock.monotonic()

    @classmethod
    def open(
        cls,
        ledger: Ledger,
        emitter: Emitter,
        clock: Clock,
        fence: Callable[[], None],
        *,
        pipeline: str,
        kind: ReleaseKind,
        version: Version,
        actor: str,
        reason: str,
        snapshot: Snapshot | None = None,
        parent: ReleaseNo | None = None,
        gate_override: str = "",
        commit: str | None = None,
    ) -> Record:
        fence()
        release = Release(
            number=ledger.next_number(),
            pipeline=pipeline,
            kind=kind,
            version=version,
            state=ReleaseState.RUNNING,
            phase=Phase.LOCK,
            actor=actor,
            reason=reason,
            started_at=clock.now(),
            snapshot=snapshot,
            parent=parent,
            gate_override=gate_override,
            commit=commit,
        )
        ledger.create(release)
        emitter.set_release(release.number)
        return cls(ledger, emitter, clock, fence, release)

    @property
    def number(self) -> ReleaseNo:
        return self.release.number

    @property
    def changed(self) -> bool:
        return self.machine.changed

    def emit(self, event: Event) -> None:
        self.emitter.set_release(self.release.number)
        self.emitter.emit(event)
        if not isinstance(event, _NOT_LOGGED):
            self.log(event.name, event.fields())

    def log(self, name: str, fields: JSONDict) -> None:
        with self._guard:
            self.fence()
            self.ledger.append(self.release.number, LedgerEntry(self.clock.now(), name, fields))

    def step(self, transition: m.Transition, **changes: Any) -> None:
        with self._guard:
            self.machine = m.advance(self.machine, transition)
            self._save(
                phase=self.machine.phase,
                state=self.machine.state,
                changed=self.machine.changed,
                **changes,
            )

    def update(self, **changes: Any) -> None:
        with self._guard:
            self._save(**changes)

    def _save(self, **changes: Any) -> None:
        self.fence()
        release = replace(self.release, **changes)
        if not release.state.is_open and release.finished_at is None:
            release = replace(release, finished_at=self.clock.now())
        self.ledger.save(release)
        self.release = release

    def write_ahead(self, target: Target, action: str, detail: JSONDict) -> None:
        """The ledger learns of a change before the platform does (one write)."""
        self.write_intents([(target, action, detail)])

    def mark_changed(self) -> None:
        """A platform is about to change under intents written with `changed=False`."""
        with self._guard:
            if not self.machine.changed:
                self.step(m.Changed())

    def write_intents(
        self, intents: Sequence[tuple[Target, str, JSONDict]], *, changed: bool = True
    ) -> None:
        """The ledger learns of changes to many targets before any platform call, in one
        write behind one fence check: a rollback's or a deploy's, every target's intent
        at once. `changed=False`: the release is not marked changed yet (a target may
        turn out to need nothing); `mark_changed` does it when one is about to change."""
        if not intents:
            return
        with self._guard:
            self.fence()
            machine = self.machine
            if changed and not machine.changed:
                machine = m.advance(machine, m.Changed())
            targets = dict(self.release.targets)
            targets.update({target.key: action for target, action, _ in intents})
            release = replace(
                self.release,
                phase=machine.phase,
                state=machine.state,
                changed=machine.changed,
                targets=targets,
            )
            now = self.clock.now()
            entries = [
                LedgerEntry(
                    now, "intent", {"target": target.key, "action": action, "detail": detail}
                )
                for target, action, detail in intents
            ]
            if isinstance(self.ledger, BatchLedger):
                self.ledger.save_with(release, entries)
            else:  # the same records, one write at a time
                self.ledger.save(release)
                for entry in entries:
                    self.ledger.append(release.number, entry)
            self.machine, self.release = machine, release

    def enter(self, phase: Phase, limit_seconds: float | None = None, limit: str = "") -> None:
        """Enter `phase`; a long one says its limit and the pipeline key that sets it."""
        from shipper.core.events import PhaseStarted

        self.step(m.Enter(phase))
        self._phase_started = self.clock.monotonic()
        self.emit(PhaseStarted(phase=phase, limit_seconds=limit_seconds, limit=limit))

    def leave(self, phase: Phase, verdict: PhaseVerdict, message: str = "") -> None:
        from shipper.core.events import PhaseFinished

        seconds = round(self.clock.monotonic() - self._phase_started, 3)
        self.emit(PhaseFinished(phase=phase, verdict=verdict, seconds=seconds, message=message))

    def finish(self, exit_code: int, message: str, running: Snapshot | None) -> None:
        """Store the outcome and announce it. A lost lock still lets the user hear it."""
        versions: dict[str, str | None] = (
            {t.target.key: t.version for t in running.targets} if running else {}
        )
        event = ReleaseFinished(
            state=self.release.state.value,
            exit_code=exit_code,
            message=message,
            seconds=round(self.clock.monotonic() - self._started, 3),
            running=versions,
        )
        try:
            with self._guard:
                self._save(exit_code=exit_code, message=message)
            self.emit(event)
        except LockLost:
            self.emitter.set_release(self.release.number)
            self.emitter.emit(event)
