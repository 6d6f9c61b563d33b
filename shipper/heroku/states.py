"""A Heroku release as the core sees a target's state: the ids a rollback needs to put it
back, its slug as the identity, its label for people."""

from __future__ import annotations

from shipper.core.model import JSONDict, Side, Target, TargetState, Version
from shipper.heroku.history import AppHistory
from shipper.heroku.resources import Release


def release_detail(release: Release, label: str | None) -> JSONDict:
    """What a rollback needs to put this release back, and what verifying it compares
    (TargetState.detail)."""
    return {
        "release_id": release.id,
        "release_version": release.version,
        "slug_id": release.slug_id,
        "label": label,
        "status": release.status,
    }


def release_state(history: AppHistory, release: Release, label: str | None) -> TargetState:
    """`release` as a TargetState: its label for people, its slug as the identity."""
    return TargetState(
        Target(Side.HEROKU, history.app),
        Version(label) if label is not None else None,
        release_detail(release, label),
        healthy=release.status == "succeeded",
        identity=history.identity(release),
        revision=f"v{release.version}",
    )
