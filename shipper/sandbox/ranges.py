"""Heroku's Range pagination, as its list endpoints answer it.

`Range: version ..; max=10, order=desc` asks for the ten newest releases. A page that
leaves items out comes back as 206 with `Next-Range: version ]41..; max=10, order=desc`
(`]` makes the start exclusive); a complete answer is 200. The parser accepts the
parameters in either order, since clients write both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_MAX = 200
LIMIT_MAX = 1000

T = TypeVar("T")

_RANGE = re.compile(
    r"^\s*(?P<field>[a-z_]+)\s+(?P<start>\]?[^.;,\s]*)\.\.(?P<end>[^;,\s]*)\s*(?P<rest>.*)$"
)


class RangeError(ValueError):
    """The Range header cannot be satisfied (Heroku answers 416)."""


@dataclass(frozen=True)
class Range:
    field: str
    start: str = ""
    start_exclusive: bool = False
    end: str = ""
    max: int = DEFAULT_MAX
    descending: bool = False

    def render(self) -> str:
        start = ("]" if self.start_exclusive else "") + self.start
        order = "desc" if self.descending else "asc"
        return f"{self.field} {start}..{self.end}; max={self.max}, order={order}"


def parse_range(header: str | None, fields: Sequence[str], default_field: str) -> Range:
    """Read a Range header; None or empty means the whole list in default order."""
    if not header or not header.strip():
        return Range(field=default_field)
    match = _RANGE.match(header)
    if match is None:
        raise RangeError(f"Range header {header[:80]!r} is not like `version ..; max=10`")
    field = match.group("field")
    if field not in fields:
        raise RangeError(f"cannot range on {field}; Accept-Ranges: {', '.join(fields)}")
    start = match.group("start")
    exclusive = start.startswith("]")
    size, descending = DEFAULT_MAX, False
    for part in re.split(r"[;,]", match.group("rest")):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if key == "max":
            if not value.isdigit() or int(value) < 1:
                raise RangeError(f"max must be a positive number, got {value!r}")
            size = min(int(value), LIMIT_MAX)
        elif key == "order":
            if value not in ("asc", "desc"):
                raise RangeError(f"order must be asc or desc, got {value!r}")
            descending = value == "desc"
        else:
            raise RangeError(f"unknown Range parameter {key!r}")
    return Range(field, start.lstrip("]"), exclusive, match.group("end"), size, descending)


def paginate(
    items: Sequence[T], wanted: Range, key: Callable[[T, str], str | int]
) -> tuple[list[T], Range | None]:
    """The page `wanted` selects from `items`, and the Range of the next page (or None)."""

    def coerce(raw: str, sample: str | int) -> str | int:
        if isinstance(sample, int):
            if not raw.lstrip("-").isdigit():
                raise RangeError(f"{wanted.field} bounds are numbers, got {raw!r}")
            return int(raw)
        return raw

    ordered = sorted(items, key=lambda it: key(it, wanted.field), reverse=wanted.descending)
    selected: list[T] = []
    for item in ordered:
        value = key(item, wanted.field)
        if wanted.start:
            bound = coerce(wanted.start, value)
            before = value > bound if wanted.descending else value < bound  # type: ignore[operator]
            if before or (wanted.start_exclusive and value == bound):
                continue
        if wanted.end:
            bound = coerce(wanted.end, value)
            past = value < bound if wanted.descending else value > bound  # type: ignore[operator]
            if past:
                continue
        selected.append(item)
    page = selected[: wanted.max]
    if len(selected) <= wanted.max:
        return page, None
    last = key(page[-1], wanted.field)
    return page, Range(wanted.field, str(last), True, wanted.end, wanted.max, wanted.descending)
