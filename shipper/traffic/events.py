"""Events of a traffic change, on the same stream as a release's (`docs/events.md`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shipper.core.events import Event
from shipper.core.model import JSONDict


@dataclass(frozen=True)
class TrafficCommand(Event):
    """One runtime API command: sent and done (`applied`), or refused / not sent."""

    name: ClassVar[str] = "traffic_command"
    command: str
    what: str
    applied: bool
    message: str = ""


@dataclass(frozen=True)
class TrafficChanged(Event):
    """The split before and after a change, as HAProxy reported it, and its process id
    (unchanged: nothing was reloaded)."""

    name: ClassVar[str] = "traffic_changed"
    change: str
    before: JSONDict
    after: JSONDict
    haproxy_pid: int | None
    files_written: bool


TRAFFIC_EVENTS: tuple[type[Event], ...] = (TrafficCommand, TrafficChanged)
