"""In CI, a ledger and lock kept on the runner are said once, with the fix named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

FIX_LEDGER = "`ledger: {backend: kubernetes}`"
FIX_LOCK = "`lock: {backend: kubernetes}`"


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS"])
def test_a_ci_deploy_on_a_local_ledger_warns_once_naming_the_fix(
    ship: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """CI=true or GITHUB_ACTIONS=true with SQLite state: one warning line with both fixes."""
    assert ship("lock", "acquire", "--reason", "hold still").exit_code == 0  # exit 3, fast
    monkeypatch.setenv(variable, "true")
    result = ship("deploy", "v2", "--yes", "--no-migrations", "-o", "json")
    assert result.exit_code == 3
    warnings = [line for line in result.stderr.splitlines() if FIX_LEDGER in line]
    assert len(warnings) == 1 and FIX_LOCK in warnings[0]
    if variable == "GITHUB_ACTIONS":
        assert warnings[0].startswith("::warning title=ship")


def test_no_warning_outside_ci(
    ship: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's deploy from a laptop is not warned about its own ledger."""
    monkeypatch.delenv("CI", raising=False)
    ship("lock", "acquire", "--reason", "hold still")
    result = ship("deploy", "v2", "--yes", "--no-migrations", "-o", "json")
    assert FIX_LEDGER not in result.stderr


def test_no_warning_when_ledger_and_lock_are_in_the_cluster(
    ship: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With both backends kubernetes there is nothing to warn about, in CI or in validate."""
    (project / "pipelines" / "web.yaml").write_text(
        "name: web\n"
        "kubernetes: {namespace: web, image: 'r/web:{version}', workloads: [deployment/web]}\n"
        "ledger: {backend: kubernetes}\n"
        "lock: {backend: kubernetes}\n"
    )
    monkeypatch.setenv("CI", "true")
    result = ship("validate")
    assert result.exit_code == 0 and FIX_LEDGER not in result.stdout


def test_validate_says_the_same(
    ship: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ship validate` in CI names the same problem and fix."""
    monkeypatch.setenv("CI", "true")
    result = ship("validate")
    assert result.exit_code == 0
    assert FIX_LEDGER in result.stdout and FIX_LOCK in result.stdout
