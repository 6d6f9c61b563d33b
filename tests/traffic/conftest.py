"""Fixtures of the traffic tests: a real HAProxy stack and `ship` run in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from shipper.cli import app
from tests.traffic.harness import Stack, running_stack


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
def ship(stack: Stack) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, [*args, "-p", "web"], catch_exceptions=False)

    return run
