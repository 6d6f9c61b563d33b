"""Runs releases: with `command`, `deploy` and `rollback` beside it, the one place where
the core's decisions become calls on ports.

`ship deploy` is: lock, (resume an open release, or) read what runs, decide migrations,
the migration release (its own ledger entry, then a bake against the old code), the code
release (gate, snapshot written ahead, both sides concurrently), the bake, and on any
regression the joint rollback. `ship rollback` is its own release. Every step asks the
machine first, writes the ledger before acting, and reads live state before changing it,
so a resumed or repeated run never repeats a finished migration, build or patch.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

from shipper.core.command import finish_command, plan_event
from shipper.core.config import ReleasePolicy
from shipper.core.deploy import Deploy
from shipper.core.events import RunStarted
from shipper.core.holding import Hold, held
from shipper.core.model import (
    Holder,
    Release,
    ReleaseKind,
    ReleaseState,
    Snapshot,
    Version,
)
from shipper.core.outcome import (
    DeployRequest,
    Outcome,
    RollbackRequest,
)
from shipper.core.plan import MigrationDecision, Plan, build_plan, decide_migrations
from shipper.core.ports import Ports
from shipper.core.rollback import Rollback
from shipper.core.sides import (
    known_labels,
    read_snapshot,
    relabel,
)
from shipper.errors import (
    ReleaseInProgress,
)

LABEL_HISTORY = 500  # releases read for labels of identities the platforms can't name


class Releaser:
    """Runs `ship deploy`, `ship migrate` and `ship rollback` for one pipeline."""

    def __init__(self, policy: ReleasePolicy, ports: Ports, *, ship_version: str) -> None:
        self.policy = policy
        self.ship_version = ship_version  # ship's own version, for the stream's first event
        self.ports = ports
        self.stop = threading.Event()
        self.changed = False  # whether any platform change was started (an internal error
        # then exits 4: the state is no longer known)
        self._labels: dict[str, Version] | None = None

    def interrupt(self) -> None:
        """Stop changing things as soon as possible (called from a signal handler)."""
        self.stop.set()

    def snapshot(self) -> Snapshot:
        """What runs now, with labels the platforms can't tell filled in from what the
        ledger recorded for the same identities (`sides.known_labels`)."""
        read = read_snapshot(self.ports.platforms, self.ports.clock.now)
        if all(t.version is not None for t in read.targets):
            return read
        if self._labels is None:
            self._labels = known_labels(self.ports.ledger.releases(limit=LABEL_HISTORY))
        return relabel(read, self._labels)

    def plan(self, version: Version, migrations: bool | None, commit: str | None = None) -> Plan:
        """Read-only: what `ship deploy VERSION` would do now (`--dry-run`)."""
        snapshot = self.snapshot()
        decision = self.decide_migrations(version, migrations, snapshot)
        plan = build_plan(version, snapshot, decision, commit=commit)
        self.ports.emitter.emit(plan_event(plan))
        return plan

    def decide_migrations(
        self, version: Version, flag: bool | None, snapshot: Snapshot
    ) -> MigrationDecision:
        applied = self.applied_migration(version)
        return decide_migrations(
            flag,
            self.policy.migrations,
            version,
            [t.version for t in snapshot.targets],
            self.ports.history,
            applied_in=applied.number if applied else None,
        )

    def applied_migration(self, version: Version) -> Release | None:
        for release in self.ports.ledger.releases(limit=200):
            if (
                release.kind is ReleaseKind.MIGRATION
                and release.version == version
                and release.state is ReleaseState.SUCCEEDED
            ):
                return release
        return None

    def open_release(self) -> Release | None:
        """The latest release that started and never finished (killed or interrupted); a
        traffic change stopped half-way is `ship traffic`'s to finish, not a deploy's."""
        for release in self.ports.ledger.releases(limit=20):
            if release.state.is_open and release.kind.moves_code:
                return release
        return None

    def deploy(self, req: DeployRequest) -> Outcome:
        kind = "migration" if req.migrations_only else "deploy"
        self._started("migrate" if req.migrations_only else "deploy", req.holder, req.version)
        with self._hold(
            req.holder, req.reason or f"{kind} {req.version}", req.force_lock, req.lock_wait_seconds
        ) as hold:
            open_release = self.open_release()
            if open_release is not None and (
                open_release.kind is ReleaseKind.ROLLBACK or open_release.version != req.version
            ):
                raise ReleaseInProgress(
                    f"release {open_release.number} ({open_release.kind} of "
                    f"{open_release.version}) stopped in phase {open_release.phase}; finish it "
                    f"with `ship {finish_command(open_release)}` or undo it with `ship rollback`"
                )
            return Deploy(self, hold, req).run(open_release)

    def rollback(self, req: RollbackRequest) -> Outcome:
        self._started("rollback", req.holder, None, to_release=req.to)
        with self._hold(
            req.holder, req.reason or "rollback", req.force_lock, req.lock_wait_seconds
        ) as hold:
            return Rollback(self, hold, req).run()

    def _started(
        self, command: str, holder: Holder, version: Version | None, to_release: int | None = None
    ) -> None:
        """The stream's first event, before the lock is even asked for (docs/events.md)."""
        self.ports.emitter.emit(
            RunStarted(
                ship_version=self.ship_version,
                command=command,
                version=version,
                actor=str(holder),
                to_release=to_release,
            )
        )

    def _hold(
        self, holder: Holder, reason: str, force: bool, wait: float
    ) -> AbstractContextManager[Hold]:
        return held(
            self.ports.lock,
            holder=holder,
            reason=reason,
            ttl_seconds=self.policy.lock_ttl_seconds,
            force=force,
            wait_seconds=wait,
            clock=self.ports.clock,
            emitter=self.ports.emitter,
            stop=self.stop,
        )


__all__ = [
    "DeployRequest",
    "Outcome",
    "Ports",
    "Releaser",
    "RollbackRequest",
]
