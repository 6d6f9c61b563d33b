"""Real releases against the sandbox while its stand-ins misbehave on purpose.

Each test arms faults through the sandbox's control endpoint, runs `ship deploy` as a
user would and then judges the end: the right exit code, every target at the new
version or back at the snapshot, and (in the `stage` fixture) no duplicate mutation and
no leaked secret.
"""

from __future__ import annotations

import pytest

from tests.reliability.settle import settled
from tests.reliability.stage import Stage, at
from tests.reliability.tally import Tally

pytestmark = pytest.mark.slow


def test_429_storm_with_retry_after_on_reads_still_ships(stage: Stage, tally: Tally) -> None:
    """Two 429s with Retry-After on Heroku reads are waited out; v2 ships, one build each."""
    stage.fault(
        target="heroku_api", kind="status", status=429, retry_after=0.2, times=2, method="GET"
    )
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)
    assert stage.state()["heroku"]["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}


def test_429_without_retry_after_on_build_posts_makes_one_build(stage: Stage, tally: Tally) -> None:
    """A 429 without Retry-After on a build POST is retried; each app still builds once."""
    stage.fault(
        target="heroku_api", kind="status", status=429, times=1, method="POST", path=r"/builds$"
    )
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)
    assert stage.state()["heroku"]["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}


def test_5xx_burst_on_reads_is_ridden_out(stage: Stage, tally: Tally) -> None:
    """A burst of 500s and 503s on Heroku GETs ends with v2 everywhere and exit 0."""
    stage.fault(target="heroku_api", kind="status", status=500, times=1, method="GET")
    stage.fault(target="heroku_api", kind="status", status=503, times=2, method="GET")
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)


def test_build_post_whose_answer_is_lost_is_not_repeated(stage: Stage, tally: Tally) -> None:
    """A build POST that Heroku carried out but whose answer never came makes no second build."""
    stage.fault(
        target="heroku_api",
        kind="hang",
        delay=0.5,
        commit=True,
        times=1,
        method="POST",
        path=r"/builds$",
    )
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0, 1)
    assert stage.faults_fired() == 1
    builds = stage.state()["heroku"]["received"]["builds"]
    assert builds == {"shop-web@v2": 1, "shop-worker@v2": 1}


def test_reset_connections_on_reads_are_retried(stage: Stage, tally: Tally) -> None:
    """Connections reset on Heroku release reads are retried and v2 ships."""
    stage.fault(target="heroku_api", kind="reset", times=3, method="GET", path=r"/releases")
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)


def test_malformed_build_answer_mid_release_fails_safely(stage: Stage, tally: Tally) -> None:
    """A build poll answered with a body that is not JSON ends in v2 or in both sides rolled
    back to v1, never a mix, and never a second build."""
    stage.fault(target="heroku_api", kind="malformed", times=2, method="GET", path=r"/builds/")
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0, 1)
    assert stage.state()["heroku"]["received"]["builds"] == {"shop-web@v2": 1, "shop-worker@v2": 1}


def test_slow_heroku_answers_still_ship(stage: Stage, tally: Tally) -> None:
    """With 150 ms added to every Heroku API answer the release still completes."""
    stage.control("PUT", "/latency", {"seconds": 0.15, "target": "heroku_api"})
    tally.faults += 1
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)


def test_release_stuck_pending_times_out_and_rolls_both_sides_back(
    stage: Stage, tally: Tally
) -> None:
    """A Heroku release phase stuck in pending hits the rollout deadline: both sides are
    rolled back to v1 and ship exits 1."""
    stage.tune(kubernetes__rollout_timeout="6s")
    tally.faults += 1
    done = stage.deploy("v2-stuckrelease", "--no-migrations")
    settled(stage, tally, done, "v2-stuckrelease", 1)
    assert stage.state()["heroku"]["received"]["builds"] == {
        "shop-web@v2-stuckrelease": 1,
        "shop-worker@v2-stuckrelease": 1,
    }


def test_500s_on_kubernetes_patches_fail_safely(stage: Stage, tally: Tally) -> None:
    """Two 500s on Kubernetes PATCHes end in v2 or a rollback of both sides, never a mix."""
    stage.kube_fault(action="fail_next", n=2, status=500, method="PATCH")
    tally.faults += 2
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0, 1)


def test_watch_streams_ending_and_410_are_followed_through(stage: Stage, tally: Tally) -> None:
    """Watches that end after one event and answer 410 Gone still see the rollout through."""
    stage.kube_fault(action="end_watches", after_events=1)
    stage.kube_fault(action="gone_next_watch", n=2)
    tally.faults += 3
    done = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, done, "v2", 0)


def test_connection_refused_mid_watch_is_survived(stage: Stage, tally: Tally) -> None:
    """The Kubernetes API refusing connections for a second mid-rollout does not lose the
    release: it ends with v2 everywhere or both sides back at v1."""
    live = stage.start("deploy", "v2", "-p", "sandbox", "--yes", "--no-migrations")
    live.wait_event("target_progress", side="kubernetes", status="rolling out")
    stage.kube_fault(action="refuse_connections")
    tally.faults += 1
    try:
        live.wait_event("target_finished", side="heroku", deadline=30)
    finally:
        stage.kube_fault(action="accept_connections")
    done = live.finish()
    settled(stage, tally, done, "v2", 0, 1)


def test_rollout_that_never_progresses_rolls_both_sides_back(stage: Stage, tally: Tally) -> None:
    """A rollout the cluster never moves hits its deadline; once the cluster moves again
    both sides are back at v1 and ship exits 1."""
    stage.tune(kubernetes__rollout_timeout="5s")
    stage.kube_fault(action="pause_controller")
    tally.faults += 1
    live = stage.start("deploy", "v2", "-p", "sandbox", "--yes", "--no-migrations")
    try:
        live.wait_event("rollback_started", deadline=30)
    finally:
        stage.kube_fault(action="resume_controller")
    done = live.finish()
    settled(stage, tally, done, "v2", 1)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503, "times": None},
        {"kind": "slow", "delay": 2.5, "times": None},
        {"kind": "malformed", "times": None},
    ],
    ids=["down", "slow", "malformed"],
)
def test_status_page_that_cannot_be_read_blocks_with_no_change(
    stage: Stage, tally: Tally, fault: dict[str, object]
) -> None:
    """A status page that is down, slower than its timeout, or malformed closes the gate:
    exit 3 and the stand-ins saw no change."""
    stage.fault(target="status", **fault)
    done = stage.deploy("v2", "--migrations")
    settled(stage, tally, done, "v2", 3)
    assert stage.state()["heroku"]["journal"] == []
    assert stage.state()["kubernetes"]["journal"] == []


def test_status_flapping_to_yellow_after_migrations_holds_the_code(
    stage: Stage, tally: Tally
) -> None:
    """Yellow between the migration and the code release stops the code (exit 3); green
    again, the same deploy ships the code without running the migration twice."""
    live = stage.start("deploy", "v2", "-p", "sandbox", "--yes", "--migrations")
    live.wait_event("phase_finished", phase="migrate")
    stage.control("PUT", "/status", {"colour": "yellow"})
    tally.faults += 1
    held = live.finish()
    assert held.returncode == 3, held.stderr
    assert stage.running() == at("v1")
    stage.control("PUT", "/status", {"colour": "green"})
    tally.faults += 1
    done = stage.deploy("v2", "--migrations")
    settled(stage, tally, done, "v2", 0)
    assert list(stage.state()["kubernetes"]["jobs"]) == ["ship-sandbox-r1-migrate"]


def test_rollback_post_whose_answer_is_lost_makes_one_rollback(stage: Stage, tally: Tally) -> None:
    """During the joint rollback of a broken version, a rollback POST that Heroku carried
    out but never answered is not sent twice: one rollback release per app, v1 everywhere."""
    stage.fault(
        target="heroku_api",
        kind="hang",
        delay=0.5,
        commit=True,
        times=1,
        method="POST",
        path=r"/releases$",
    )
    done = stage.deploy("v2-broken", "--no-migrations")
    settled(stage, tally, done, "v2-broken", 1)
    assert stage.faults_fired() == 1
    rollbacks = stage.state()["heroku"]["received"]["rollbacks"]
    assert rollbacks == {"shop-web@v1": 1, "shop-worker@v1": 1}


@pytest.mark.parametrize("mode", ["error", "nan"])
def test_unreadable_prometheus_never_passes_a_release(
    stage: Stage, tally: Tally, mode: str
) -> None:
    """With the Kubernetes side's Prometheus answering errors or NaN, the release never
    exits 0: it fails, both sides are back at v1, and the unreadable check is named."""
    stage.control("PUT", "/prometheus", {"side": "kubernetes", "mode": mode})
    tally.faults += 1
    tally.attempted += 1
    done = stage.deploy("v2", "--no-migrations")
    assert done.returncode in (1, 4), done.stderr
    assert "kubernetes-errors" in done.stderr.strip().splitlines()[-1]
    assert stage.running() == at("v1")
    tally.converged += 1
