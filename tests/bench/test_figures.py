"""The benchmark's pure parts: critical paths from recorded timings, the table, and the
rule that a broken run prints no figure and fails the benchmark."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import figures as fig
from bench.figures import Chain, Figure, RunFailed
from bench.run import parse_latency
from bench.world import sized_spec

HEROKU: dict[str, Any] = {
    "dyno_boot": 0.3,
    "apps": {
        "shop-web": {
            "builds": [
                {
                    "version": "v1",
                    "created": 1.0,
                    "finished": 2.0,
                    "status": "succeeded",
                    "release": "r1",
                },
                {
                    "version": "v2",
                    "created": 100.0,
                    "finished": 100.8,
                    "status": "succeeded",
                    "release": "r2",
                },
            ],
            "releases": [
                {
                    "id": "r1",
                    "version": "v1",
                    "created": 2.0,
                    "finished": 2.4,
                    "status": "succeeded",
                    "description": "Deploy v1",
                },
                {
                    "id": "r2",
                    "version": "v2",
                    "created": 100.8,
                    "finished": 101.2,
                    "status": "succeeded",
                    "description": "Deploy v2",
                },
                {
                    "id": "r3",
                    "version": "v1",
                    "created": 110.0,
                    "finished": 110.4,
                    "status": "succeeded",
                    "description": "Rollback to v2",
                },
            ],
        }
    },
}
JOURNAL = [
    {"at": 99.0, "kind": "job", "target": "job/m", "version": "v2"},
    {"at": 99.5, "kind": "job_finished", "target": "job/m", "version": "v2", "result": "Complete"},
    {"at": 100.1, "kind": "image", "target": "deployment/web", "version": "v2"},
    {"at": 100.1, "kind": "image", "target": "cronjob/nightly", "version": "v2"},
]
ROLLOUTS = [
    {"at": 50.0, "target": "deployment/web", "version": "v2"},  # an older rollout: ignored
    {"at": 100.6, "target": "deployment/web", "version": "v2"},
]


def test_heroku_chain_runs_from_build_to_dynos_up() -> None:
    """A Heroku app's chain is its build, its release phase and its dynos' boot."""
    [chain] = fig.heroku_chains(HEROKU, "v2", since=90.0, apps=["shop-web"])
    assert chain == Chain("heroku:shop-web", 100.0, 101.5)
    assert chain.seconds == pytest.approx(1.5)


def test_heroku_chain_under_preboot_ends_when_the_old_web_dynos_stop() -> None:
    """With preboot, the old release's web dynos serve on for a while beside the new
    ones: ship's bake waits for the new release alone, so the chain does too."""
    app = {**HEROKU["apps"]["shop-web"], "preboot": True}
    prebooted = {**HEROKU, "preboot": 0.6, "apps": {"shop-web": app}}
    [chain] = fig.heroku_chains(prebooted, "v2", since=90.0, apps=["shop-web"])
    assert chain.seconds == pytest.approx(1.8)
    short = {**prebooted, "preboot": 0.1}  # a shorter overlap than the boot: the boot
    [chain] = fig.heroku_chains(short, "v2", since=90.0, apps=["shop-web"])
    assert chain.seconds == pytest.approx(1.5)


def test_heroku_chain_without_a_release_fails_the_run() -> None:
    """An app with no succeeded build of the version yields RunFailed, not a figure."""
    with pytest.raises(RunFailed, match="shop-web"):
        fig.heroku_chains(HEROKU, "v3", since=90.0, apps=["shop-web"])


def test_heroku_rollback_chain_is_the_rollback_release() -> None:
    """The rollback chain starts at the rollback release and ends with its dynos up."""
    [chain] = fig.heroku_rollback_chains(HEROKU, since=105.0, apps=["shop-web"])
    assert chain.start == 110.0 and chain.end == pytest.approx(110.7)


def test_kube_chain_runs_from_image_change_to_rollout_complete() -> None:
    """A Deployment's chain ends at its first completed rollout after the change; a
    CronJob's is done at once."""
    chains = fig.kube_chains(JOURNAL, ROLLOUTS, "v2", 90.0, ["deployment/web", "cronjob/nightly"])
    assert [c.seconds for c in chains] == [pytest.approx(0.5), 0.0]


def test_kube_chain_never_rolled_out_fails_the_run() -> None:
    """A workload whose rollout never completed is a broken run."""
    with pytest.raises(RunFailed, match="never finished"):
        fig.kube_chains(JOURNAL, [], "v2", 90.0, ["deployment/web"])


def test_critical_path_adds_migration_bakes_and_the_slowest_target() -> None:
    """Targets run concurrently, so only the slowest counts; the rest is in series."""
    job = fig.job_chain(JOURNAL, "v2", 90.0)
    chains = [Chain("a", 0.0, 1.5), Chain("b", 0.0, 0.5)]
    assert fig.critical_path(job, 1.0, chains, 3.0) == pytest.approx(0.5 + 1.0 + 1.5 + 3.0)
    assert fig.critical_path(None, 1.0, chains, 3.0) == pytest.approx(4.5)


def test_events_and_phases_are_read_from_json_lines() -> None:
    """Phase seconds add up over repeated phases; the last release_finished decides."""
    lines = [
        {"event": "phase_started", "phase": "gate", "time": "2026-11-26T07:00:00+00:00"},
        {"event": "phase_finished", "phase": "gate", "time": "2026-11-26T07:00:00.5+00:00"},
        {"event": "release_finished", "exit_code": 0, "time": "2026-11-26T07:00:01+00:00"},
        {"event": "phase_started", "phase": "gate", "time": "2026-11-26T07:00:02+00:00"},
        {"event": "phase_finished", "phase": "gate", "time": "2026-11-26T07:00:02.25+00:00"},
        {"event": "release_finished", "exit_code": 1, "time": "2026-11-26T07:00:03+00:00"},
    ]
    events = fig.parse_events("\n".join(json.dumps(e) for e in lines) + "\n")
    assert fig.phase_seconds(events) == {"gate": pytest.approx(0.75)}
    assert fig.final_exit(events) == 1
    assert fig.final_exit([]) is None


def test_table_shows_each_figure_beside_its_ideal_and_the_ratio() -> None:
    """Each row has the measured value, its ideal and their ratio; units are labelled."""
    table = fig.render(
        [Figure("release overhead", 12.0, 10.0, "s"), Figure("calls", 8.0, None, "calls")]
    )
    rows = table.splitlines()
    assert rows[0].startswith("| figure")
    assert "12.000 s" in rows[2] and "10.000 s" in rows[2] and "1.20" in rows[2]
    assert rows[3].count(" - ") >= 2  # no ideal: no ratio


def test_a_failed_run_prints_no_figure_and_exits_non_zero() -> None:
    """A run that did not complete is named, has no row, and makes the exit code 1."""
    table = fig.render([Figure("ok", 1.0, 1.0, "s")], ["release H=8,K=75: exited 4"])
    assert "FAILED, no figure: release H=8,K=75" in table
    assert "H=8,K=75" not in table.split("FAILED")[0]
    assert fig.exit_status(["release H=8,K=75: exited 4"]) == 1
    assert fig.exit_status([]) == 0
    with pytest.raises(RunFailed):
        fig.require(False, "broken")


def test_latency_flag_and_sizes() -> None:
    """`--latency 50ms` is 0.05 s; a sized sandbox keeps the default targets first."""
    assert parse_latency("50ms") == pytest.approx(0.05)
    assert parse_latency("0.2s") == pytest.approx(0.2)
    spec = sized_spec(8, 75, 0.05)
    assert spec.apps[:2] == ("shop-web", "shop-worker") and len(spec.apps) == 8
    assert len(spec.workloads) == 75 and spec.workloads[2][0] == "cronjob"
    assert sized_spec(2, 3, 0.0).workloads == sized_spec(2, 3, 0.0).workloads[:3]


def test_goal_lines_say_whether_the_overhead_is_within_the_goal() -> None:
    """Only the named figures are judged, each against the goal."""
    rows = [
        Figure("release overhead small", 11.0, 10.0, "s"),
        Figure("release overhead large", 13.0, 10.0, "s"),
        Figure("start-up", 9.0, 1.0, "s"),
    ]
    lines = fig.goal_lines(rows, "release overhead", 1.2)
    assert lines == [
        "goal 1.2 met: release overhead small = 1.10",
        "goal 1.2 missed: release overhead large = 1.30",
    ]


def _event(kind: str, at: float, **fields: object) -> dict[str, object]:
    return {"event": kind, "at": at, **fields}


BAKED = [
    _event("phase_started", 10.0, phase="migration_bake"),
    _event("check_result", 10.1, check="health"),
    _event("check_result", 10.1, check="platform"),
    _event("check_result", 10.6, check="health"),
    _event("phase_finished", 11.0, phase="migration_bake"),
    _event("check_result", 11.5, check="health"),  # outside any bake: not a measurement
    _event("phase_started", 20.0, phase="verify"),
    _event("check_result", 20.1, check="health"),
    _event("phase_finished", 23.0, phase="verify"),
]


def test_bakes_and_their_measurements_are_read_from_the_events() -> None:
    """Each bake is a window; its measurements are the most results any one check gave."""
    windows = fig.bake_windows(BAKED)
    assert windows == [(10.0, 11.0), (20.0, 23.0)]
    assert fig.measurements(BAKED, windows) == 3
    assert fig.measurements(BAKED, []) == 0


def test_heroku_calls_split_into_outside_and_inside_the_bakes() -> None:
    """Calls in a bake window are inside; calls before the run or after it are left out."""
    times = [5.0, 9.0, 10.5, 12.0, 21.0, 22.0, 24.0, 30.0]
    assert fig.split_calls(times, 8.0, 25.0, [(10.0, 11.0), (20.0, 23.0)]) == (3, 3)


def test_first_rollback_call_per_target_gives_the_slowest_and_the_median() -> None:
    """Every target's first call counts, not only the earliest one."""
    chains = [Chain("a", 100.05, 101.0), Chain("b", 100.30, 101.0), Chain("c", 100.10, 101.0)]
    slowest, median = fig.first_calls(chains, 100.0)
    assert slowest == pytest.approx(0.30) and median == pytest.approx(0.10)
    _, even = fig.first_calls(chains[:2], 100.0)
    assert even == pytest.approx(0.175)
    with pytest.raises(RunFailed):
        fig.first_calls([], 100.0)


def test_first_rollback_call_as_sent_is_its_arrival_plus_the_latency() -> None:
    """The stand-in applied `b` late (its own queue); `ship` sent it 10 ms after the
    decision, so as sent it is 0.06 s with 50 ms latency. A chain that does not say when
    its call arrived makes the figure fail, never a guess."""
    chains = [Chain("a", 100.06, 101.0, 100.005), Chain("b", 100.40, 101.0, 100.010)]
    slowest, median = fig.first_calls(chains, 100.0, latency=0.05)
    assert slowest == pytest.approx(0.06) and median == pytest.approx(0.0575)
    with pytest.raises(RunFailed, match="arrived"):
        fig.first_calls([*chains, Chain("c", 100.1, 101.0)], 100.0, latency=0.05)
