"""On-call's commands against the sandbox: rollback names its target, a dry run changes
nothing, and `--to N` is recorded as what runs again."""

from __future__ import annotations

import json
from pathlib import Path

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


def _shared_pipeline(project: Project, folder: Path) -> None:
    """The sandbox pipeline with its ledger and lock in the cluster, written into `folder`
    with absolute paths (another machine's checkout of the same pipeline)."""
    text = (project.root / "pipelines" / "sandbox.yaml").read_text()
    state = project.state_dir.resolve()
    text = text.replace("../.ship/sandbox/", f"{state}/")
    head, _, _ = text.partition("ledger:\n")
    rest = text.partition("rollback:\n")[2]
    text = (
        head.replace("name: sandbox", "name: shared")
        + "ledger: {backend: kubernetes}\nlock: {backend: kubernetes, ttl: 2m}\n"
        + "rollback:\n"
        + rest
    )
    (folder / "pipelines").mkdir(parents=True, exist_ok=True)
    (folder / "pipelines" / "shared.yaml").write_text(text)


def test_rollback_from_a_machine_that_never_deployed_uses_the_cluster_ledger(
    project: Project, tmp_path: Path
) -> None:
    """With `ledger`/`lock: {backend: kubernetes}`, a second machine (its own folder and
    state dir) sees the first one's releases and rolls them back."""
    ci = Project(tmp_path / "ci-runner", dict(project.env, SHIP_STATE_DIR=str(tmp_path / "a")))
    oncall = Project(tmp_path / "laptop", dict(project.env, SHIP_STATE_DIR=str(tmp_path / "b")))
    for machine in (ci, oncall):
        _shared_pipeline(project, machine.root)
    for version in ("v2", "v3"):
        done = ci.ship("deploy", version, "-p", "shared", "--no-migrations", "--yes")
        assert done.returncode == 0, done.stderr
    seen = oncall.ship("history", "-p", "shared", "-o", "json")
    assert seen.returncode == 0, seen.stderr
    assert [json.loads(line)["version"] for line in seen.stdout.splitlines()] == ["v3", "v2"]
    back = oncall.ship("rollback", "-p", "shared", "--yes")
    assert back.returncode == 0, back.stderr
    assert "what ran before release #2 (v2)" in back.stderr
    assert set(project.running().values()) == {"v2"}
    assert not (tmp_path / "b" / "shared.sqlite3").exists()
