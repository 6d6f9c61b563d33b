"""Races on one pipeline: five deploys at once, and a forced rollback during a deploy,
with the SQLite lock and with the Kubernetes Lease lock."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.reliability.settle import settled
from tests.reliability.stage import Stage, at, wait_for
from tests.reliability.tally import Tally

pytestmark = pytest.mark.slow

RACERS = 5


def _use_lease(stage: Stage) -> None:
    stage.tune(lock__backend="kubernetes", lock__path=None)


def _five_deploys(stage: Stage, tally: Tally) -> None:
    lives = [
        stage.start("deploy", "v2", "-p", "sandbox", "--yes", "--no-migrations", actor=f"racer-{i}")
        for i in range(RACERS)
    ]
    runs = [live.finish(timeout=90) for live in lives]
    codes = sorted(r.returncode for r in runs)
    assert codes == [0] + [3] * (RACERS - 1), [(r.returncode, r.stderr[-300:]) for r in runs]
    winner = next(i for i, r in enumerate(runs) if r.returncode == 0)
    for run in runs:
        if run.returncode == 3:
            assert f"held by racer-{winner}" in run.stderr.splitlines()[-1]
            assert "Traceback" not in run.stderr
    tally.attempted += RACERS - 1  # the winner is counted by settled()
    settled(stage, tally, runs[winner], "v2", 0)
    tally.converged += RACERS - 1  # the refused ones changed nothing, as promised
    state = stage.state()
    assert state["heroku"]["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}
    images = [e for e in state["kubernetes"]["journal"] if e["kind"] == "image"]
    assert sorted(e["target"] for e in images) == sorted(
        ["deployment/web", "deployment/worker", "cronjob/nightly-report"]
    )


def test_five_deploys_at_once_make_one_release(stage: Stage, tally: Tally) -> None:
    """Of five deploys started together, one releases and four exit 3 naming the holder;
    the stand-ins saw one build per app and one image change per workload."""
    _five_deploys(stage, tally)


def test_five_deploys_at_once_with_the_lease_lock(stage: Stage, tally: Tally) -> None:
    """With the Kubernetes Lease lock and 409s on the Lease, five deploys started together
    still make exactly one release."""
    _use_lease(stage)
    stage.kube_fault(action="fail_next", n=2, status=409, path="leases", method="POST")
    tally.faults += 2
    _five_deploys(stage, tally)


def _forced_rollback(stage: Stage, tally: Tally) -> None:
    stage.tune(verify__bake="8s")  # the deploy is still baking when the rollback takes over
    live = stage.start(
        "deploy", "v2", "-p", "sandbox", "--yes", "--no-migrations", actor="deployer"
    )
    live.wait_event("phase_started", phase="verify")
    back = stage.rollback("--force-lock", actor="on-call")
    tally.faults += 1
    stopped = live.finish()
    tally.attempted += 2
    assert back.returncode == 0, back.stderr
    assert stopped.returncode != 0, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert stage.running() == at("v1")
    tally.converged += 2
    state = stage.state()
    rolled_back_at = max(e["at"] for e in state["kubernetes"]["journal"] if e["kind"] == "image")
    later = [
        e
        for e in state["heroku"]["journal"] + state["kubernetes"]["journal"]
        if e["at"] > rolled_back_at and e.get("version") == "v2"
    ]
    assert later == []


def test_forced_rollback_during_a_deploy_wins(stage: Stage, tally: Tally) -> None:
    """`ship rollback --force-lock` during a deploy fences it: the deploy stops changing
    things, the rollback exits 0 and every target is back at v1."""
    _forced_rollback(stage, tally)


def test_forced_rollback_during_a_deploy_wins_with_the_lease_lock(
    stage: Stage, tally: Tally
) -> None:
    """The forced rollback wins the same way when the lock is a Kubernetes Lease."""
    _use_lease(stage)
    _forced_rollback(stage, tally)


def _builds_pending(stage: Stage) -> bool:
    api = stage.state()["endpoints"]["heroku_api"]
    pending = False
    for app in ("shop-web", "shop-worker"):
        request = urllib.request.Request(
            f"{api}/apps/{app}/builds",
            headers={
                "Authorization": f"Bearer {stage.secrets[0]}",
                "Accept": "application/vnd.heroku+json; version=3",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            pending |= any(b["status"] == "pending" for b in json.loads(answer.read()))
    return pending


def test_forced_rollback_during_a_pending_build_keeps_heroku_at_the_snapshot(
    stage: Stage, tally: Tally
) -> None:
    """A forced rollback while the deploy's Heroku builds are still pending exits 0, and
    once those builds end every target still runs v1."""
    live = stage.start(
        "deploy", "v2-slowbuild", "-p", "sandbox", "--yes", "--no-migrations", actor="deployer"
    )
    live.wait_event("target_progress", side="heroku", message="build pending")
    back = stage.rollback("--force-lock", actor="on-call")
    tally.faults += 1
    live.finish()
    wait_for("the fenced deploy's builds to end", lambda: not _builds_pending(stage), 40)
    assert back.returncode == 0, back.stderr
    assert stage.running() == at("v1")
