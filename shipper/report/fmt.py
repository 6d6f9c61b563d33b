"""Small pure formatting rules shared by every output, so all of them say `1m22s`."""

from __future__ import annotations

from shipper.core.sides import short_label


def duration(seconds: float | None) -> str:
    """`0.4` -> `<1s`, `46` -> `46s`, `82` -> `1m22s`, `3780` -> `1h03m`; None -> `-`."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return "<1s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def version(text: str | None) -> str:
    """A version for display; unknown reads as `?`, never as an empty cell."""
    return text if text else "?"


def short_version(text: str | None) -> str:
    """A version for a table cell: a full git SHA (40 hex digits) is shortened to 12, as
    `git log --abbrev=12` shows it (the core's one rule, `sides.short_label`); anything
    else is shown whole, never cut."""
    return short_label(text) if text else version(text)


def change(old: str | None, new: str | None) -> str:
    """`v41 -> v42`, or just `v42` when nothing changes (full SHAs shortened)."""
    if old == new:
        return short_version(new)
    return f"{short_version(old)} -> {short_version(new)}"


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters (a multi-line message keeps its first line)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"
