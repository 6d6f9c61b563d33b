"""What a command runs in: the pipeline's policy, the ports, the stop flag, and whether
anything was changed yet. `Deploy` and `Rollback` are handed one; neither knows the
runner that made it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shipper.core.config import ReleasePolicy
from shipper.core.model import Release, ReleaseKind, ReleaseState, Snapshot, Version
from shipper.core.plan import MigrationDecision, decide_migrations
from shipper.core.ports import Ports
from shipper.core.sides import known_labels, read_snapshot, relabel

LABEL_HISTORY = 500  # releases read for labels of identities the platforms can't name


@dataclass
class ReleaseContext:
    """One pipeline's release surroundings, shared by every command the runner starts."""

    policy: ReleasePolicy
    ports: Ports
    stop: threading.Event = field(default_factory=threading.Event)
    changed: bool = False  # whether any platform change was started (an internal error
    # then exits 4: the state is no longer known)
    _labels: dict[str, Version] | None = field(default=None, repr=False)

    def snapshot(self, deploying: Version | None = None) -> Snapshot:
        """What runs now, with labels the platforms can't tell filled in from what the
        ledger recorded for the same identities (`sides.known_labels`). `deploying`: the
        version a deploy from this snapshot will ship (`Platform.snapshot`)."""
        read = read_snapshot(self.ports.platforms, self.ports.clock.now, deploying)
        if all(t.version is not None for t in read.targets):
            return read
        if self._labels is None:
            self._labels = known_labels(self.ports.ledger.releases(limit=LABEL_HISTORY))
        return relabel(read, self._labels)

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
        """The succeeded migration release of `version`, if the ledger has one."""
        for release in self.ports.ledger.releases(limit=200):
            if (
                release.kind is ReleaseKind.MIGRATION
                and release.version == version
                and release.state is ReleaseState.SUCCEEDED
            ):
                return release
        return None
