"""`ship traffic status`: the live split read back from HAProxy, compared with what the
ledger recorded and what the files on disk hold. The comparison is pure."""

from __future__ import annotations

from dataclasses import dataclass

from shipper.core.model import JSON, JSONDict, Side
from shipper.errors import ExitCode
from shipper.traffic.model import LiveReading, ServerState, TrafficState, other_side


@dataclass(frozen=True)
class TrafficView:
    pipeline: str
    address: str
    live: LiveReading | None
    unreadable: str = ""
    recorded: TrafficState | None = None  # the ledger's latest applied state
    on_disk: TrafficState | None = None  # the map files (a restart loads these)

    @property
    def ledger_differences(self) -> list[str]:
        if self.live is None or self.recorded is None:
            return []
        return self.recorded.differences(self.live.state)

    @property
    def file_differences(self) -> list[str]:
        if self.live is None or self.on_disk is None:
            return []
        live = self.live.state
        # the drain is server state, not a map: the files can't disagree about it
        return self.on_disk.differences(TrafficState(live.percent, live.pins, live.blocks))

    def problems(self) -> list[str]:
        """Each thing an operator should act on, in one line with the next step."""
        if self.live is None:
            return [self.unreadable]
        out: list[str] = []
        for side in Side:
            other = other_side(side)
            if not self.live.usable(side) and self.live.state.drained is not side:
                out.append(
                    f"{side} has no usable server (failing its health check): its traffic "
                    f"goes to {other}"
                )
        if self.ledger_differences:
            out.append(
                "HAProxy differs from the ledger ("
                + "; ".join(self.ledger_differences)
                + "): someone changed it outside ship"
            )
        if self.file_differences:
            out.append(
                "the map files differ from HAProxy ("
                + "; ".join(self.file_differences)
                + "): a restart would change the split"
            )
        return out

    @property
    def exit_code(self) -> ExitCode:
        """OK all as recorded and both sides usable; FAILED something to act on;
        OPERATOR unreadable."""
        if self.live is None:
            return ExitCode.OPERATOR
        return ExitCode.FAILED if self.problems() else ExitCode.OK

    def to_json(self) -> JSONDict:
        live = self.live
        return {
            "pipeline": self.pipeline,
            "runtime": self.address,
            "readable": live is not None,
            "haproxy_pid": live.pid if live else None,
            "state": live.state.to_json() if live else None,
            "servers": [s.to_json() for s in live.servers] if live else [],
            "routing": {side.value: live.usable(side) for side in Side} if live else {},
            "recorded": self.recorded.to_json() if self.recorded else None,
            "problems": list[JSON](self.problems()),
            "exit_code": int(self.exit_code),
        }


def server_line(state: ServerState) -> str:
    return {
        ServerState.UP: "up",
        ServerState.DOWN: "DOWN (health check failing)",
        ServerState.DRAIN: "drained",
        ServerState.MAINT: "maintenance",
    }[state]
