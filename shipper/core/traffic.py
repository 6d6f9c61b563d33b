"""What a release does with the split in front of both sides (`traffic:`), through the
`TrafficControl` port: say each side's share when the bake starts, drain a side that
regressed alone before the joint rollback, and undo the drain once the rollback is
verified. Each move is a `traffic_moved` event, so the ledger and the stream record it.
A proxy that can't be read or refuses never stops a rollback: it is said, and the
rollback goes on."""

from __future__ import annotations

from collections.abc import Callable

from shipper.core.events import Event, Notice, TrafficMoved
from shipper.core.model import Side
from shipper.core.ports import TrafficControl
from shipper.errors import ShipError

Emit = Callable[[Event], None]


def say_shares(traffic: TrafficControl | None, emit: Emit) -> None:
    """A notice of what share of traffic each side serves while the bake runs."""
    if traffic is None:
        return
    try:
        share = traffic.share()
    except ShipError as exc:
        emit(Notice(level="warning", message=f"traffic: the split could not be read: {exc}"))
        return
    idle = [side.value for side in Side if share.of(side) == 0]
    zero = (
        f"; {' and '.join(idle)} serves no sites now and is still verified by its health checks"
        if idle
        else ""
    )
    emit(Notice(level="info", message=f"traffic during the bake: {share.describe()}{zero}"))


def drain_before_rollback(
    traffic: TrafficControl | None, side: Side | None, enabled: bool, emit: Emit
) -> Side | None:
    """Drain `side` (the one side that regressed) when the pipeline asks for it; returns
    the side to undrain after a verified rollback, or None when nothing was changed."""
    if traffic is None or side is None or not enabled:
        return None
    try:
        moved = traffic.drain(side)
    except ShipError as exc:
        emit(TrafficMoved(action="drain", side=side.value, applied=False, message=str(exc)))
        return None
    emit(
        TrafficMoved(action="drain", side=side.value, applied=moved.changed, message=moved.message)
    )
    return side if moved.changed else None


def undrain_after_rollback(traffic: TrafficControl | None, side: Side | None, emit: Emit) -> str:
    """Undo the drain once the rollback is verified; a clause for the outcome's line."""
    if traffic is None or side is None:
        return ""
    try:
        moved = traffic.undrain(side)
    except ShipError as exc:
        emit(TrafficMoved(action="undrain", side=side.value, applied=False, message=str(exc)))
        return f"; {side} is still drained in HAProxy ({exc}): `ship traffic undrain`"
    emit(
        TrafficMoved(
            action="undrain", side=side.value, applied=moved.changed, message=moved.message
        )
    )
    return f"; {side} took traffic again" if moved.changed else ""


def still_drained(side: Side | None) -> str:
    """A clause for a rollback that failed: the drain stays (the safer state)."""
    if side is None:
        return ""
    return f"; {side} stays drained in HAProxy: `ship traffic undrain` once it is healthy"
