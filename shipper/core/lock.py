"""The pipeline lock as the lock backends store it: who holds it, since when, for how
long, and the fencing token that lets a process which lost it write nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Holder:
    """Who holds (or asks for) a lock: a person's `user@host:pid`, or a CI run.

    `host` and `pid` let a later process on the same host see that the holder died.
    `pid` is None for a manual lock (a deploy freeze), which no process backs.
    """

    name: str
    host: str = ""
    pid: int | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class LockInfo:
    """The lock as stored: who, why, since when, and the fencing token."""

    pipeline: str
    holder: Holder
    reason: str
    acquired_at: datetime
    renewed_at: datetime
    ttl_seconds: float | None  # None: held until released (a manual freeze)
    token: int  # grows with every acquisition: a fencing token
    manual: bool = False

    def expires_at(self) -> datetime | None:
        if self.ttl_seconds is None:
            return None
        return self.renewed_at + timedelta(seconds=self.ttl_seconds)


@dataclass(frozen=True)
class LockLease:
    """What `Lock.acquire` hands back: our hold on the lock, and whom we took it from."""

    info: LockInfo
    took_over: LockInfo | None = None
    takeover_reason: str = ""  # "forced", "expired", "holder process gone"
