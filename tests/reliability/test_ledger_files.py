"""A damaged or busy ledger file: every command says so in one line, exits 4, never shows a
traceback, writes no crash file, and leaves the file exactly as it was."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.reliability.stage import SHIP
from tests.reliability.tally import Tally

PIPELINE = {
    "name": "web",
    "heroku": {
        "api_url": "http://127.0.0.1:9",
        "apps": ["acme-web"],
        "artifact": {"type": "source", "url": "https://x.invalid/{version}.tgz"},
    },
}
COMMANDS = [
    ("history",),
    ("deploy", "v2", "--yes", "--no-migrations"),
    ("rollback", "--yes"),
    ("lock", "acquire", "--reason", "freeze"),
    ("lock", "show"),
]


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"
        self.ledger = self.state / "web.sqlite3"
        (root / "pipelines").mkdir()
        (root / "pipelines" / "web.yaml").write_text(yaml.safe_dump(PIPELINE))
        self.state.mkdir()
        self.env = {
            k: v
            for k, v in os.environ.items()
            # CI=true would add the shared-ledger warning line ship prints on CI runners
            if not k.startswith(("SHIP_", "HEROKU_")) and k not in ("CI", "GITHUB_ACTIONS")
        } | {"SHIP_STATE_DIR": str(self.state), "HEROKU_API_KEY": "hk-ledger-canary-77aa1"}

    def ship(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHIP, *args, "-p", "web"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def crash_files(self) -> list[Path]:
        return list(self.state.glob("ship-crash-*"))


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    yield Folder(tmp_path)


def _refused_cleanly(done: subprocess.CompletedProcess[str], word: str) -> None:
    assert done.returncode == 4, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert word in lines[0] and "ledger" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def _real_ledger(folder: Folder) -> bytes:
    """A ledger with a lock row in it, written by ship itself, then checkpointed."""
    assert folder.ship("lock", "acquire", "--reason", "seed").returncode == 0
    assert folder.ship("lock", "release").returncode == 0
    with sqlite3.connect(folder.ledger) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder.ledger.read_bytes()


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_garbage_ledger_file_is_refused_and_kept(
    folder: Folder, tally: Tally, args: tuple[str, ...]
) -> None:
    """A ledger file full of garbage: one line naming the ledger, exit 4, no crash file,
    and the file unchanged."""
    tally.faults += 1
    junk = b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 2048
    folder.ledger.write_bytes(junk)
    _refused_cleanly(folder.ship(*args), "web.sqlite3")
    assert folder.ledger.read_bytes() == junk
    assert folder.crash_files() == []


def test_truncated_ledger_file_is_refused_and_kept(folder: Folder, tally: Tally) -> None:
    """A real ledger cut in half: `ship deploy` refuses in one line and the file is kept."""
    tally.faults += 1
    whole = _real_ledger(folder)
    half = whole[: len(whole) // 2]
    folder.ledger.write_bytes(half)
    for name in ("web.sqlite3-wal", "web.sqlite3-shm"):
        (folder.state / name).unlink(missing_ok=True)
    _refused_cleanly(folder.ship("deploy", "v2", "--yes", "--no-migrations"), "web.sqlite3")
    assert folder.ledger.read_bytes() == half
    assert folder.crash_files() == []


@pytest.mark.slow
def test_ledger_locked_by_another_process_is_named_not_reset(folder: Folder, tally: Tally) -> None:
    """While another process holds the ledger's write lock, `ship lock acquire` waits its
    busy timeout, then says the ledger is locked, exits 4, and the rows are intact."""
    tally.faults += 1
    _real_ledger(folder)
    holding = threading.Event()
    done_waiting = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(folder.ledger, timeout=5)
        db.execute("BEGIN EXCLUSIVE")
        holding.set()
        done_waiting.wait(60)
        db.rollback()
        db.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert holding.wait(10)
        refused = folder.ship("lock", "acquire", "--reason", "freeze")
    finally:
        done_waiting.set()
        holder.join(10)
    _refused_cleanly(refused, "locked")
    with sqlite3.connect(folder.ledger) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables
    assert folder.ship("lock", "acquire", "--reason", "freeze").returncode == 0
