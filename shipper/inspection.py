"""`ship status` and `ship validate --online`: read everything, change nothing.

Each part is read on its own, so one unreachable side or a broken status page shows up
as such instead of hiding the rest: an operator at 3 a.m. needs every fact available.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from shipper.core.model import (
    LockInfo,
    Measurement,
    MeasurementStatus,
    Release,
    Side,
    TargetState,
)
from shipper.errors import ShipError
from shipper.ports import GateReading, Platform

TRAFFIC_TIMEOUT = 2.0  # seconds per runtime API call: status must not hang on HAProxy

if TYPE_CHECKING:
    from shipper.report.status import StatusView, TrafficSummary
    from shipper.wiring import Wiring


def read_status(wiring: Wiring, *, warn: Callable[[str], None]) -> StatusView:
    from shipper.report.status import StatusView
    from shipper.state.liveness import process_exists, this_host
    from shipper.state.stale import stale_reason

    targets: list[TargetState] = []
    unreadable: dict[Side, str] = {}
    try:
        platforms = wiring.platforms(quick=True)
    except ShipError as exc:
        platforms = {}
        for side in Side:
            if getattr(wiring.pipeline, side.value) is not None:
                unreadable[side] = str(exc)

    def read(item: tuple[Side, Platform]) -> tuple[Side, list[TargetState] | str]:
        side, platform = item
        try:
            states = list(platform.snapshot())
        except ShipError as exc:
            return side, str(exc)
        try:
            health = platform.health(states)
        except ShipError as exc:
            return side, f"its health could not be read: {exc}"
        if health.status is MeasurementStatus.INCONCLUSIVE:
            return side, f"its health could not be read: {health.message or health.value}"
        return side, with_health(states, health)

    with ThreadPoolExecutor(max_workers=4) as pool:
        gate_future = pool.submit(_gate, wiring)
        traffic_future = pool.submit(read_traffic, wiring)
        for side, got in pool.map(read, platforms.items()):
            if isinstance(got, str):
                unreadable[side] = got
            else:
                targets.extend(got)
        gate = gate_future.result()
        traffic = traffic_future.result()

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
    now = wiring.clock.now()
    stale = stale_reason(lock, now=now, host=this_host(), is_alive=process_exists) if lock else ""
    return StatusView(
        pipeline=wiring.pipeline.name,
        now=now,
        targets=targets,
        unreadable=unreadable,
        lock=lock,
        gate=gate,
        in_progress=in_progress,
        releases=releases,
        lock_stale=stale,
        traffic=traffic,
    )


def read_traffic(wiring: Wiring) -> TrafficSummary | None:
    """The HAProxy split, read-only, when the pipeline has a `traffic:` section: the live
    state against the ledger's last recorded traffic change. A HAProxy that can't be
    reached (or answers something unreadable) is said in one line, never raised."""
    section = wiring.pipeline.traffic
    if section is None:
        return None
    from shipper.report.status import TrafficSummary
    from shipper.traffic.change import last_recorded
    from shipper.traffic.runtime import HAProxyRuntime

    proxy = HAProxyRuntime(section.runtime, Path(section.maps_dir), timeout=TRAFFIC_TIMEOUT)
    try:
        live = proxy.read()
    except (ShipError, OSError, ValueError) as exc:
        return TrafficSummary(proxy.address, unreadable=str(exc) or type(exc).__name__)
    try:
        recorded = last_recorded(wiring.ledger())
    except ShipError:
        recorded = None  # the ledger's own warning says so
    state = live.state
    unusable = tuple(
        side.value for side in Side if not live.usable(side) and state.drained is not side
    )
    return TrafficSummary(
        address=proxy.address,
        percent=state.percent,
        pins=len(state.pins),
        blocks=len(state.blocks),
        drained=state.drained.value if state.drained else None,
        unusable=unusable,
        differs=tuple(recorded.differences(state)) if recorded else (),
        recorded=recorded is not None,
    )


def with_health(states: list[TargetState], health: Measurement) -> list[TargetState]:
    """The states with each target's health, as the side's own health reading gives it:
    `deployment/web 2/2 available; ...` when all pass (each target gets its part), or the
    first failure (`deployment/web: ...`), which marks the target it names unhealthy."""
    passed = health.status is MeasurementStatus.SUCCESSFUL
    parts = [p.strip() for p in health.value.split(";")] if passed else []
    out = []
    for state in states:
        name = state.target.name
        if passed:
            said = next((p[len(name) :].strip() for p in parts if p.startswith(name + " ")), "")
            healthy = state.healthy if state.healthy is not None else True
            out.append(replace(state, healthy=healthy, message=state.message or said))
            continue
        why = health.message or health.value
        if why.startswith((name + ":", name + " ")) or f"{name} " in why:
            out.append(replace(state, healthy=False, message=why))
        else:
            out.append(state)
    if not passed and all(s.healthy is not False for s in out):
        # the failure names no single target: the side as a whole is unhealthy
        why = health.message or health.value
        out = [replace(s, healthy=False, message=s.message or why) for s in out]
    return out


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
