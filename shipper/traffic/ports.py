"""The port the traffic logic needs from HAProxy, and the commands it sends.

`Command` is a pure value: `plan` makes them, the runtime adapter sends them. The port
speaks traffic types only; no socket or HAProxy text crosses it, except a command's own
line, which is what the ledger records as applied or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shipper.core.model import JSONDict
from shipper.traffic.model import LiveReading


@dataclass(frozen=True)
class Command:
    """One runtime API command. `line` is sent as is; `undo` puts back what it changed."""

    line: str
    what: str  # in words, for people: `percent 25 -> 50`
    undo: str = ""

    def to_json(self) -> JSONDict:
        return {"command": self.line, "what": self.what}


class TrafficProxy(Protocol):
    """The HAProxy in front of both sides, as its runtime API shows it."""

    @property
    def address(self) -> str:
        """Where the runtime API is, for messages."""
        ...

    def map_name(self, name: str) -> str:
        """A map file as the runtime API names it (the path the configuration gave)."""
        ...

    def read(self) -> LiveReading:
        """The live maps, server states, counters and process id. Raises
        ProxyUnreachable or ProxyRefused."""
        ...

    def apply(self, command: Command) -> None:
        """Send one command; raise ProxyRefused with HAProxy's answer when it refused it,
        ProxyUnreachable when the runtime API could not be reached."""
        ...

    def server_state(self) -> str:
        """HAProxy's server state (`show servers state`), as its server-state file holds it."""
        ...
