"""`ship` on the brownfield sandbox: Heroku apps with the history real ones have (git-push
builds of SHAs, a promotion, `heroku rollback`, config-var and add-on releases, no ship
description anywhere) and one with preboot on. Through the installed `ship`, as a user
runs it; every exit code is the one DESIGN.md promises.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import EVERYWHERE_V1, Project

pytestmark = pytest.mark.slow


def changes(project: Project) -> list[tuple[str, str, str | None]]:
    return [(e["kind"], e["target"], e.get("version")) for e in project.journal()]


def test_status_names_what_each_app_runs_before_ship_ever_deployed(project: Project) -> None:
    """Each app's label is a SHA (the promoted slug's commit, or the short SHA a `git push`
    release names); status shows it for every app and the Heroku side is readable."""
    shown = project.ship("status", "-p", "sandbox")
    assert "shop-web" in shown.stdout and "shop-worker" in shown.stdout
    assert "unknown" not in shown.stdout.split("kubernetes")[0].lower()
    assert re.search(r"[0-9a-f]{7}", shown.stdout)


def test_redeploying_what_runs_builds_and_releases_nothing(project: Project) -> None:
    """The second `ship deploy v2` finds v2 on every target and changes nothing, exit 0."""
    assert project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations").returncode == 0
    before = changes(project)
    again = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations")
    assert again.returncode == 0, again.stderr
    assert "already runs on every target" in again.stderr
    assert changes(project) == before


def test_deploy_with_migrations_over_a_brownfield_estate(project: Project) -> None:
    """The migration bake measures the old code (whose label is a SHA, not v2) and passes:
    exit 0, v2 everywhere, preboot waited out on the app that has it."""
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert set(project.running().values()) == {"v2"}
    assert '"status": "preboot"' in done.stdout or '"status":"preboot"' in done.stdout


def test_rollback_after_a_failed_deploy_undoes_the_release_still_in_effect(
    project: Project,
) -> None:
    """v2 good, v3-broken fails and is rolled back (exit 1, v2 again); `ship rollback`
    then undoes v2, the latest release in effect: v1 everywhere, exit 0."""
    assert project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations").returncode == 0
    failed = project.ship("deploy", "v3-broken", "-p", "sandbox", "--no-migrations")
    assert failed.returncode == 1, failed.stderr
    assert set(project.running().values()) == {"v2"}
    back = project.ship("rollback", "-p", "sandbox", "--yes")
    assert back.returncode == 0, back.stderr
    assert project.running() == EVERYWHERE_V1


def test_a_version_named_by_a_running_sha_is_not_rebuilt_there(project: Project) -> None:
    """The estate is skewed (each app came by another route, so runs another SHA):
    `ship deploy <shop-web's short SHA>` leaves shop-web alone and ships the rest."""
    shown = project.ship("status", "-p", "sandbox", "--output", "json")
    targets = {t["target"]: t["version"] for t in json.loads(shown.stdout)["targets"]}
    web_sha = str(targets["heroku:shop-web"])
    assert targets["heroku:shop-worker"] != web_sha
    done = project.ship("deploy", web_sha[:7], "-p", "sandbox", "--no-migrations")
    touched = {target for _, target, _ in changes(project)}
    assert "shop-web" not in touched
    assert "shop-worker" in touched
    assert done.returncode == 0, done.stderr


def test_a_missing_heroku_token_is_bad_configuration_and_blames_heroku_alone(
    project: Project,
) -> None:
    """No Heroku credentials: `ship deploy` exits 2 naming the fix, having changed
    nothing; `ship status` still reads Kubernetes and names only Heroku as unreadable."""
    (project.state_dir / "netrc").unlink()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations")
    assert done.returncode == 2, done.stderr
    assert "netrc" in done.stderr and "heroku.netrc" in done.stderr
    assert project.journal() == []
    shown = project.ship("status", "-p", "sandbox", "--output", "json")
    status = json.loads(shown.stdout)
    sides = {t["target"].split(":")[0] for t in status["targets"]}
    assert sides == {"kubernetes"}, status
    assert set(status["unreadable"]) == {"heroku"}
    assert "netrc" in status["unreadable"]["heroku"]
