"""The value types pipeline sections share: durations (`90s`, `15m`), URLs, the strict
model base, and key paths as a person writes them (`verify.checks[0].name`) with their line.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?")


def parse_duration(raw: object) -> float:
    """`90s`, `15m`, `1h`, `1h30m`, `500ms` -> seconds. Bare numbers are refused: is
    `bake: 5` five seconds or five minutes? The file must say."""
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise ValueError(f"expected a duration like 90s or 5m, got {show_value(raw)}")
    text = raw.strip()
    match = _DURATION.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"expected a duration like 90s or 5m, got {show_value(raw)}")
    h, m, s, ms = (int(g) if g else 0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000


def show_value(raw: object) -> str:
    if isinstance(raw, str):
        return f'"{raw[:60]}"'
    return repr(raw)[:60]


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def first_duplicate(items: Any) -> str | None:
    """The first item that appears twice, as text."""
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return str(item)
        seen.add(item)
    return None


def check_url(v: str) -> str:
    """`v` if it is an http(s) URL."""
    if not re.match(r"^https?://[^\s/]+", v):
        raise ValueError(f'"{v[:80]}" is not an http(s) URL')
    return v


def line_for(path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of `path`, or of its nearest parent the file has."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def dotted(path: list[str | int]) -> str:
    """`verify.checks[0].name`: a key path as a person writes it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
