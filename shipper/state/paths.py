"""Where the local ledger and lock live.

Default: `$SHIP_STATE_DIR`, else `$XDG_STATE_HOME/ship`, else `~/.local/state/ship`: a
per-user place that survives checkouts on a laptop and lives as long as the runner on
CI (CI runners that must share history use the kubernetes backends instead).
`ledger.path` / `lock.path` in the pipeline file win over all of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def state_dir(env: Mapping[str, str]) -> Path:
    if env.get("SHIP_STATE_DIR"):
        return Path(env["SHIP_STATE_DIR"]).expanduser()
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]).expanduser() / "ship"
    return Path.home() / ".local" / "state" / "ship"


def database_path(pipeline: str, configured: str | None, env: Mapping[str, str]) -> Path:
    """The SQLite file of one pipeline (ledger and lock share it unless told otherwise)."""
    if configured:
        return Path(configured).expanduser()
    return state_dir(env) / f"{pipeline}.sqlite3"
