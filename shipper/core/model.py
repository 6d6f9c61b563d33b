"""Domain values: versions, sides, targets, snapshots and releases.

All of them are frozen and serialise to plain JSON (`to_json` / `from_json`) because the
ledger stores them and a resumed or rolled-back release reads them back, possibly in a
different process or from a different backend.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType, TypeAlias

JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None
JSONDict: TypeAlias = dict[str, JSON]

Version = NewType("Version", str)
ReleaseNo = NewType("ReleaseNo", int)


class Side(enum.StrEnum):
    """One of the two production platforms."""

    HEROKU = "heroku"
    KUBERNETES = "kubernetes"


@dataclass(frozen=True, order=True)
class Target:
    """One thing that runs the application: a Heroku app or a Kubernetes workload.

    `name` is the app name (`acme-web`) or the workload reference (`deployment/web`).
    """

    side: Side
    name: str

    @property
    def key(self) -> str:
        return f"{self.side.value}:{self.name}"

    @classmethod
    def from_key(cls, key: str) -> Target:
        side, _, name = key.partition(":")
        return cls(Side(side), name)

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class TargetState:
    """What one target runs at one moment.

    `version` is the version label ship can read off the target (None when the target
    carries no label ship understands): it is for people. `identity` is the platform's
    own id of the code that runs (a Heroku slug, the images of a pod template), made by the
    adapter: two states run the same code exactly when their identities are equal and not
    None. `detail` is the adapter's own record of everything needed to put this exact state
    back (a Heroku release id, a pod template); the core stores it and hands it back
    without looking inside. `revision` is the platform's own number for what runs, as the
    adapter writes it for people (`v123` for a Heroku release, `rev 7` for a rollout), so
    no report reads `detail`; it is for display only: neither stored nor compared.
    """

    target: Target
    version: Version | None
    detail: JSONDict = field(default_factory=dict)
    healthy: bool | None = None
    message: str = ""
    identity: str | None = None
    revision: str | None = field(default=None, compare=False)

    def runs_same_code(self, other: TargetState) -> bool:
        """Whether `other` runs the same code, by the platform's identity: an identity
        that can't be read is never "the same" (None is not equal to None here)."""
        return self.identity is not None and self.identity == other.identity

    def to_json(self) -> JSONDict:
        return {
            "target": self.target.key,
            "version": self.version,
            "identity": self.identity,
            "detail": self.detail,
            "healthy": self.healthy,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> TargetState:
        detail = data.get("detail") or {}
        version = data.get("version")
        healthy = data.get("healthy")
        identity = data.get("identity")
        return cls(
            target=Target.from_key(str(data["target"])),
            version=Version(str(version)) if version is not None else None,
            detail=dict(detail) if isinstance(detail, dict) else {},
            healthy=healthy if isinstance(healthy, bool) else None,
            message=str(data.get("message") or ""),
            identity=str(identity) if isinstance(identity, str) and identity else None,
        )


@dataclass(frozen=True)
class Snapshot:
    """What ran on every target of both sides at one moment: the rollback target."""

    targets: tuple[TargetState, ...]
    taken_at: datetime | None = None

    def side(self, side: Side) -> tuple[TargetState, ...]:
        return tuple(t for t in self.targets if t.target.side is side)

    def get(self, target: Target) -> TargetState | None:
        return next((t for t in self.targets if t.target == target), None)

    def versions(self, side: Side) -> set[Version | None]:
        return {t.version for t in self.side(side)}

    def runs_everywhere(self, version: Version, commit: str | None = None) -> bool:
        """Every target's label names `version` (or its commit): a label ship read off
        the platform (a slug's commit, ship's own release description), never a guess."""
        return bool(self.targets) and all(
            names_version(t.version, version, commit) for t in self.targets
        )

    def to_json(self) -> JSONDict:
        return {
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "targets": [t.to_json() for t in self.targets],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Snapshot:
        raw_targets = data.get("targets") or []
        targets = (
            tuple(TargetState.from_json(t) for t in raw_targets if isinstance(t, dict))
            if isinstance(raw_targets, list)
            else ()
        )
        taken = data.get("taken_at")
        return cls(targets, datetime.fromisoformat(taken) if isinstance(taken, str) else None)


MIN_SHA_PREFIX = 7
_SHA = re.compile(r"[0-9a-f]{7,40}")


def names_version(label: str | None, version: str, commit: str | None = None) -> bool:
    """Whether a label read off a target names `version`: the same name; or, when the
    requested version resolved to `commit` (a git SHA), that SHA or a prefix of it of at
    least seven characters (`git push` history carries SHAs, people name tags); or, when
    both are SHAs by their shape, one a prefix of the other (`ship deploy 1a2b3c4` of a
    slug whose commit is the full SHA)."""
    if label is None:
        return False
    if label == version:
        return True
    label = label.lower()
    if commit is not None and len(label) >= MIN_SHA_PREFIX:
        return commit.lower().startswith(label)
    wanted = version.lower()
    if _SHA.fullmatch(label) and _SHA.fullmatch(wanted):
        return label.startswith(wanted) or wanted.startswith(label)
    return False


class Severity(enum.StrEnum):
    """How much a preflight finding weighs: BLOCK stops the release before any change,
    WARN is said and recorded, INFO is a figure worth seeing (never a problem)."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing a preflight found about a target (or a whole side when `target` is None).

    `check` names the rule (`paused`, `gitops`, `permissions`), `message` says what was
    found and how to fix it, in one line. `table` is the arithmetic behind it, when it has
    some: a header row, then one row per line (strings, shown as a small table)."""

    target: Target | None
    check: str
    severity: Severity
    message: str
    table: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> JSONDict:
        out: JSONDict = {
            "target": self.target.key if self.target else None,
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.table:
            out["table"] = [list(row) for row in self.table]
        return out


class Verdict(enum.StrEnum):
    """The outcome of waiting on one target (or one check). One enum, so `match` is total."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def is_final(self) -> bool:
        return self is not Verdict.PENDING


@dataclass(frozen=True)
class TargetResult:
    """The end of one target's deploy or rollback, as the adapter saw it."""

    target: Target
    verdict: Verdict
    state: TargetState | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.SUCCEEDED


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


class MeasurementStatus(enum.StrEnum):
    """One measurement of one check (Argo Rollouts' measurement phases, minus Error:
    ship folds an error into FAILED or INCONCLUSIVE per check kind, see verify)."""

    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Measurement:
    """One reading of one check: status, the value read (as text) and why."""

    status: MeasurementStatus
    value: str = ""
    message: str = ""


@dataclass(frozen=True)
class Holder:
    """Who holds (or asks for) a lock: a person's `user@host:pid`, or a CI run.

    `host` and `pid` let a later process on the same host see that the holder died.
    `pid` is None for a manual lock (a deploy freeze), which no process backs.
    """

    name: str
    host: str = ""
    pid: int | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class LockInfo:
    """The lock as stored: who, why, since when, and the fencing token."""

    pipeline: str
    holder: Holder
    reason: str
    acquired_at: datetime
    renewed_at: datetime
    ttl_seconds: float | None  # None: held until released (a manual freeze)
    token: int  # grows with every acquisition: a fencing token
    manual: bool = False

    def expires_at(self) -> datetime | None:
        if self.ttl_seconds is None:
            return None
        from datetime import timedelta

        return self.renewed_at + timedelta(seconds=self.ttl_seconds)


@dataclass(frozen=True)
class LockLease:
    """What `Lock.acquire` hands back: our hold on the lock, and whom we took it from."""

    info: LockInfo
    took_over: LockInfo | None = None
    takeover_reason: str = ""  # "forced", "expired", "holder process gone"


@dataclass(frozen=True)
class Probe:
    """One read-only try of a check before any change: did it reach what it measures?

    `where` is the URL (without credentials or query string) or the query, for people;
    `reached` False means no connection at all (refused, DNS, TLS, timeout connecting);
    `ok` False with `reached` True means it answered, but not usably (a 401, a bad query).
    """

    reached: bool
    ok: bool
    where: str
    answer: str
