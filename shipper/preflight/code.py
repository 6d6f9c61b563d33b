"""Where the application's code reads variables only the Heroku runtime sets (`git grep`)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from shipper.core.lessons import HEROKU_RUNTIME_VARS


def heroku_only_reads(
    repo: Path, names: Sequence[str] = HEROKU_RUNTIME_VARS
) -> dict[str, list[str]]:
    """name -> `path:line` places in the tracked files of `repo`; empty when `repo` is not
    a git work tree (the check then has nothing to say)."""
    pattern = r"\b(" + "|".join(names) + r")\b"
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "grep", "-n", "-I", "-E", "-o", pattern],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        path, _, rest = line.partition(":")
        number, _, name = rest.partition(":")
        if name in names:
            place = f"{path}:{number}"
            places = out.setdefault(name, [])
            if place not in places:
                places.append(place)
    return out
