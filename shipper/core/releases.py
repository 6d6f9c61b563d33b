"""The ledger's records: one release (migration, code, rollback or traffic change), where
it is and how it ended, and the lines of its event log.

They serialise to plain JSON because every ledger backend (sqlite, ConfigMaps) stores
them and another process may read them back to resume or undo a release.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from shipper.core.target import JSON, JSONDict, Snapshot, Version

ReleaseNo = NewType("ReleaseNo", int)


class ReleaseKind(enum.StrEnum):
    MIGRATION = "migration"
    CODE = "code"
    ROLLBACK = "rollback"
    TRAFFIC = "traffic"  # a change of the HAProxy split (`ship traffic`): no code ships

    @property
    def moves_code(self) -> bool:
        """Whether a release of this kind changes what runs (migrations included): a
        traffic change does not, so a deploy or a rollback never finishes or undoes one."""
        return self is not ReleaseKind.TRAFFIC


class Phase(enum.StrEnum):
    """Where a release is. Stored in the ledger, so `ship status` can say where it stopped."""

    LOCK = "lock"
    GATE = "gate"
    SNAPSHOT = "snapshot"
    MIGRATE = "migrate"
    MIGRATION_BAKE = "migration_bake"
    RELEASE = "release"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    DONE = "done"


class PhaseVerdict(enum.StrEnum):
    """How a phase ended, as its `phase_finished` event says."""

    TAKEN = "taken"  # the snapshot
    PASSED = "passed"  # the gate, a bake
    BLOCKED = "blocked"  # the gate
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ReleaseState(enum.StrEnum):
    """The ledger's word for a release's outcome."""

    RUNNING = "running"  # in progress, or its process died: the lock tells which
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # failed before anything changed
    ROLLED_BACK = "rolled_back"  # failed, both sides restored and healthy
    ROLLBACK_FAILED = "rollback_failed"  # a person must act
    BLOCKED = "blocked"  # gate or lock said no; nothing changed
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM; resumable
    SUPERSEDED = "superseded"  # an interrupted release that a later rollback undid
    UNCHANGED = "unchanged"  # the version already ran everywhere

    @property
    def is_open(self) -> bool:
        """An open release was started and never finished: it can be resumed or undone."""
        return self in (ReleaseState.RUNNING, ReleaseState.INTERRUPTED)


@dataclass(frozen=True)
class Release:
    """One ledger entry: a migration, code or rollback release of one pipeline."""

    number: ReleaseNo
    pipeline: str
    kind: ReleaseKind
    version: Version
    state: ReleaseState
    phase: Phase
    actor: str
    started_at: datetime
    reason: str = ""
    finished_at: datetime | None = None
    exit_code: int | None = None
    snapshot: Snapshot | None = None  # before the first change: the rollback target
    deployed: Snapshot | None = None  # what runs after the release
    targets: Mapping[str, str] = field(default_factory=dict)  # target key -> last status
    parent: ReleaseNo | None = None  # the code release a migration serves; what a rollback undoes
    changed: bool = False  # whether any platform change was started
    message: str = ""
    gate_override: str = ""
    commit: str | None = None  # the git SHA `version` named where it was released from

    def to_json(self) -> JSONDict:
        return {
            "number": self.number,
            "pipeline": self.pipeline,
            "kind": self.kind.value,
            "version": self.version,
            "state": self.state.value,
            "phase": self.phase.value,
            "actor": self.actor,
            "reason": self.reason,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "exit_code": self.exit_code,
            "snapshot": self.snapshot.to_json() if self.snapshot else None,
            "deployed": self.deployed.to_json() if self.deployed else None,
            "targets": dict(self.targets),
            "parent": self.parent,
            "changed": self.changed,
            "message": self.message,
            "gate_override": self.gate_override,
            "commit": self.commit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Release:
        def snap(key: str) -> Snapshot | None:
            raw = data.get(key)
            return Snapshot.from_json(raw) if isinstance(raw, dict) else None

        def when(key: str) -> datetime | None:
            raw = data.get(key)
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None

        targets = data.get("targets")
        parent = data.get("parent")
        exit_code = data.get("exit_code")
        started = when("started_at")
        if started is None:
            raise ValueError("release without started_at")
        return cls(
            number=ReleaseNo(int(str(data["number"]))),
            pipeline=str(data["pipeline"]),
            kind=ReleaseKind(str(data["kind"])),
            version=Version(str(data["version"])),
            state=ReleaseState(str(data["state"])),
            phase=Phase(str(data["phase"])),
            actor=str(data.get("actor") or ""),
            reason=str(data.get("reason") or ""),
            started_at=started,
            finished_at=when("finished_at"),
            exit_code=int(exit_code) if isinstance(exit_code, int) else None,
            snapshot=snap("snapshot"),
            deployed=snap("deployed"),
            targets={str(k): str(v) for k, v in targets.items()}
            if isinstance(targets, dict)
            else {},
            parent=ReleaseNo(parent) if isinstance(parent, int) else None,
            changed=bool(data.get("changed")),
            message=str(data.get("message") or ""),
            gate_override=str(data.get("gate_override") or ""),
            commit=str(data["commit"]) if isinstance(data.get("commit"), str) else None,
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a release's event log, as stored in the ledger."""

    time: datetime
    event: str
    fields: JSONDict = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        return {"time": self.time.isoformat(), "event": self.event, "fields": self.fields}

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> LedgerEntry:
        fields = data.get("fields")
        return cls(
            time=datetime.fromisoformat(str(data["time"])),
            event=str(data["event"]),
            fields=dict(fields) if isinstance(fields, dict) else {},
        )
