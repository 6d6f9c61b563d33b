"""Changed paths between two versions, from the git repository at hand (read-only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipper.core.model import Version


class GitHistory:
    """`git diff --name-only OLD..NEW` in `repo`. None whenever git cannot answer:
    the caller then asks the operator instead of guessing."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo

    def changed_paths(self, old: Version, new: Version) -> list[str] | None:
        for ref in (old, new):
            if ref.startswith("-"):
                return None  # never let a version be read as an option
        try:
            done = subprocess.run(
                ["git", "-C", str(self._repo), "diff", "--name-only", f"{old}..{new}", "--"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        return [line for line in done.stdout.splitlines() if line]
