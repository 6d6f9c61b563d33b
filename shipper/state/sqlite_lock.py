"""The pipeline lock in the local SQLite file, with a fencing token."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from shipper.core.model import Holder, LockInfo, LockLease
from shipper.errors import LockHeld, LockLost
from shipper.ports import Clock
from shipper.state.liveness import process_exists, this_host
from shipper.state.sqlite_db import Database
from shipper.state.stale import held_message, stale_reason

_COLUMNS = "holder, host, pid, reason, acquired_at, renewed_at, ttl, token, manual"


class SqliteLock:
    """One holder at a time per pipeline. Every acquisition gets a bigger token; a
    process whose token is no longer the row's has lost the lock (`verify` says so)."""

    def __init__(
        self,
        db: Database,
        pipeline: str,
        clock: Clock,
        *,
        host: str | None = None,
        is_alive: Callable[[int], bool] = process_exists,
    ) -> None:
        self._db = db
        self._pipeline = pipeline
        self._clock = clock
        self._host = host or this_host()
        self._is_alive = is_alive

    @classmethod
    def at(cls, path: Path, pipeline: str, clock: Clock) -> SqliteLock:
        return cls(Database(path), pipeline, clock)

    def acquire(
        self,
        holder: Holder,
        reason: str,
        ttl_seconds: float | None,
        *,
        force: bool = False,
        manual: bool = False,
    ) -> LockLease:
        now = self._clock.now()
        try:
            with self._db.transaction() as cur:
                current = self._read(cur)
                took_over, why = None, ""
                if current is not None:
                    why = stale_reason(current, now=now, host=self._host, is_alive=self._is_alive)
                    if not why and not force:
                        raise LockHeld(held_message(current, now))
                    took_over, why = current, why or "forced with --force-lock"
                row = cur.execute(
                    "SELECT last_token FROM lock_tokens WHERE pipeline = ?", (self._pipeline,)
                ).fetchone()
                token = (int(row[0]) if row else 0) + 1
                cur.execute(
                    "INSERT INTO lock_tokens (pipeline, last_token) VALUES (?, ?) "
                    "ON CONFLICT (pipeline) DO UPDATE SET last_token = excluded.last_token",
                    (self._pipeline, token),
                )
                info = LockInfo(
                    pipeline=self._pipeline,
                    holder=holder,
                    reason=reason,
                    acquired_at=now,
                    renewed_at=now,
                    ttl_seconds=ttl_seconds,
                    token=token,
                    manual=manual,
                )
                cur.execute("DELETE FROM locks WHERE pipeline = ?", (self._pipeline,))
                cur.execute(
                    f"INSERT INTO locks (pipeline, {_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self._pipeline,
                        holder.name,
                        holder.host,
                        holder.pid,
                        reason,
                        now.isoformat(),
                        now.isoformat(),
                        ttl_seconds,
                        token,
                        int(manual),
                    ),
                )
        except sqlite3.Error as exc:
            raise self._db.error("take the lock in", exc) from None
        return LockLease(info=info, took_over=took_over, takeover_reason=why)

    def renew(self, lease: LockLease) -> LockLease:
        now = self._clock.now()
        try:
            with self._db.transaction() as cur:
                cur.execute(
                    "UPDATE locks SET renewed_at = ? WHERE pipeline = ? AND token = ?",
                    (now.isoformat(), self._pipeline, lease.info.token),
                )
                updated = cur.rowcount
        except sqlite3.Error as exc:
            raise self._db.error("renew the lock in", exc) from None
        if updated == 0:
            raise LockLost(self._lost_message())
        from dataclasses import replace

        return replace(lease, info=replace(lease.info, renewed_at=now))

    def verify(self, lease: LockLease) -> None:
        rows = self._db.query("SELECT token FROM locks WHERE pipeline = ?", (self._pipeline,))
        if not rows or int(str(rows[0][0])) != lease.info.token:
            raise LockLost(self._lost_message())

    def release(self, lease: LockLease) -> None:
        try:
            with self._db.transaction() as cur:
                cur.execute(
                    "DELETE FROM locks WHERE pipeline = ? AND token = ?",
                    (self._pipeline, lease.info.token),
                )
        except sqlite3.Error as exc:
            raise self._db.error("release the lock in", exc) from None

    def show(self) -> LockInfo | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM locks WHERE pipeline = ?", (self._pipeline,))
        return self._info(rows[0]) if rows else None

    def release_any(self) -> LockInfo | None:
        try:
            with self._db.transaction() as cur:
                current = self._read(cur)
                cur.execute("DELETE FROM locks WHERE pipeline = ?", (self._pipeline,))
        except sqlite3.Error as exc:
            raise self._db.error("release the lock in", exc) from None
        return current

    def _read(self, cur: sqlite3.Cursor) -> LockInfo | None:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM locks WHERE pipeline = ?", (self._pipeline,)
        ).fetchone()
        return self._info(row) if row else None

    def _info(self, row: tuple[object, ...]) -> LockInfo:
        holder, host, pid, reason, acquired, renewed, ttl, token, manual = row
        return LockInfo(
            pipeline=self._pipeline,
            holder=Holder(str(holder), str(host), int(str(pid)) if pid is not None else None),
            reason=str(reason),
            acquired_at=datetime.fromisoformat(str(acquired)),
            renewed_at=datetime.fromisoformat(str(renewed)),
            ttl_seconds=float(str(ttl)) if ttl is not None else None,
            token=int(str(token)),
            manual=bool(manual),
        )

    def _lost_message(self) -> str:
        current = self.show()
        who = f"{current.holder}" if current else "nobody (it was released)"
        return (
            f"lost the lock for {self._pipeline} to {who}; this process stopped changing "
            "things: `ship status` shows where the release stopped"
        )
