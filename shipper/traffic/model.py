"""The traffic state: what HAProxy is told about the split, as frozen values.

`TrafficState` is everything ship changes: the percentage, the pinned and blocked sites,
and which side (if any) is drained. It serialises to plain JSON for the ledger.

The split is two-sided by nature, and this module says so where it is: the percentage is
the share of sites on Kubernetes, the rest and every blocked site go to Heroku, and a side
that drains or fails sends its traffic to the other one (`other_side`). A third platform
would need another routing, not one more case.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from shipper.core.model import JSON, JSONDict, Side
from shipper.errors import BadInput

_SITE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")


def check_site(raw: str) -> str:
    """A site id as the site cookie carries it: letters, digits and `._:@-`, at most
    128 characters. Anything else could not be a map key (HAProxy splits on spaces, the
    runtime API on `;`), so it is refused as bad input rather than mangled."""
    if not _SITE.fullmatch(raw):
        shown = raw[:60].encode("unicode_escape").decode("ascii")
        raise BadInput(f'"{shown}" is not a site id (letters, digits and ._:@- only, at most 128)')
    return raw


def check_percent(raw: int) -> int:
    if isinstance(raw, bool) or not 0 <= raw <= 100:
        raise BadInput(f"--percent must be a whole number from 0 to 100, got {raw}")
    return raw


class ServerState(enum.StrEnum):
    """What HAProxy reports for one server, as far as routing is concerned."""

    UP = "up"
    DOWN = "down"  # failing its health check
    DRAIN = "drain"  # drained by an operator: no new requests
    MAINT = "maint"


def other_side(side: Side) -> Side:
    """The side that takes `side`'s traffic when it drains or has no usable server."""
    match side:
        case Side.HEROKU:
            return Side.KUBERNETES
        case Side.KUBERNETES:
            return Side.HEROKU


@dataclass(frozen=True)
class TrafficState:
    """The split as ship sets it. `drained` is the side taking no new requests."""

    percent: int = 0
    pins: Mapping[str, Side] = field(default_factory=dict)
    blocks: frozenset[str] = frozenset()
    drained: Side | None = None

    def side_of(self, site: str | None, bucket_of: int) -> Side:
        """Where a request goes when both sides are healthy: a drain first, then a block
        (always Heroku), then a pin, then the site's bucket against the percentage."""
        if self.drained is not None:
            return other_side(self.drained)
        if site is not None and site in self.blocks:
            return Side.HEROKU
        if site is not None and site in self.pins:
            return self.pins[site]
        return Side.KUBERNETES if bucket_of < self.percent else Side.HEROKU

    def with_percent(self, percent: int) -> TrafficState:
        return replace(self, percent=check_percent(percent))

    def with_pin(self, site: str, side: Side | None) -> TrafficState:
        pins = dict(self.pins)
        if side is None:
            pins.pop(site, None)
        else:
            pins[check_site(site)] = side
        return replace(self, pins=pins)

    def with_block(self, site: str, blocked: bool) -> TrafficState:
        blocks = set(self.blocks)
        if blocked:
            blocks.add(check_site(site))
        else:
            blocks.discard(site)
        return replace(self, blocks=frozenset(blocks))

    def with_drain(self, side: Side | None) -> TrafficState:
        return replace(self, drained=side)

    def describe(self) -> str:
        drained = f", {self.drained} drained" if self.drained else ""
        return (
            f"{self.percent}% of sites on kubernetes, {len(self.pins)} pinned, "
            f"{len(self.blocks)} blocked{drained}"
        )

    def to_json(self) -> JSONDict:
        return {
            "percent": self.percent,
            "pins": {site: side.value for site, side in sorted(self.pins.items())},
            "blocks": list[JSON](sorted(self.blocks)),
            "drained": self.drained.value if self.drained else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> TrafficState:
        pins = data.get("pins")
        blocks = data.get("blocks")
        drained = data.get("drained")
        percent = data.get("percent")
        return cls(
            percent=percent if isinstance(percent, int) else 0,
            pins={str(k): Side(str(v)) for k, v in pins.items()} if isinstance(pins, dict) else {},
            blocks=frozenset(str(b) for b in blocks) if isinstance(blocks, list) else frozenset(),
            drained=Side(drained) if isinstance(drained, str) else None,
        )

    def differences(self, other: TrafficState) -> list[str]:
        """What `other` has that this state doesn't, in words (empty when they agree)."""
        out: list[str] = []
        if self.percent != other.percent:
            out.append(f"percent {self.percent} vs {other.percent}")
        for site in sorted(set(self.pins) | set(other.pins)):
            mine, theirs = self.pins.get(site), other.pins.get(site)
            if mine != theirs:
                out.append(f"pin {site}: {mine or 'none'} vs {theirs or 'none'}")
        for site in sorted(self.blocks ^ other.blocks):
            out.append(f"block {site}: {site in self.blocks} vs {site in other.blocks}")
        if self.drained != other.drained:
            out.append(f"drained {self.drained or 'none'} vs {other.drained or 'none'}")
        return out


@dataclass(frozen=True)
class ServerReading:
    """One HAProxy server as the runtime API reports it."""

    backend: str
    server: str
    state: ServerState
    check: str = ""  # the last health check's status, e.g. L7OK, L4CON
    requests: int = 0  # requests sent to it since HAProxy started
    errors: int = 0  # 5xx answers plus connection and response errors

    def to_json(self) -> JSONDict:
        return {
            "backend": self.backend,
            "server": self.server,
            "state": self.state.value,
            "check": self.check,
            "requests": self.requests,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class LiveReading:
    """What HAProxy runs now: the state its maps and servers hold, plus health and
    counters, and its process id (a reload or restart changes it)."""

    state: TrafficState
    servers: tuple[ServerReading, ...]
    pid: int | None = None
    entries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # map -> entries

    def usable(self, side: Side) -> bool:
        """Whether HAProxy can send new requests to `side` (a server up and not drained)."""
        return any(s.state is ServerState.UP for s in self.servers if s.backend == side.value)
