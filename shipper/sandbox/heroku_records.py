"""The Heroku stand-in's records: apps, builds, slugs, releases and formation, as plain
values the world keeps and the API renders in the schema's shapes."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

USER = {"id": "0c1d2e3f-4a5b-4c7d-8e9f-0a1b2c3d4e5f", "email": "sandbox@ship.invalid"}
STACK = {"id": "ee582d3c-717d-4a57-ba5f-8b3a39f3a817", "name": "heroku-24"}
PROCESS_TYPES = {"web": "bin/web", "worker": "bin/worker", "release": "bin/release"}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ship-sandbox:" + ":".join(parts)))


class WorldError(Exception):
    """A request Heroku would refuse: carries the HTTP status and the error id."""

    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message


@dataclass
class Timings:
    """How long the platform takes. Short by default: a whole release takes seconds."""

    build: float = 0.8
    release_phase: float = 0.4
    stream_start: float = 0.1  # output streams answer 404 until the command starts
    dyno_boot: float = 0.3
    preboot: float = 0.6  # how long the old web dynos serve on under preboot


@dataclass
class Slug:
    """A compiled slug. `version` is the stand-in's own truth (what the app serves, what
    the scenarios key on); `commit` is what Heroku shows: the pushed SHA of a `git push`,
    the `source_blob.version` of a Build API build."""

    id: str
    app: str
    version: str | None
    created_at: float
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        digest = hashlib.sha256(f"{self.id}".encode()).hexdigest()
        return {
            "blob": {"method": "get", "url": f"https://slugs.invalid/{self.id}.tgz"},
            "buildpack_provided_description": "Python",
            "checksum": f"SHA256:{digest}",
            "commit": self.commit,
            "commit_description": f"Merge pull request #{len(self.id)}" if self.commit else None,
            "created_at": _iso(self.created_at),
            "id": self.id,
            "process_types": dict(PROCESS_TYPES),
            "size": 2048 + len(self.version or ""),
            "stack": dict(STACK),
            "updated_at": _iso(self.created_at),
            "deleted_at": None,
        }


@dataclass
class Build:
    id: str
    app: str
    version: str | None
    source: dict[str, Any]
    created_at: float
    finish_at: float
    status: str = "pending"
    updated_at: float = 0.0
    slug_id: str | None = None
    release_id: str | None = None
    log: list[str] = field(default_factory=list)


@dataclass
class Release:
    id: str
    app: str
    number: int
    slug_id: str | None
    version: str | None  # the application version the slug carries
    description: str
    created_at: float
    finish_at: float
    status: str = "pending"
    updated_at: float = 0.0
    has_phase: bool = True
    log: list[str] = field(default_factory=list)
    requested_at: float | None = None  # when the call that made it arrived (`arrival`)


@dataclass
class Formation:
    type: str
    quantity: int
    size: str = "Standard-1X"
    created_at: float = 0.0
    updated_at: float = 0.0
    docker_image: str | None = None


@dataclass
class App:
    id: str
    name: str
    created_at: float
    builds: list[Build] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    formation: dict[str, Formation] = field(default_factory=dict)
    current: str | None = None  # the id of the live release
    current_since: float = 0.0
    previous: str | None = None  # the release live before it (its web dynos serve on
    # for `Timings.preboot` seconds when the app has preboot on)
    config: dict[str, str] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
