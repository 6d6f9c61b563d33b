"""The SQLite state file when several ship processes open a new one at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# Each process waits for the same moment, then opens: the race of two `ship` commands
# started together on a new pipeline.
OPEN = (
    "import sys, time; from pathlib import Path; from shipper.state.sqlite_db import Database; "
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Database(Path(sys.argv[1]))"
)


def test_processes_opening_a_new_state_file_together_all_succeed(tmp_path: Path) -> None:
    """Four processes racing to create and switch one new file to WAL all open it."""
    for round_ in range(5):
        path = tmp_path / f"round{round_}" / "web.sqlite3"
        at = str(time.time() + 1.0)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, str(path), at], stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        failures = [p.communicate(timeout=60)[1] for p in procs if p.wait(timeout=60) != 0]
        assert failures == []
