"""What the project's git repository says about versions (read-only): the paths changed
between two (migration detection) and the commit a name resolves to (matching a tag to
the SHAs `git push` history carries)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipper.core.model import Version


class GitHistory:
    """Questions to the git repository at `repo`. Every answer is None whenever git
    cannot give one: the caller then asks the operator instead of guessing."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo

    def changed_paths(self, old: Version, new: Version) -> list[str] | None:
        """`git diff --name-only OLD..NEW`."""
        out = self._git((old, new), "diff", "--name-only", f"{old}..{new}", "--", timeout=30)
        return None if out is None else [line for line in out.splitlines() if line]

    def commit_of(self, version: Version) -> str | None:
        """The full SHA the name `version` (a tag, a branch head, a short SHA) resolves to.
        People name a release by a tag while `git push` history on Heroku carries SHAs:
        with both, ship knows a slug built from that SHA runs the version."""
        out = self._git(
            (version,),
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{version}^{{commit}}",
        )
        sha = (out or "").strip()
        return sha if len(sha) == 40 else None

    def _git(self, refs: tuple[str, ...], *command: str, timeout: float = 10) -> str | None:
        """`git -C repo COMMAND...`'s output, None on any failure. `refs` are the versions
        the command names: one that starts with `-` is never run (it would be an option)."""
        if any(ref.startswith("-") for ref in refs):
            return None
        try:
            done = subprocess.run(
                ["git", "-C", str(self._repo), *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None
