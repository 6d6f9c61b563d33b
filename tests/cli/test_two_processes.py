"""Two real `ship deploy` processes on one pipeline: exactly one releases."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SHIP, Project, start_project


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Project]:
    project = start_project(tmp_path)
    yield project
    project.ship("sandbox", "down")


@pytest.mark.slow
def test_two_deploys_at_once_one_releases_the_other_exits_3(sandbox: Project) -> None:
    """Started together, one process deploys and the other exits 3 naming the holder."""
    args = [SHIP, "deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes", "-o", "json"]
    procs = [
        subprocess.Popen(
            args,
            cwd=sandbox.root,
            env=sandbox.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    loser = next(err for code, err in results if code == 3)
    assert "is held by" in loser and "deploy v2" in loser
    releases = sandbox.history()
    assert [r["state"] for r in releases] == ["succeeded"]
    received = sandbox.state()["heroku"]["received"]["builds"]
    assert received == {"shop-web@v2": 1, "shop-worker@v2": 1}  # one process, one build each
