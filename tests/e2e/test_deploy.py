"""`ship deploy v2 --migrations` against a fresh sandbox, run once and looked at closely."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Project, start_project

pytestmark = pytest.mark.slow

EVERYWHERE = (
    "heroku:shop-web",
    "heroku:shop-worker",
    "kubernetes:deployment/web",
    "kubernetes:deployment/worker",
    "kubernetes:cronjob/nightly-report",
)


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Project, subprocess.CompletedProcess[str]]]:
    project = start_project(tmp_path_factory.mktemp("deploy"))
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations", "--output", "json")
    yield project, done
    project.ship("sandbox", "down")


def test_deploy_exits_0_with_v2_everywhere(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """The deploy exits 0 and every target of both sides runs v2."""
    project, done = deployed
    assert done.returncode == 0, done.stderr
    assert project.running() == dict.fromkeys(EVERYWHERE, "v2")


def test_migration_job_finished_before_any_code_change(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """The migration Job completed before the first build, release or image change."""
    project, _ = deployed
    journal = project.journal()
    finished = [e for e in journal if e["kind"] == "job_finished"]
    assert [e["result"] for e in finished] == ["Complete"]
    changes = [e for e in journal if e["kind"] in ("builds", "releases", "formation", "image")]
    assert changes
    assert finished[0]["at"] < min(e["at"] for e in changes)


def test_one_build_per_app_and_one_job(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """The deploy made exactly one build per app and one migration Job."""
    project, _ = deployed
    state = project.state()
    assert state["heroku"]["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}
    assert len(state["kubernetes"]["jobs"]) == 1


def test_ledger_holds_a_migration_and_a_code_release(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """The ledger holds a succeeded migration release and a succeeded code release of v2."""
    project, _ = deployed
    kinds = {(r["kind"], r["version"], r["state"]) for r in project.history()}
    assert kinds == {("migration", "v2", "succeeded"), ("code", "v2", "succeeded")}


def test_status_shows_v2_on_both_sides(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """`ship status` afterwards lists every target of both sides at v2."""
    project, _ = deployed
    shown = project.ship("status", "-p", "sandbox", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    targets = {t["target"]: t["version"] for t in json.loads(shown.stdout)["targets"]}
    assert targets == dict.fromkeys(EVERYWHERE, "v2")


def test_no_token_reaches_output_or_ledger(
    deployed: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    """Neither sandbox token appears in the deploy's output, the ledger or its event log."""
    project, done = deployed
    heroku = (project.state_dir / "netrc").read_text().split("password ")[1].strip()
    kube = json.loads((project.state_dir / "kubeconfig").read_text())["users"][0]["user"]["token"]
    seen = done.stdout + done.stderr + json.dumps(project.history())
    for release in project.history():
        shown = project.ship("history", str(release["number"]), "-p", "sandbox", "--output", "json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["events"]
        seen += shown.stdout + shown.stderr
    assert heroku not in seen
    assert kube not in seen
