"""The ledger in a local SQLite file (the default backend)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipper.core.model import JSON, LedgerEntry, Release, ReleaseNo
from shipper.errors import LedgerError
from shipper.state.sqlite_db import Database


class SqliteLedger:
    """Releases of one pipeline, newest first, with their event logs."""

    def __init__(self, db: Database, pipeline: str) -> None:
        self._db = db
        self._pipeline = pipeline

    @classmethod
    def at(cls, path: Path, pipeline: str) -> SqliteLedger:
        return cls(Database(path), pipeline)

    def next_number(self) -> ReleaseNo:
        rows = self._db.query(
            "SELECT COALESCE(MAX(number), 0) FROM releases WHERE pipeline = ?", (self._pipeline,)
        )
        return ReleaseNo(int(str(rows[0][0])) + 1)

    def create(self, release: Release) -> Release:
        try:
            with self._db.transaction() as cur:
                cur.execute(
                    "INSERT INTO releases "
                    "(pipeline, number, kind, version, state, started_at, data)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    self._row(release),
                )
        except sqlite3.IntegrityError:
            raise LedgerError(
                f"release {release.number} of {self._pipeline} already exists in the ledger at "
                f"{self._db.path}; another ship wrote it: retry"
            ) from None
        except sqlite3.Error as exc:
            raise self._db.error("write", exc) from None
        return release

    def save(self, release: Release) -> None:
        try:
            with self._db.transaction() as cur:
                self._update(cur, release)
        except sqlite3.Error as exc:
            raise self._db.error("write", exc) from None

    def _update(self, cur: sqlite3.Cursor, release: Release) -> None:
        pipeline, number, kind, version, state, started, data = self._row(release)
        cur.execute(
            "UPDATE releases SET kind = ?, version = ?, state = ?, started_at = ?, "
            "data = ? WHERE pipeline = ? AND number = ?",
            (kind, version, state, started, data, pipeline, number),
        )
        if cur.rowcount == 0:
            raise LedgerError(
                f"release {release.number} is missing from the ledger at {self._db.path}"
            )

    def append(self, number: ReleaseNo, entry: LedgerEntry) -> None:
        try:
            with self._db.transaction() as cur:
                self._insert(cur, number, [entry])
        except sqlite3.Error as exc:
            raise self._db.error("write", exc) from None

    def save_with(self, release: Release, entries: Sequence[LedgerEntry]) -> None:
        """The release and new lines of its log in one transaction (one side's intents)."""
        try:
            with self._db.transaction() as cur:
                self._update(cur, release)
                self._insert(cur, release.number, entries)
        except sqlite3.Error as exc:
            raise self._db.error("write", exc) from None

    def _insert(
        self, cur: sqlite3.Cursor, number: ReleaseNo, entries: Sequence[LedgerEntry]
    ) -> None:
        cur.executemany(
            "INSERT INTO entries (pipeline, number, time, event, fields) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    self._pipeline,
                    number,
                    e.time.isoformat(),
                    e.event,
                    json.dumps(e.fields, sort_keys=True),
                )
                for e in entries
            ],
        )

    def get(self, number: ReleaseNo) -> Release | None:
        rows = self._db.query(
            "SELECT data FROM releases WHERE pipeline = ? AND number = ?",
            (self._pipeline, number),
        )
        return self._decode(rows[0][0]) if rows else None

    def entries(self, number: ReleaseNo) -> list[LedgerEntry]:
        rows = self._db.query(
            "SELECT time, event, fields FROM entries WHERE pipeline = ? AND number = ? "
            "ORDER BY seq",
            (self._pipeline, number),
        )
        out: list[LedgerEntry] = []
        for time, event, fields in rows:
            data = self._json(fields)
            out.append(
                LedgerEntry.from_json({"time": str(time), "event": str(event), "fields": data})
            )
        return out

    def releases(self, limit: int | None = None) -> list[Release]:
        sql = "SELECT data FROM releases WHERE pipeline = ? ORDER BY number DESC"
        args: tuple[object, ...] = (self._pipeline,)
        if limit is not None:
            sql += " LIMIT ?"
            args = (self._pipeline, limit)
        return [self._decode(row[0]) for row in self._db.query(sql, args)]

    def _row(self, release: Release) -> tuple[str, int, str, str, str, str, str]:
        return (
            self._pipeline,
            release.number,
            release.kind.value,
            release.version,
            release.state.value,
            release.started_at.isoformat(),
            json.dumps(release.to_json(), sort_keys=True),
        )

    def _json(self, raw: object) -> JSON:
        try:
            value: JSON = json.loads(str(raw))
        except ValueError:
            raise LedgerError(
                f"the ledger at {self._db.path} holds a damaged record; it was left as it is"
            ) from None
        return value

    def _decode(self, raw: object) -> Release:
        data = self._json(raw)
        if not isinstance(data, Mapping):
            raise LedgerError(f"the ledger at {self._db.path} holds a damaged release record")
        try:
            return Release.from_json(data)
        except (KeyError, ValueError, TypeError):
            raise LedgerError(
                f"the ledger at {self._db.path} holds a release record this ship cannot read; "
                "it was left as it is"
            ) from None
