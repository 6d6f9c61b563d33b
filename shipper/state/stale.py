"""When may a lock be taken over without --force-lock? One rule for every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shipper.core.model import LockInfo


def stale_reason(
    info: LockInfo, *, now: datetime, host: str, is_alive: Callable[[int], bool]
) -> str:
    """Why `info` is stale ("" if it is live).

    Stale means: its TTL passed without renewal, or its holder is a process on this
    same host that no longer exists. A manual lock (a deploy freeze) has no process and
    no TTL: only `ship lock release` or --force-lock ends it.
    """
    expires = info.expires_at()
    if expires is not None and now > expires:
        return f"its TTL passed {describe_age((now - expires).total_seconds())} ago unrenewed"
    pid = info.holder.pid
    if not info.manual and pid and info.holder.host == host and not is_alive(pid):
        return f"its process {pid} on {host} no longer exists"
    return ""


def describe_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{int(seconds // 86400)} days"


def held_message(info: LockInfo, now: datetime) -> str:
    age = describe_age((now - info.acquired_at).total_seconds())
    what = "frozen" if info.manual else "held"
    hint = "ship lock release" if info.manual else "wait, use --lock-wait, or use --force-lock"
    return (
        f'lock for {info.pipeline} is {what} by {info.holder} (reason: "{info.reason}", {age}); '
        f"{hint}"
    )
