"""Runs releases: the runner hands each command (`deploy`, `rollback`) a
`ReleaseContext` and a held lock; with `steps`, the one place where the core's decisions
become calls on ports. Nothing in the core imports this module.

`ship deploy` is: lock, (resume an open release, or) read what runs, decide migrations,
the migration release (its own ledger entry, then a bake against the old code), the code
release (gate, snapshot written ahead, both sides concurrently), the bake, and on any
regression the joint rollback. `ship rollback` is its own release. Every step asks the
machine first, writes the ledger before acting, and reads live state before changing it,
so a resumed or repeated run never repeats a finished migration, build or patch.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from shipper.core.command_io import (
    DeployRequest,
    Outcome,
    RollbackRequest,
)
from shipper.core.config import ReleasePolicy
from shipper.core.context import ReleaseContext
from shipper.core.deploy import Deploy
from shipper.core.events import RunStarted
from shipper.core.lock_hold import Hold, held
from shipper.core.model import (
    Holder,
    Release,
    ReleaseKind,
    Snapshot,
    Version,
)
from shipper.core.plan import MigrationDecision, Plan, build_plan
from shipper.core.ports import Ports
from shipper.core.rollback import Rollback
from shipper.core.steps import finish_command, plan_event
from shipper.errors import (
    ReleaseInProgress,
)


class Releaser:
    """Runs `ship deploy`, `ship migrate` and `ship rollback` for one pipeline."""

    def __init__(self, policy: ReleasePolicy, ports: Ports, *, ship_version: str) -> None:
        self.context = ReleaseContext(policy, ports)
        self.ship_version = ship_version  # ship's own version, for the stream's first event

    @property
    def policy(self) -> ReleasePolicy:
        return self.context.policy

    @property
    def ports(self) -> Ports:
        return self.context.ports

    @property
    def changed(self) -> bool:
        """Whether any platform change was started: an internal error then exits 4."""
        return self.context.changed

    def interrupt(self) -> None:
        """Stop changing things as soon as possible (called from a signal handler)."""
        self.context.stop.set()

    def snapshot(self) -> Snapshot:
        """What runs now (`ReleaseContext.snapshot`)."""
        return self.context.snapshot()

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
        return self.context.decide_migrations(version, flag, snapshot)

    def applied_migration(self, version: Version) -> Release | None:
        return self.context.applied_migration(version)

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
            return Deploy(self.context, hold, req).run(open_release)

    def rollback(self, req: RollbackRequest) -> Outcome:
        self._started("rollback", req.holder, None, to_release=req.to)
        with self._hold(
            req.holder, req.reason or "rollback", req.force_lock, req.lock_wait_seconds
        ) as hold:
            return Rollback(self.context, hold, req).run()

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
            stop=self.context.stop,
        )


__all__ = [
    "DeployRequest",
    "Outcome",
    "Ports",
    "Releaser",
    "RollbackRequest",
]
