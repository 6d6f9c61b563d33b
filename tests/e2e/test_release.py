"""`ship` as a user runs it against the sandbox: deploys, regressions, gates, rollbacks."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import EVERYWHERE_V1, Project

pytestmark = pytest.mark.slow


def test_broken_version_is_rolled_back_on_both_sides(project: Project) -> None:
    """A `broken` version fails its checks after shipping; both sides return to v1, exit 1."""
    done = project.ship("deploy", "v2-broken", "-p", "sandbox", "--no-migrations")
    assert done.returncode == 1, done.stderr
    assert project.running() == EVERYWHERE_V1
    state = project.state()
    assert state["heroku"]["received"]["rollbacks"] == {"shop-web@v1": 1, "shop-worker@v1": 1}
    images = [e for e in project.journal() if e["kind"] == "image"]
    assert {e["version"] for e in images} == {"v2-broken", "v1"}
    assert project.history()[0]["state"] == "rolled_back"


def test_yellow_status_blocks_with_zero_changes(project: Project) -> None:
    """With the status page yellow, `ship deploy` exits 3 and the stand-ins saw no change."""
    assert project.ship("sandbox", "set-status", "yellow").returncode == 0
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations")
    assert done.returncode == 3, done.stderr
    assert "yellow" in done.stderr
    assert project.journal() == []
    assert project.running() == EVERYWHERE_V1


def test_rollback_after_a_good_deploy_restores_v1(project: Project) -> None:
    """`ship rollback` after a good deploy puts v1 back on both sides and exits 0."""
    assert project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations").returncode == 0
    back = project.ship("rollback", "-p", "sandbox", "--yes")
    assert back.returncode == 0, back.stderr
    assert project.running() == EVERYWHERE_V1
    assert project.history()[0]["kind"] == "rollback"


def test_status_shows_both_sides(project: Project) -> None:
    """`ship status` lists every Heroku app and Kubernetes workload with its version: on
    the brownfield sandbox, a Heroku app's is a SHA (the promoted slug's commit, or the
    short SHA a `git push` release names), since no ship release ever named it."""
    shown = project.ship("status", "-p", "sandbox", "--output", "json")
    assert shown.returncode == 1, shown.stderr  # skewed: each app runs its own SHA
    assert json.loads(shown.stdout)["skew"] is not None
    targets = {t["target"]: t["version"] for t in json.loads(shown.stdout)["targets"]}
    assert set(targets) == set(EVERYWHERE_V1)
    for key, version in targets.items():
        if key.startswith("heroku:"):
            assert re.fullmatch(r"[0-9a-f]{7,40}", version or ""), (key, version)
        else:
            assert version == "v1", (key, version)


def test_failed_migration_ships_no_code(project: Project) -> None:
    """A `badmigrate` version exits 1 after its Job fails, with no build and no image change."""
    done = project.ship("deploy", "v2-badmigrate", "-p", "sandbox", "--migrations")
    assert done.returncode == 1, done.stderr
    kinds = {e["kind"] for e in project.journal()}
    assert kinds == {"job", "job_finished"}
    assert project.running() == EVERYWHERE_V1


def test_kubernetes_crashloop_rolls_heroku_back_too(project: Project) -> None:
    """A version that crash-loops only on Kubernetes is rolled back on both sides, exit 1."""
    done = project.ship("deploy", "v2-crashloop", "-p", "sandbox", "--no-migrations")
    assert done.returncode == 1, done.stderr
    assert "CrashLoopBackOff" in done.stderr
    assert project.running() == EVERYWHERE_V1


def test_build_still_running_at_rollback_is_cancelled(project: Project) -> None:
    """A Heroku build still running when Kubernetes fails is cancelled, so it can never
    release the bad version after the rollback."""
    version = "v2-crashloop-slowbuild"  # the build takes 8 s; the pods crash-loop at once
    done = project.ship("deploy", version, "-p", "sandbox", "--no-migrations")
    assert done.returncode == 1, done.stderr
    received = project.state()["heroku"]["received"]
    assert received["cancels"] == {f"shop-web@{version}": 1, f"shop-worker@{version}": 1}
    assert project.running() == EVERYWHERE_V1
