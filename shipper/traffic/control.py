"""`TrafficControl` over HAProxy: what a release needs of the split (the shares, and a
drain of one side and its undoing), sent through the runtime API with no reload and
written to the files a restart reads.

No lock is taken here: a release calls it while it holds the pipeline lock itself, and
records each move in its own ledger entry and event stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from shipper.core.model import Side
from shipper.errors import Blocked
from shipper.ports import TrafficMove, TrafficShare
from shipper.traffic.files import MapFiles
from shipper.traffic.model import LiveReading, TrafficState, other_side
from shipper.traffic.plan import plan_commands
from shipper.traffic.ports import TrafficProxy

if TYPE_CHECKING:
    from shipper.pipeline import TrafficSection


class DrainRefused(Blocked):
    """HAProxy can't take a side's traffic elsewhere: the other side has no usable server."""


def server_names(section: TrafficSection) -> dict[Side, list[str]]:
    """Each side's server names in its HAProxy backend (`app1`, `app2`, ...), as the
    rendered configuration declares them."""
    from shipper.traffic.render import SERVER_PREFIX

    return {
        side: [f"{SERVER_PREFIX}{i}" for i in range(1, len(section.backend(side).servers) + 1)]
        for side in Side
    }


class HAProxyTrafficControl:
    """The split as a release sees it, through the HAProxy runtime API."""

    def __init__(
        self, proxy: TrafficProxy, files: MapFiles, servers: Mapping[Side, Sequence[str]]
    ) -> None:
        self._proxy = proxy
        self._files = files
        self._servers = servers

    def share(self) -> TrafficShare:
        state = self._proxy.read().state
        return TrafficShare(state.percent, len(state.pins), len(state.blocks), state.drained)

    def drain(self, side: Side) -> TrafficMove:
        live = self._proxy.read()
        if live.state.drained is side:
            return TrafficMove(False, f"{side} was already drained in HAProxy; left as it was")
        other = other_side(side)
        if not live.usable(other):
            raise DrainRefused(
                f"not drained: {other} has no usable server in HAProxy either, so the "
                f"regression is not confined to {side}"
            )
        lines = self._apply(live, live.state.with_drain(side))
        return TrafficMove(
            True, f"drained {side} in HAProxy ({'; '.join(lines)}): its traffic goes to {other}"
        )

    def undrain(self, side: Side) -> TrafficMove:
        live = self._proxy.read()
        if live.state.drained is not side:
            return TrafficMove(False, f"{side} was not drained in HAProxy; nothing to undo")
        lines = self._apply(live, live.state.with_drain(None))
        return TrafficMove(
            True, f"undrained {side} in HAProxy ({'; '.join(lines)}): the split applies again"
        )

    def _apply(self, live: LiveReading, wanted: TrafficState) -> list[str]:
        commands = plan_commands(
            live.entries, live.state.drained, wanted, self._proxy.map_name, self._servers
        )
        for command in commands:
            self._proxy.apply(command)
        after = self._proxy.read()
        self._files.write(after.state, self._proxy.server_state())
        return [command.line for command in commands]


def traffic_control(section: TrafficSection) -> HAProxyTrafficControl:
    """The adapter for a pipeline's `traffic:` section."""
    from pathlib import Path

    from shipper.traffic.runtime import HAProxyRuntime

    folder = Path(section.maps_dir)
    return HAProxyTrafficControl(
        HAProxyRuntime(section.runtime, folder), MapFiles(folder), server_names(section)
    )
