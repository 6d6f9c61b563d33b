"""From the live state and the state asked for, the runtime API commands to send. Pure.

Map entries are compared as HAProxy holds them (a key it lacks is added, one it has is
set, one no longer wanted is deleted: `add map` on an existing key would add a second
entry that lookups never reach). A drain readies the other side before draining this
one, so there is never a moment with no usable side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from shipper.core.model import Side
from shipper.traffic import maps
from shipper.traffic.model import TrafficState
from shipper.traffic.ports import Command


def plan_commands(
    live_entries: Mapping[str, Mapping[str, str]],
    live_drained: Side | None,
    wanted: TrafficState,
    map_name: Callable[[str], str],
    servers: Mapping[Side, Sequence[str]],
) -> list[Command]:
    """The commands that take HAProxy from what it holds to `wanted`, in order."""
    out: list[Command] = []
    if wanted.drained != live_drained:
        if live_drained is not None:
            out += _server_state(live_drained, servers[live_drained], "ready")
        if wanted.drained is not None:
            out += _server_state(wanted.drained, servers[wanted.drained], "drain")
    for name, entries in maps.map_entries(wanted).items():
        out += _map_commands(name, live_entries.get(name, {}), entries, map_name(name))
    return out


def _server_state(side: Side, names: Sequence[str], state: str) -> list[Command]:
    undo = "drain" if state == "ready" else "ready"
    return [
        Command(
            line=f"set server {side.value}/{name} state {state}",
            what=f"{side.value}/{name} {state}",
            undo=f"set server {side.value}/{name} state {undo}",
        )
        for name in names
    ]


def _map_commands(
    name: str, live: Mapping[str, str], wanted: Mapping[str, str], path: str
) -> list[Command]:
    label = name.removesuffix(".map")
    out: list[Command] = []
    for key, value in wanted.items():
        if key not in live:
            out.append(
                Command(
                    f"add map {path} {key} {value}",
                    f"{label} {key} = {value}",
                    undo=f"del map {path} {key}",
                )
            )
        elif live[key] != value:
            out.append(
                Command(
                    f"set map {path} {key} {value}",
                    f"{label} {key} {live[key]} -> {value}",
                    undo=f"set map {path} {key} {live[key]}",
                )
            )
    for key in live:
        if key not in wanted:
            out.append(
                Command(
                    f"del map {path} {key}",
                    f"{label} {key} removed",
                    undo=f"add map {path} {key} {live[key]}",
                )
            )
    return out
