"""`--output json`: the event stream as JSON lines, the interface CI scripts rely on.

One object per line, written and flushed as the event happens, so a consumer reading a
pipe sees a release as it goes and loses nothing when ship is killed. The fields are the
contract documented in docs/events.md and docs/events.schema.json.
"""

from __future__ import annotations

import json
import math
import threading
from typing import TextIO

from shipper.core.events import Stamped
from shipper.core.model import JSON


def encode(event: Stamped) -> str:
    """One event as one line of strict JSON (NaN and infinities become null, because
    `jq` and most parsers refuse them)."""
    data = event.to_json()
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))


def _finite(value: JSON) -> JSON:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


class JsonLinesSink:
    """Writes each event as one line of JSON to `out` (stdout in the CLI)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        # Both sides report concurrently: one line must never interleave with another.
        self._guard = threading.Lock()

    def emit(self, event: Stamped) -> None:
        line = encode(event)
        with self._guard:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        with self._guard:
            self._out.flush()
