"""The version label a Heroku release carries, and how ship writes it.

Heroku has no field for "the version this release runs". ship reads it from, in order:
its own release description (`ship: v42 (release 7)`, written on every release ship
creates with a slug), the `source_blob.version` of the build that made the release's
slug, and, for a rollback release (`Rollback to v41`), the label of the release it went
back to. A label that cannot be read is None, never a guess: a wrong label could make
ship skip a deploy that is needed.
"""

from __future__ import annotations

import re

_SHIP = re.compile(r"^ship: (?P<version>\S+) \(release (?P<release>\d+)\)$")
_ROLLBACK = re.compile(r"^Rollback to v(?P<version>\d+)\b")


def ship_description(version: str, release: int) -> str:
    """The description of a release ship creates: the version first, then the ledger
    number of the ship release that made it."""
    return f"ship: {version} (release {release})"


def label_from_description(description: str) -> str | None:
    match = _SHIP.match(description.strip())
    return match.group("version") if match else None


def rollback_target(description: str) -> int | None:
    """The release version a Heroku rollback release went back to, if it is one."""
    match = _ROLLBACK.match(description.strip())
    return int(match.group("version")) if match else None
