"""Fault injection for the stand-ins: what the reliability suite throws at `ship`.

A fault matches requests by method and path (a regular expression searched in the
path) and fires a number of times. Kinds:

- `status`: answer `status` (429 with or without `Retry-After`, a 5xx burst) instead of
  handling the request;
- `slow`: wait `delay` seconds, then answer normally;
- `hang`: wait `delay` seconds, then drop the connection without answering (a client
  timeout);
- `reset`: drop the connection at once;
- `malformed`: answer 200 with a body that is not valid JSON.

With `commit: true` the request is handled first and only the answer is lost: the
ambiguous failure after which a client must look before it repeats a POST.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

FaultKind = Literal["status", "slow", "hang", "reset", "malformed"]
KINDS: tuple[FaultKind, ...] = ("status", "slow", "hang", "reset", "malformed")


@dataclass
class Fault:
    kind: FaultKind
    method: str = "*"
    path: str = ""
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    times: int | None = 1  # None: until cleared
    commit: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from a control request; ValueError names what is wrong."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        fault = cls(kind=cast(FaultKind, kind))
        for key, value in data.items():
            setattr(fault, key, value)
        re.compile(fault.path)
        if not 100 <= int(fault.status) <= 599:
            raise ValueError("fault status must be an HTTP status")
        return fault


class FaultPlan:
    """The faults armed on one stand-in, plus a latency added to every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0
        self.fired = 0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, counting one firing."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    self.fired += 1
                    return fault
        return None

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self.latency,
                "fired": self.fired,
                "armed": [f.to_json() for f in self._faults],
            }
