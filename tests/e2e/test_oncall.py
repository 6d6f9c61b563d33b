"""On-call's commands against the sandbox: rollback names its target, a dry run changes
nothing, and `--to N` is recorded as what runs again."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Project

pytestmark = pytest.mark.slow


def _deploy(project: Project, version: str) -> None:
    done = project.ship("deploy", version, "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 0, done.stderr


def test_rollback_to_a_release_names_it_dry_runs_and_records_it(project: Project) -> None:
    """`rollback --to 1 --dry-run` prints the plan and changes nothing (exit 0); the real one
    says its target first and is recorded as "rolled back to release 1 (v2)"; asked again,
    it says both sides already run that and changes nothing."""
    _deploy(project, "v2")
    _deploy(project, "v3")
    journal = len(project.journal())
    dry = project.ship("rollback", "--to", "1", "--dry-run", "-p", "sandbox", "-o", "human")
    assert dry.returncode == 0, dry.stderr
    assert "what release #1 deployed (v2): heroku 2 apps, kubernetes 3 workloads" in dry.stdout
    assert len(project.journal()) == journal
    assert set(project.running().values()) == {"v3"}

    done = project.ship("rollback", "--to", "1", "-p", "sandbox", "--yes")
    assert done.returncode == 0, done.stderr
    assert "will roll back both sides to what release #1 deployed (v2)" in done.stderr
    assert set(project.running().values()) == {"v2"}
    assert project.history()[0]["reason"] == "rolled back to release 1 (v2)"

    again = project.ship("rollback", "--to", "1", "-p", "sandbox", "--yes")
    assert again.returncode == 0, again.stderr
    assert "already run what release #1 deployed (v2); nothing was changed" in again.stderr
    assert len(project.history()) == 3
