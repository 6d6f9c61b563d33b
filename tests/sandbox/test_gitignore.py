"""`ship sandbox up` in someone's project says what it writes; .gitignore only when asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shipper.sandbox import gitignore
from shipper.sandbox.files import Layout


def _up(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIP_SANDBOX_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "shipper.sandbox.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_up_says_where_it_writes_and_leaves_gitignore_alone(tmp_path: Path) -> None:
    """Without --gitignore the project's .gitignore is untouched, and ship says what to add."""
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    try:
        shown = _up(tmp_path, "up")
        assert shown.returncode == 0, shown.stderr
        assert f".ship/sandbox/, pipelines/sandbox.yaml in {tmp_path}" in shown.stdout
        assert "--gitignore` adds them" in shown.stdout
        assert (tmp_path / ".gitignore").read_text() == "node_modules/\n"
        again = _up(tmp_path, "up", "--gitignore")  # already running: says so, adds nothing
        assert again.returncode == 0
    finally:
        _up(tmp_path, "down")


def test_up_with_gitignore_adds_the_files_once(tmp_path: Path) -> None:
    """--gitignore appends the state dir and the pipeline, once, keeping what was there."""
    (tmp_path / ".gitignore").write_text("node_modules/")
    try:
        shown = _up(tmp_path, "up", "--gitignore")
        assert shown.returncode == 0, shown.stderr
        assert "added /.ship/sandbox/, /pipelines/sandbox.yaml to" in shown.stdout
    finally:
        _up(tmp_path, "down")
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/"
    assert "/.ship/sandbox/" in lines and "/pipelines/sandbox.yaml" in lines
    layout = Layout(tmp_path / ".ship" / "sandbox", tmp_path)
    assert gitignore.add(tmp_path, gitignore.written(layout)) == []  # never twice


def test_patterns_already_listed_differently_count(tmp_path: Path) -> None:
    """`.ship/sandbox` without slashes is the same entry: nothing is missing."""
    (tmp_path / ".gitignore").write_text(".ship/sandbox\npipelines/sandbox.yaml\n")
    layout = Layout(tmp_path / ".ship" / "sandbox", tmp_path)
    assert gitignore.missing(tmp_path, gitignore.written(layout)) == []


def test_a_state_dir_outside_the_project_is_not_listed(tmp_path: Path) -> None:
    """With $SHIP_SANDBOX_DIR elsewhere only the project's pipeline is written here."""
    layout = Layout(tmp_path / "elsewhere", tmp_path / "project")
    assert gitignore.written(layout) == ["/pipelines/sandbox.yaml"]
