"""The files `ship sandbox up` writes into a project, and adding them to its .gitignore.

Only on request (`--gitignore`): a project's .gitignore is its own, and ship changes it
when asked, never behind the user's back."""

from __future__ import annotations

from pathlib import Path

from shipper.sandbox.files import Layout


def written(where: Layout) -> list[str]:
    """The .gitignore patterns for what the sandbox writes inside the project folder
    (its state directory when that is inside the project, and the project's pipeline)."""
    out = []
    # a state dir outside the project ($SHIP_SANDBOX_DIR) is nothing to ignore here
    if where.state.is_relative_to(where.project):
        out.append(f"/{where.state.relative_to(where.project).as_posix()}/")
    out.append(f"/{where.project_pipeline.relative_to(where.project).as_posix()}")
    return out


def missing(project: Path, patterns: list[str]) -> list[str]:
    """Those of `patterns` the project's .gitignore does not list yet (with or without
    the leading slash or a trailing one)."""
    path = project / ".gitignore"
    have = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            have.add(line.strip().strip("/"))
    return [p for p in patterns if p.strip("/") not in have]


def add(project: Path, patterns: list[str]) -> list[str]:
    """Append the missing patterns to the project's .gitignore; return what was added."""
    todo = missing(project, patterns)
    if not todo:
        return []
    path = project / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "# ship sandbox: local stand-ins' state and pipeline\n" + "\n".join(todo) + "\n"
    path.write_text(text, encoding="utf-8")
    return todo
