"""Heroku's JSON answers read into small frozen values, checked on the way in.

Only the fields ship acts on are read. A missing or mistyped one is a MalformedAnswer
naming the field, rather than a KeyError deep in a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipper.heroku.errors import malformed

BUILD_FINAL = frozenset({"succeeded", "failed"})
ONE_OFF_TYPES = frozenset({"run", "release", "scheduler"})
RELEASE_FINAL = frozenset({"succeeded", "failed", "expired"})


def _field(
    body: Any, key: str, kind: type | tuple[type, ...], what: str, *, null: bool = False
) -> Any:
    if not isinstance(body, dict):
        raise malformed(f"read {what}", "expected an object")
    value = body.get(key)
    if value is None and null:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise malformed(f"read {what}", f"field {key!r} is missing or of the wrong type")
    return value


def _ref_id(body: Any, key: str, what: str) -> str | None:
    ref = _field(body, key, dict, what, null=True)
    if ref is None:
        return None
    return str(_field(ref, "id", str, what))


@dataclass(frozen=True)
class Build:
    id: str
    status: str  # pending | succeeded | failed
    source_version: str | None
    release_id: str | None
    slug_id: str | None
    output_stream_url: str | None
    created_at: str

    @property
    def is_final(self) -> bool:
        return self.status in BUILD_FINAL

    @classmethod
    def parse(cls, body: Any) -> Build:
        what = "a build"
        blob = _field(body, "source_blob", dict, what, null=True) or {}
        version = blob.get("version")
        return cls(
            id=_field(body, "id", str, what),
            status=_field(body, "status", str, what),
            source_version=version if isinstance(version, str) else None,
            release_id=_ref_id(body, "release", what),
            slug_id=_ref_id(body, "slug", what),
            output_stream_url=_field(body, "output_stream_url", str, what, null=True),
            created_at=str(body.get("created_at") or ""),
        )


@dataclass(frozen=True)
class Release:
    id: str
    version: int
    status: str  # pending | succeeded | failed | expired
    current: bool
    description: str
    slug_id: str | None
    output_stream_url: str | None
    created_at: str

    @property
    def is_final(self) -> bool:
        return self.status in RELEASE_FINAL

    @classmethod
    def parse(cls, body: Any) -> Release:
        what = "a release"
        return cls(
            id=_field(body, "id", str, what),
            version=_field(body, "version", int, what),
            status=_field(body, "status", str, what),
            current=bool(_field(body, "current", bool, what, null=True)),
            description=str(_field(body, "description", str, what, null=True) or ""),
            slug_id=_ref_id(body, "slug", what),
            output_stream_url=_field(body, "output_stream_url", str, what, null=True),
            created_at=str(body.get("created_at") or ""),
        )


@dataclass(frozen=True)
class Slug:
    id: str
    commit: str | None  # the pushed SHA, or the Build API's source_blob.version

    @classmethod
    def parse(cls, body: Any) -> Slug:
        what = "a slug"
        commit = _field(body, "commit", str, what, null=True)
        return cls(id=_field(body, "id", str, what), commit=commit or None)


@dataclass(frozen=True)
class Dyno:
    name: str
    type: str
    state: str  # crashed | down | idle | starting | up
    release_version: int | None
    release_id: str | None = None

    @property
    def one_off(self) -> bool:
        """A `heroku run`, scheduler or release-phase dyno: not part of the formation."""
        return self.type in ONE_OFF_TYPES

    @classmethod
    def parse(cls, body: Any) -> Dyno:
        what = "a dyno"
        release = _field(body, "release", dict, what, null=True) or {}
        version = release.get("version")
        ident = release.get("id")
        return cls(
            name=_field(body, "name", str, what),
            type=str(_field(body, "type", str, what, null=True) or ""),
            state=_field(body, "state", str, what),
            release_version=version if isinstance(version, int) else None,
            release_id=ident if isinstance(ident, str) else None,
        )


def parse_list(body: Any, parse: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise malformed(f"list {what}", "expected a list")
    return [parse(item) for item in body]
