"""ship finds pipelines/ in the current directory or the nearest parent, as git finds .git."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.errors import PipelineError
from shipper.pipeline import find_project_root, resolve_pipeline_path


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "web.yaml").write_text("name: web\n")
    (tmp_path / "app" / "models").mkdir(parents=True)
    return tmp_path


def test_pipelines_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From app/models, the project's pipelines/ two levels up is used, by name or alone."""
    root = _project(tmp_path)
    monkeypatch.chdir(root / "app" / "models")
    assert resolve_pipeline_path(None) == root / "pipelines" / "web.yaml"
    assert resolve_pipeline_path("web") == root / "pipelines" / "web.yaml"


def test_the_nearest_pipelines_folder_wins(tmp_path: Path) -> None:
    """A nested project's own pipelines/ is found before an outer one."""
    root = _project(tmp_path)
    inner = root / "app"
    (inner / "pipelines").mkdir()
    assert find_project_root(inner / "models") == inner


def test_a_path_stays_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-p with a path is the user's path, from where they stand, never from the root."""
    root = _project(tmp_path)
    monkeypatch.chdir(root / "app")
    assert resolve_pipeline_path("models/x.yaml") == root / "app" / "models" / "x.yaml"


def test_no_pipelines_anywhere_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pipelines/ at the root found, the error says it looked in every parent. The
    root is given, so a pipelines/ folder somewhere above the temporary folder on this
    machine can't change the answer."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError, match="every parent folder"):
        resolve_pipeline_path(None, root=tmp_path)
