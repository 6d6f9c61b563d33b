"""Compare rendered text with a file under snapshots/; SHIP_UPDATE_SNAPSHOTS=1 rewrites it."""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import Console, RenderableType

HERE = Path(__file__).parent / "snapshots"


def render(renderable: RenderableType, width: int = 100) -> str:
    """The text a fixed-width terminal would show, without styles."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def matches(name: str, text: str) -> bool:
    path = HERE / f"{name}.txt"
    if os.environ.get("SHIP_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    expected = path.read_text() if path.exists() else None
    if expected != text:
        print(f"--- {name} rendered as:\n{text}")
    return expected == text
