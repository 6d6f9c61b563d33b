"""Run `ship` in-process with typer's CliRunner, in a scratch project folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from shipper.cli import app

HEROKU_ONLY = """\
name: web
heroku:
  api_url: http://127.0.0.1:9/
  apps: [acme-web]
  artifact: {type: source, url: "https://x.invalid/{version}.tgz"}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "web.yaml").write_text(HEROKU_ONLY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HEROKU_API_KEY", "canary-0123456789abcdef")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


@pytest.fixture
def ship(project: Path) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run
