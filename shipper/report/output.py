"""The two output modes, and the console a one-shot rendering writes with."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from shipper.core.model import JSON


class OutputMode(StrEnum):
    """How a command speaks: `human` (live view, tables) or `json` (JSON lines for CI)."""

    HUMAN = "human"
    JSON = "json"


def console_for(out: TextIO, *, is_tty: bool | None = None) -> Console:
    """A console on `out`: styled on a terminal unless NO_COLOR is set, plain otherwise."""
    from shipper.report.console import make_console

    tty = _isatty(out) if is_tty is None else is_tty
    return make_console(out, is_tty=tty, no_color=os.environ.get("NO_COLOR", "") != "")


def write_json(out: TextIO, data: JSON) -> None:
    """One JSON document, then a newline; `jq` reads it as is."""
    out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    out.flush()


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
