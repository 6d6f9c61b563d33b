"""One SQLite file per pipeline, shared by the ledger and the lock.

WAL mode lets `ship status` read while a release writes; a busy timeout makes
concurrent processes queue instead of failing. A schema version table guards against a
newer ship's file being misread. Any sqlite error becomes a LedgerError that names the
file and says the file was left as it was: the ledger is never reset silently.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipper.errors import LedgerError, StateDirUnusable

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS releases (
    pipeline TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (pipeline, number)
);
CREATE TABLE IF NOT EXISTS entries (
    pipeline TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    event TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_release ON entries (pipeline, number, seq);
CREATE TABLE IF NOT EXISTS locks (
    pipeline TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER,
    reason TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    renewed_at TEXT NOT NULL,
    ttl REAL,
    token INTEGER NOT NULL,
    manual INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lock_tokens (pipeline TEXT PRIMARY KEY, last_token INTEGER NOT NULL);
"""


def _writable(path: Path) -> bool:
    """Whether ship may create or write the state file (a read-only file or folder is
    configuration to fix, not a ledger to repair)."""
    import os

    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return os.access(path.parent, os.W_OK)


def unusable(path: Path, why: str) -> StateDirUnusable:
    return StateDirUnusable(
        f"cannot write the ledger at {path}: {why}; set SHIP_STATE_DIR (or ledger.path and "
        "lock.path) to a writable folder"
    )


class Database:
    """A thread-safe connection to one state file."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self._guard = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._prepare(busy_timeout)
        except sqlite3.Error as exc:
            if not _writable(path):
                raise unusable(path, "not writable") from None
            raise self.error("open", exc) from None
        except OSError as exc:
            raise unusable(path, exc.strerror or str(exc)) from None

    def _prepare(self, patience: float) -> None:
        """WAL mode and the schema, retried while another process does the same.

        Switching a new file to WAL needs an exclusive lock, and SQLite answers "database
        is locked" at once, without its busy handler, when two processes race to do it (two
        `ship` commands started together on a new pipeline). The race is short: wait it out.
        """
        deadline = time.monotonic() + patience
        attempt = 0
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                attempt += 1
                time.sleep(min(0.5, 0.01 * 2**attempt))

    def error(self, action: str, exc: BaseException) -> LedgerError:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "locked" in text or "busy" in text:
            return LedgerError(
                f"the ledger at {self.path} is locked by another process ({text}); wait and retry"
            )
        return LedgerError(
            f"cannot {action} the ledger at {self.path} ({text}); the file was left as it is: "
            "move it aside to start a new ledger, or restore it from a backup"
        )

    def _migrate(self) -> None:
        self._conn.executescript(_SCHEMA)
        with self.transaction() as cur:
            rows = cur.execute("SELECT version FROM schema_version").fetchall()
            if not rows:
                cur.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        if rows and rows[0][0] > SCHEMA_VERSION:
            raise LedgerError(
                f"the ledger at {self.path} has schema version {rows[0][0]}, newer than this "
                f"ship understands ({SCHEMA_VERSION}); upgrade ship"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """An IMMEDIATE transaction: writers queue on the file lock, readers go on."""
        with self._guard:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._guard:
            try:
                return list(self._conn.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise self.error("read", exc) from None

    def close(self) -> None:
        with self._guard:
            self._conn.close()
