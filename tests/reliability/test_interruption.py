"""Real releases against the sandbox, stopped by a signal at a phase boundary or in the
middle of a phase; then `ship status`, and `ship deploy` again or `ship rollback`.

What must hold: `ship status` names the phase where the release stopped; SIGINT and
SIGTERM exit 130 with the lock released; the same deploy finishes the release and a
rollback restores both sides; neither repeats a finished migration or build.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass

import pytest

from tests.reliability.settle import settled
from tests.reliability.stage import Live, Run, Stage, at
from tests.reliability.tally import Tally

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Point:
    """Where to stop a release: the events to wait for in order, and the open release's kind."""

    name: str
    steps: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    kind: str
    version: str = "v2"

    def wait(self, live: Live) -> None:
        for event, fields in self.steps:
            live.wait_event(event, deadline=60.0, **dict(fields))


CODE = ("release_started", (("kind", "code"),))
MID_MIGRATION = Point(
    "mid-migration",
    (("target_progress", (("side", "kubernetes"), ("status", "running"))),),
    "migration",
    version="v2-slowmigrate",
)
AFTER_CODE_SNAPSHOT = Point("after-code-snapshot", (CODE, ("snapshot_taken", ())), "code")
MID_RELEASE = Point(
    "mid-release",
    (CODE, ("target_progress", (("side", "heroku"), ("status", "building")))),
    "code",
)
MID_VERIFY = Point(
    "mid-verify", (("phase_started", (("phase", "verify"),)), ("check_result", ())), "code"
)

CASES = [
    (signal.SIGKILL, MID_RELEASE, "deploy"),
    (signal.SIGKILL, MID_RELEASE, "rollback"),
    (signal.SIGINT, MID_MIGRATION, "deploy"),
    (signal.SIGTERM, AFTER_CODE_SNAPSHOT, "rollback"),
    (signal.SIGINT, MID_VERIFY, "deploy"),
]


def _stop(stage: Stage, point: Point, signum: signal.Signals) -> Live:
    live = stage.start("deploy", point.version, "-p", "sandbox", "--yes", "--migrations")
    point.wait(live)
    live.signal(signum)
    return live


def _last_phase(run: Run) -> str:
    started: list[str] = [e["phase"] for e in run.events() if e["event"] == "phase_started"]
    return started[-1]


@pytest.mark.parametrize(
    ("signum", "point", "then"),
    CASES,
    ids=[f"{s.name}-{p.name}-then-{t}" for s, p, t in CASES],
)
def test_stopped_release_is_reported_then_finished_or_rolled_back(
    stage: Stage, tally: Tally, signum: signal.Signals, point: Point, then: str
) -> None:
    """A release stopped by a signal shows where it stopped in `ship status`; then the same
    deploy finishes it, or `ship rollback` restores v1, with no migration or build twice."""
    live = _stop(stage, point, signum)
    tally.faults += 1
    stopped = live.finish()
    if signum == signal.SIGKILL:
        assert stopped.returncode == -signal.SIGKILL
    else:
        assert stopped.returncode == 130, stopped.stderr
        assert "Traceback" not in stopped.stderr
        shown = stage.ship("lock", "show", "-p", "sandbox", "--output", "json")
        assert json.loads(shown.stdout) == {"held": False}
    status = stage.ship("status", "-p", "sandbox", "--output", "json")
    # never 0: a release stopped with nothing running it waits for a person
    assert status.returncode == 1, status.stderr
    open_release = json.loads(status.stdout)["in_progress"]
    assert open_release is not None
    assert (open_release["kind"], open_release["phase"]) == (point.kind, _last_phase(stopped))
    if then == "deploy":
        done = stage.deploy(point.version, "--migrations")
        settled(stage, tally, done, point.version, 0)
    else:
        done = stage.rollback()
        tally.attempted += 1
        assert done.returncode == 0, done.stderr
        assert stage.running() == at("v1")
        tally.converged += 1
    state = stage.state()
    assert list(state["kubernetes"]["jobs"]) == ["ship-sandbox-r1-migrate"]
    assert all(n == 1 for n in state["heroku"]["received"]["builds"].values())


def test_stop_during_the_migration_bake_says_the_migration_is_applied(
    stage: Stage, tally: Tally
) -> None:
    """SIGINT during the migration bake exits 130 saying the migration release is applied
    and the code was not shipped, and the ledger keeps that release's exit code 0."""
    stage.tune(migrations__bake="4s")  # the signal surely lands inside the bake
    live = stage.start("deploy", "v2", "-p", "sandbox", "--yes", "--migrations")
    live.wait_event("phase_started", phase="migration_bake")
    live.signal(signal.SIGINT)
    tally.faults += 1
    stopped = live.finish()
    assert stopped.returncode == 130, stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert "phase done" not in last
    assert "rollback` undoes" not in last
    migration = stage.history()[-1]
    assert (migration["kind"], migration["state"], migration["exit_code"]) == (
        "migration",
        "succeeded",
        0,
    )


def test_rollback_after_a_stop_before_any_change_keeps_the_previous_release(
    stage: Stage, tally: Tally
) -> None:
    """After v2 shipped and a v3 deploy was stopped before its first change, `ship rollback`
    (which the stop message offers) closes the v3 release and leaves v2 running."""
    first = stage.deploy("v2", "--no-migrations")
    settled(stage, tally, first, "v2", 0)
    stage.fault(target="status", kind="slow", delay=1.0, times=1)
    live = stage.start("deploy", "v3", "-p", "sandbox", "--yes", "--no-migrations")
    live.wait_event("phase_started", phase="gate")
    live.signal(signal.SIGTERM)
    stopped = live.finish()
    assert stopped.returncode == 130, stopped.stderr
    assert "`ship rollback` undoes it" in stopped.stderr
    back = stage.rollback()
    tally.attempted += 1
    assert back.returncode == 0, back.stderr
    assert stage.running() == at("v2")
    tally.converged += 1
    status = stage.ship("status", "-p", "sandbox", "--output", "json")
    assert json.loads(status.stdout)["in_progress"] is None


def test_deploy_killed_during_its_joint_rollback_is_finished_by_ship_rollback(
    stage: Stage, tally: Tally
) -> None:
    """A deploy killed while it rolls a broken version back leaves a release that
    `ship rollback` finishes: exit 0, v1 everywhere, one rollback per Heroku app in all."""
    live = stage.start("deploy", "v2-broken", "-p", "sandbox", "--yes", "--no-migrations")
    live.wait_event("rollback_started")
    live.signal(signal.SIGKILL)
    tally.faults += 1
    assert live.finish().returncode == -signal.SIGKILL
    status = stage.ship("status", "-p", "sandbox", "--output", "json")
    assert json.loads(status.stdout)["in_progress"]["version"] == "v2-broken"
    back = stage.rollback()
    tally.attempted += 1
    assert back.returncode == 0, back.stderr
    assert stage.running() == at("v1")
    tally.converged += 1
    rollbacks = stage.state()["heroku"]["received"]["rollbacks"]
    assert set(rollbacks) <= {"shop-web@v1", "shop-worker@v1"}
    assert all(n == 1 for n in rollbacks.values()), rollbacks
