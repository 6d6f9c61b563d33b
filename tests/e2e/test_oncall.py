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


def test_status_exits_0_when_all_is_well_and_4_when_a_side_cannot_be_read(
    project: Project,
) -> None:
    """`ship status` exits 0 on a healthy sandbox, showing each workload's availability; a
    kube context the kubeconfig lacks makes it exit 4, with the skew unknown, not "none"."""
    _deploy(project, "v2")
    good = project.ship("status", "-p", "sandbox", "-o", "human")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "available" in good.stdout and "unknown" not in good.stdout
    pipelines = project.root / "pipelines"
    text = (pipelines / "sandbox.yaml").read_text()
    broken = text.replace("context: sandbox", "context: nope").replace(
        "name: sandbox", "name: elsewhere"
    )
    (pipelines / "elsewhere.yaml").write_text(broken)
    bad = project.ship("status", "-p", "elsewhere", "-o", "human")
    assert bad.returncode == 4, bad.stdout + bad.stderr
    flat = " ".join(bad.stdout.split())
    assert "skew unknown: kubernetes could not be read" in flat
    assert "`ship validate --online -p elsewhere`" in flat
