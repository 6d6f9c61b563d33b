"""The map files HAProxy loads at start: the same state the runtime API holds live.

Three maps, one concern each, so a change touches one entry of one map:
- `settings.map`: `percent N`, the share of sites (by bucket) on Kubernetes;
- `pins.map`: `SITE heroku|kubernetes`, sites pinned to a side;
- `blocks.map`: `SITE heroku`, sites that always go to Heroku (a block wins over a pin).
Drains are server state, kept in `servers.state` (HAProxy's own server-state file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from shipper.core.model import Side
from shipper.traffic.model import TrafficState

SETTINGS = "settings.map"
PINS = "pins.map"
BLOCKS = "blocks.map"
SERVER_STATE = "servers.state"
TIMEOUT_PAGE = "503-timeout.http"
MAPS = (SETTINGS, PINS, BLOCKS)
PERCENT_KEY = "percent"
BLOCKED_VALUE = Side.HEROKU.value  # a blocked site always goes to Heroku
SIDES = frozenset(side.value for side in Side)

HEADER = "# written by ship traffic; change it with `ship traffic`, not by hand\n"


def map_entries(state: TrafficState) -> dict[str, dict[str, str]]:
    """Each map's entries (key -> value) for `state`."""
    return {
        SETTINGS: {PERCENT_KEY: str(state.percent)},
        PINS: {site: side.value for site, side in sorted(state.pins.items())},
        BLOCKS: dict.fromkeys(sorted(state.blocks), BLOCKED_VALUE),
    }


def render_maps(state: TrafficState) -> dict[str, str]:
    """The text of each map file for `state`."""
    return {
        name: HEADER + "".join(f"{key} {value}\n" for key, value in entries.items())
        for name, entries in map_entries(state).items()
    }


def parse_map(text: str) -> dict[str, str]:
    """A map file's (or `show map`'s, ids removed) entries; the first of a duplicate key
    wins, as in HAProxy's lookups."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        out.setdefault(key, value.strip())
    return out


def state_from_maps(maps: Mapping[str, Mapping[str, str]], drained: Side | None) -> TrafficState:
    """The traffic state the three maps hold (and the drain, read from server state)."""
    raw = maps.get(SETTINGS, {}).get(PERCENT_KEY, "0")
    percent = int(raw) if raw.isdigit() else 0
    pins: dict[str, Side] = {}
    for site, value in maps.get(PINS, {}).items():
        if value in SIDES:
            pins[site] = Side(value)
    return TrafficState(
        percent=percent,
        pins=pins,
        blocks=frozenset(maps.get(BLOCKS, {})),
        drained=drained,
    )


def read_map_files(folder: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name in MAPS:
        path = folder / name
        out[name] = parse_map(path.read_text(encoding="utf-8")) if path.exists() else {}
    return out


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so HAProxy, starting at any moment, reads the old file
    or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_map_files(folder: Path, state: TrafficState) -> None:
    for name, text in render_maps(state).items():
        write_atomically(folder / name, text)


def timeout_page() -> str:
    """What HAProxy answers when a backend took longer than the request timeout: a 503
    like Heroku's router's H12, instead of HAProxy's own 504."""
    body = "H12 Request timeout: the application did not answer in time\n"
    return (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain\r\n"
        "Cache-Control: no-cache\r\n"
        "Connection: close\r\n"
        "X-Ship-Error: H12\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
        f"{body}"
    )
