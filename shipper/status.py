"""`ship status` and `ship validate --online`: read everything, change nothing.

Each part is read on its own, so one unreachable side or a broken status page shows up
as such instead of hiding the rest: an operator at 3 a.m. needs every fact available.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from shipper.core.model import LockInfo, Release, Side, TargetState
from shipper.errors import ShipError
from shipper.ports import GateReading, Platform

if TYPE_CHECKING:
    from shipper.report.status import StatusView
    from shipper.wiring import Wiring


def read_status(wiring: Wiring, *, warn: Callable[[str], None]) -> StatusView:
    from shipper.report.status import StatusView

    targets: list[TargetState] = []
    unreadable: dict[Side, str] = {}
    try:
        platforms = wiring.platforms(quick=True)
    except ShipError as exc:
        platforms = {}
        for side in (Side.HEROKU, Side.KUBERNETES):
            if getattr(wiring.pipeline, side.value) is not None:
                unreadable[side] = str(exc)

    def read(item: tuple[Side, Platform]) -> tuple[Side, list[TargetState] | str]:
        side, platform = item
        try:
            return side, list(platform.snapshot())
        except ShipError as exc:
            return side, str(exc)

    with ThreadPoolExecutor(max_workers=3) as pool:
        gate_future = pool.submit(_gate, wiring)
        for side, got in pool.map(read, platforms.items()):
            if isinstance(got, str):
                unreadable[side] = got
            else:
                targets.extend(got)
        gate = gate_future.result()

    lock: LockInfo | None = None
    releases: list[Release] = []
    try:
        lock = wiring.lock().show()
    except ShipError as exc:
        warn(f"ship: warning: cannot read the lock: {exc}")
    try:
        releases = wiring.ledger().releases(limit=50)
    except ShipError as exc:
        warn(f"ship: warning: cannot read the ledger: {exc}")
    in_progress = next((r for r in releases if r.state.is_open), None)
    return StatusView(
        pipeline=wiring.pipeline.name,
        now=wiring.clock.now(),
        targets=targets,
        unreadable=unreadable,
        lock=lock,
        gate=gate,
        in_progress=in_progress,
        releases=releases,
    )


def _gate(wiring: Wiring) -> GateReading | None:
    try:
        gate = wiring.gate()
        return gate.read() if gate is not None else None
    except ShipError as exc:
        return GateReading(is_open=False, summary=f"cannot read the platform status: {exc}")


def reach_everything(wiring: Wiring, *, say: Callable[[str], None]) -> list[str]:
    """Read every target, the status page, the ledger and the lock; report each."""
    problems: list[str] = []
    try:
        platforms = wiring.platforms(quick=True)
    except ShipError as exc:
        say(f"  platforms: {exc}")
        return [str(exc)]
    for side, platform in platforms.items():
        try:
            states = platform.snapshot()
            for state in states:
                say(f"  {state.target}: reachable, runs {state.version}")
        except ShipError as exc:
            problems.append(f"{side.value}: {exc}")
            say(f"  {side.value}: UNREACHABLE: {exc}")
    gate = _gate(wiring)
    if gate is not None:
        say(f"  platform status: {gate.summary}")
    for name, read in (
        ("ledger", lambda: wiring.ledger().releases(limit=1)),
        ("lock", lambda: wiring.lock().show()),
    ):
        try:
            read()
            say(f"  {name}: readable")
        except ShipError as exc:
            problems.append(f"{name}: {exc}")
            say(f"  {name}: UNREADABLE: {exc}")
    return problems
