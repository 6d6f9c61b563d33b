"""Domain values for the renderers' tests."""

from __future__ import annotations

from datetime import timedelta

from shipper.core.model import (
    JSON,
    Holder,
    LockInfo,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Side,
    Snapshot,
    Target,
    TargetState,
    Version,
)
from tests.report.streams import ACTOR, T0


def state(
    side: str,
    name: str,
    version: str | None,
    healthy: bool | None = True,
    *,
    shown_revision: str | None = None,  # what the adapter would display (TargetState.revision)
    **detail: JSON,
) -> TargetState:
    return TargetState(
        Target(Side(side), name),
        Version(version) if version else None,
        dict(detail),
        healthy=healthy,
        revision=shown_revision,
    )


def targets(heroku: str | None = "v41", kubernetes: str | None = "v41") -> list[TargetState]:
    return [
        state("heroku", "acme-web", heroku, shown_revision="v123", release_version=123),
        state("heroku", "acme-worker", heroku, shown_revision="v88", release_version=88),
        state("kubernetes", "deployment/web", kubernetes, shown_revision="rev 7", revision=7),
        state("kubernetes", "deployment/worker", kubernetes, shown_revision="rev 5", revision=5),
    ]


def release(
    number: int,
    version: str,
    state: ReleaseState = ReleaseState.SUCCEEDED,
    kind: ReleaseKind = ReleaseKind.CODE,
    hours: float = 0,
    reason: str = "",
    seconds: float | None = 612,
    phase: Phase = Phase.DONE,
) -> Release:
    started = T0 + timedelta(hours=hours)
    return Release(
        ReleaseNo(number),
        "web",
        kind,
        Version(version),
        state,
        phase,
        ACTOR,
        started,
        reason=reason,
        finished_at=started + timedelta(seconds=seconds) if seconds is not None else None,
        exit_code=0 if state is ReleaseState.SUCCEEDED else None,
        snapshot=Snapshot(tuple(targets("v41", "v41"))),
        deployed=Snapshot(tuple(targets(version, version))),
    )


def lock(minutes_ago: float = 12, ttl: float | None = 900, manual: bool = False) -> LockInfo:
    since = T0 - timedelta(minutes=minutes_ago)
    return LockInfo(
        "web", Holder("alice@bastion", "bastion", 4242), "hotfix", since, since, ttl, 4, manual
    )
