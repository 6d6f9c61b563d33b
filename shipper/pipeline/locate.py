"""Which pipeline file a command means: `-p NAME_OR_PATH`, or the single file in the
nearest pipelines/ folder (looked for as git looks for .git)."""

from __future__ import annotations

from pathlib import Path

from shipper.errors import PipelineError


def resolve_pipeline_path(name_or_path: str | None, root: Path | None = None) -> Path:
    """`-p web` -> pipelines/web.yaml; a path is taken as is; nothing -> the single file
    in pipelines/. Without `root`, pipelines/ is looked for in the current directory, then
    in each parent (as git finds .git), so ship works from any folder of the project."""
    if name_or_path:
        candidate = Path(name_or_path)
        if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
            return candidate if candidate.is_absolute() else (root or Path.cwd()) / candidate
    base = root or find_project_root(Path.cwd())
    if name_or_path:
        for suffix in (".yaml", ".yml"):
            path = base / "pipelines" / f"{name_or_path}{suffix}"
            if path.exists():
                return path
        raise PipelineError(f"pipelines/{name_or_path}.yaml: no such pipeline file")
    folder = base / "pipelines"
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if len(files) == 1:
        return files[0]
    if not files:
        raise PipelineError(
            "no pipeline file in pipelines/ (looked here and in every parent folder); "
            "pass one with -p NAME_OR_PATH"
        )
    names = ", ".join(f.stem for f in files)
    raise PipelineError(f"several pipelines in pipelines/ ({names}); choose one with -p NAME")


def find_project_root(start: Path) -> Path:
    """The nearest of `start` and its parents holding a pipelines/ folder; `start` when
    none does (the error then names pipelines/ as before)."""
    for folder in (start, *start.parents):
        if (folder / "pipelines").is_dir():
            return folder
    return start


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
