"""The version label a Heroku release carries, and how ship writes it.

Heroku has no field for "the version this release runs": the label is for people, and
ship never decides what runs by it (that is the slug, see `identity`). It is read, in
order, from what the releases list already holds, then from what takes a call: ship's
own release description (`ship: v42 (release 7)`, written on every release ship creates
with a slug); a `Deploy <version>` description (Heroku writes "Deploy " and the Build
API's `source_blob.version`, or a `git push`'s short SHA, on the release of that very
build); the same two read off another release of the same slug in the list (a
config-var or add-on release re-releases the slug before it, and says nothing of its
own); then the `commit` of the release's slug (one call), the build that made the slug,
and, for a rollback release (`Rollback to v41`), the label of the release it went back
to. Descriptions come first because they cost nothing: the list is read anyway. A label
that cannot be read is None, never a guess: a wrong label could make ship skip a deploy
that is needed.
"""

from __future__ import annotations

import re

_SHIP = re.compile(r"^ship: (?P<version>\S+) \(release (?P<release>\d+)\)$")
_ROLLBACK = re.compile(r"^Rollback to v(?P<version>\d+)\b")
# `git push` releases: "Deploy 1a2b3c4d" (a commit's first 8 characters); Build API
# releases: "Deploy " and the build's `source_blob.version` ("Deploy 1.8.0+g3e4f5a6",
# "Deploy v2"). One token, then the end or a space: "Deployed web (...)" (a container
# release) is not one. Promotions through a Pipeline say "Promote <app> v12 <sha>"
# (unconfirmed wording): the slug's commit labels those, never this text.
_DEPLOY = re.compile(r"^Deploy (?P<version>\S+)(?:\s|$)")


def ship_description(version: str, release: int) -> str:
    """The description of a release ship creates: the version first, then the ledger
    number of the ship release that made it."""
    return f"ship: {version} (release {release})"


def label_from_description(description: str) -> str | None:
    match = _SHIP.match(description.strip())
    return match.group("version") if match else None


def label_from_deploy(description: str) -> str | None:
    """What a `Deploy <version>` release names, if it is one: the build's
    `source_blob.version` or a `git push`'s short SHA (so not always a commit; a short
    SHA is matched against the full one by `names_version`)."""
    match = _DEPLOY.match(description.strip())
    return match.group("version") if match else None


def rollback_target(description: str) -> int | None:
    """The release version a Heroku rollback release went back to, if it is one."""
    match = _ROLLBACK.match(description.strip())
    return int(match.group("version")) if match else None


def identity(slug_id: str | None, release_id: str) -> str:
    """The platform's id of the code a release runs: its slug. A release with no slug (a
    container release, or an app's first) is its own identity: conservative, since a
    later release of the same image reads as different code, never the reverse."""
    return f"slug:{slug_id}" if slug_id else f"release:{release_id}"
