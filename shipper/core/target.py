"""What runs where: versions, the two sides, targets, what one target runs, and snapshots.

These are the values a release compares and the ledger stores, so all of them are frozen
and serialise to plain JSON (`to_json` / `from_json`): a resumed or rolled-back release
reads them back, possibly in a different process or from a different backend.
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


class Side(enum.StrEnum):
    """One of the two production platforms."""

    HEROKU = "heroku"
    KUBERNETES = "kubernetes"

    @property
    def target_noun(self) -> str:
        """What one target of this side is called where people read it."""
        match self:
            case Side.HEROKU:
                return "app"
            case Side.KUBERNETES:
                return "workload"


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
