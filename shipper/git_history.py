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

    def commit_of(self, version: Version) -> str | None:
        """The full SHA the name `version` (a tag, a branch head, a short SHA) resolves to
        in this repository, or None when it is not one or git cannot tell. People name a
        release by a tag while `git push` history on Heroku carries SHAs: with both, ship
        knows a slug built from that SHA runs the version."""
        if version.startswith("-"):
            return None
        try:
            done = subprocess.run(
                [
                    "git",
                    "-C",
                    str(self._repo),
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    f"{version}^{{commit}}",
                ],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        sha = done.stdout.strip()
        return sha if done.returncode == 0 and len(sha) == 40 else None
