"""The benchmark: `ship` against sandboxes with API latency, each figure beside its ideal.

    .venv/bin/python -m bench [--latency 50ms] [--sizes 2x3,8x75] [--runs 3] [--quick]

See bench/README.md for what each figure means. Every run starts `ship` (the console
script next to this interpreter) in a subprocess, as a user would. A run that does not
complete as it should prints no figure, and the benchmark then exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench import figures as fig
from bench.figures import Figure, RunFailed
from shipper.core.model import Phase

HERE = Path(__file__).resolve().parent
SHIP = str(Path(sys.executable).with_name("ship"))
STARTUP_RUNS = 7  # start-up timings are the median of at least this many runs
MIB = 1024.0  # ru_maxrss is in KiB on Linux

# The sandbox pipeline's verify and migration policy (shipper/sandbox/files.py).
MIGRATION_BAKE = 1.0
VERIFY_BAKE = 3.0
INTERVAL = 0.5
FAILURE_LIMIT = 2
GOAL = 1.05  # release overhead, issue 19
RELEASE, MIGRATE = Phase.RELEASE.value, Phase.MIGRATE.value


def parse_latency(raw: str) -> float:
    raw = raw.strip()
    if raw.endswith("ms"):
        return float(raw[:-2]) / 1000
    return float(raw[:-1]) if raw.endswith("s") else float(raw)


# --- the sandbox -------------------------------------------------------------------------


class World:
    """A `bench.world` process: a sandbox of H apps and K workloads, and its timings."""

    def __init__(self, folder: Path, apps: int, workloads: int, latency: float) -> None:
        self.apps, self.workloads = apps, workloads
        self.folder = folder
        self.log = (folder / "world.log").open("wb")
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.world", "--dir", str(folder)),
                *("--apps", str(apps), "--workloads", str(workloads), "--latency", str(latency)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=HERE.parent,
        )
        ready = self._answer()
        self.pipeline = Path(ready["pipeline"])
        self.endpoints: dict[str, str] = ready["endpoints"]
        spec = json.loads(json.dumps(self.timings()["state"]))
        self.app_names = list(spec["heroku"]["apps"])
        self.workload_names = list(spec["kubernetes"]["workloads"])

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RunFailed(f"the sandbox exited; see {self.folder / 'world.log'}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def timings(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("timings\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


@dataclass
class ShipRun:
    code: int
    events: list[dict[str, Any]]
    started: float
    ended: float
    maxrss_kib: int
    stderr: str

    @property
    def wall(self) -> float:
        return self.ended - self.started


def run_ship(args: Sequence[str], folder: Path, timeout: float = 600.0) -> ShipRun:
    """`ship ARGS` in a subprocess: exit code, JSON events, wall time and peak RSS."""
    env = dict(os.environ)
    env.pop("HEROKU_API_KEY", None)
    env["SHIP_STATE_DIR"] = str(folder / "state")
    env["NO_COLOR"] = "1"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        proc = subprocess.Popen([SHIP, *args], stdout=out, stderr=err, cwd=folder, env=env)
        give_up = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > give_up:
                proc.kill()
                raise RunFailed(f"ship {' '.join(args)} did not finish in {timeout:g}s")
            time.sleep(0.005)
        ended = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    events = fig.parse_events(stdout) if args and args[0] in ("deploy", "rollback") else []
    if events:  # kept for a closer look (--keep)
        (folder / f"{args[0]}-{args[1]}.jsonl").write_text(stdout)
        (folder / f"{args[0]}-{args[1]}.stderr").write_text(stderr)
    return ShipRun(proc.returncode, events, started, ended, usage.ru_maxrss, stderr)


def compile_bytecode() -> None:
    """Compile ship's own modules once, as `pip install` does: with
    PYTHONDONTWRITEBYTECODE set (CI images and sandboxes often set it) an editable
    install recompiles some 200 modules from source at every start, about 0.1 s that no
    installed copy pays."""
    import shipper

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folder = str(Path(shipper.__file__).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", folder], env=env, check=True)


def _timed(argv: Sequence[str], folder: Path, runs: int) -> float:
    """The median wall time of `argv` over `runs` runs; RunFailed on a non-zero exit."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=folder, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RunFailed(f"{' '.join(argv[-3:])} exited {done.returncode}")
    return statistics.median(times)


# --- the measurements --------------------------------------------------------------------


def _calls(before: dict[str, Any], after: dict[str, Any], side: str) -> int:
    was = before["state"][side]["api_calls"]
    return sum(n - was.get(route, 0) for route, n in after["state"][side]["api_calls"].items())


def heroku_split(
    before: dict[str, Any], after: dict[str, Any], run: ShipRun, apps: int, size: str
) -> list[Figure]:
    """The Heroku calls of one run per app, outside the bakes and per bake measurement."""
    windows = fig.bake_windows(run.events)
    times = after["heroku_calls"][len(before["heroku_calls"]) :]
    outside, inside = fig.split_calls(times, run.started, run.ended, windows)
    rounds = fig.measurements(run.events, windows)
    rows = [
        Figure(
            f"  outside the bakes {size} (per app)",
            outside / apps,
            None,
            "calls",
            "lock to exit, the bakes' measurements left out",
        )
    ]
    if rounds:
        rows.append(
            Figure(
                f"  inside the bakes {size} (per app per measurement)",
                inside / apps / rounds,
                None,
                "calls",
                f"{inside} calls, {rounds} measurements",
            )
        )
    return rows


def release_figures(world: World, latency: float, version: str) -> tuple[list[Figure], ShipRun]:
    """A full release (migration, both sides, bake) against its critical path."""
    size = f"H={world.apps},K={world.workloads}"
    before = world.timings()
    run = run_ship(
        ["deploy", version, "-p", str(world.pipeline), "--migrations", "--yes", "--output", "json"],
        world.folder,
    )
    fig.require(
        run.code == 0 and fig.final_exit(run.events) == 0,
        f"deploy {version} at {size} exited {run.code}: {run.stderr.strip()[-300:]}",
    )
    after = world.timings()
    journal = after["state"]["kubernetes"]["journal"]
    job = fig.job_chain(journal, version, run.started)
    chains = fig.heroku_chains(after["heroku"], version, run.started, world.app_names)
    chains += fig.kube_chains(
        journal, after["rollouts"], version, run.started, world.workload_names
    )
    critical = fig.critical_path(job, MIGRATION_BAKE, chains, VERIFY_BAKE)
    slowest = max(chains, key=lambda c: c.seconds)
    phases = fig.phase_seconds(run.events)
    first, last = run.events[0]["at"], run.events[-1]["at"]
    rows = [
        Figure(
            f"release overhead {size} (wall / critical path)",
            run.wall,
            critical,
            "s",
            f"goal <= {GOAL:g}; slowest target {slowest.target} {slowest.seconds:.2f}s",
        ),
        Figure(
            f"  code phase {size} (release phase / slowest target)",
            phases.get(RELEASE, 0.0),
            slowest.seconds,
            "s",
            "targets ship concurrently",
        ),
        Figure(
            f"  migration {size} (migrate phase / Job run)",
            phases.get(MIGRATE, 0.0),
            job.seconds,
            "s",
            "",
        ),
        Figure(
            f"  bakes {size} (migration_bake + verify / configured)",
            sum(phases.get(p, 0.0) for p in fig.BAKES),
            MIGRATION_BAKE + VERIFY_BAKE,
            "s",
            "",
        ),
        Figure(
            f"  start-up {size} (process start -> first event)",
            first - run.started,
            0.0,
            "s",
            "imports, pipeline, wiring, lock",
        ),
        Figure(
            f"  exit {size} (last event -> process gone)",
            run.ended - last,
            0.0,
            "s",
            "",
        ),
        Figure(
            f"  other {size} (lock, gates, snapshots, between phases)",
            (last - first) - sum(phases.get(p, 0.0) for p in (RELEASE, MIGRATE, *fig.BAKES)),
            0.0,
            "s",
            f"{latency * 1000:.0f} ms per API call",
        ),
        Figure(
            f"Heroku API calls per release per app {size}",
            _calls(before, after, "heroku") / world.apps,
            4.0,
            "calls",
            "ideal: snapshot, build, its end, the release",
        ),
        *heroku_split(before, after, run, world.apps, size),
        Figure(
            f"Kubernetes API calls per workload {size}",
            _calls(before, after, "kubernetes") / world.workloads,
            3.0,
            "calls",
            "ideal: read, patch, one watch; a list reads many",
        ),
    ]
    return rows, run


def serial_figure(world: World, version: str, ship_wall: float, critical: float) -> Figure:
    """The same release one target at a time through the real adapters (bench.serial)."""
    size = f"H={world.apps},K={world.workloads}"
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.serial", str(world.pipeline), version, "--migrations"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.time() - started
    fig.require(done.returncode == 0, f"serial baseline at {size}: {done.stderr.strip()[-300:]}")
    state = world.timings()["state"]
    running = [a["version"] for a in state["heroku"]["apps"].values()]
    running += [w["version"] for w in state["kubernetes"]["workloads"].values()]
    fig.require(set(running) == {version}, f"serial baseline at {size} left {set(running)}")
    return Figure(
        f"speedup vs serial {size} (serial wall / ship wall)",
        wall / ship_wall,
        wall / critical,
        "x",
        f"serial {wall:.1f}s; ideal: serial / critical path",
    )


def rollback_figures(world: World, latency: float, good: str, broken: str) -> list[Figure]:
    """A version that fails its checks: how fast both sides are back on `good`."""
    size = f"H={world.apps},K={world.workloads}"
    run = run_ship(
        [
            *("deploy", broken, "-p", str(world.pipeline)),
            *("--no-migrations", "--yes", "--output", "json"),
        ],
        world.folder,
    )
    fig.require(
        run.code == 1 and fig.final_exit(run.events) == 1,
        f"deploy {broken} at {size} exited {run.code} (expected 1, rolled back)",
    )
    after = world.timings()
    journal = after["state"]["kubernetes"]["journal"]
    failed = [e for e in run.events if e["event"] == "check_result" and e["status"] == "failed"]
    verdicts = [e for e in run.events if e["event"] == "check_failed"]
    fig.require(bool(verdicts), f"deploy {broken} at {size}: no check reached its failure limit")
    decided = verdicts[0]["at"]  # the failing measurement that crossed the limit
    ends = [e["at"] for e in run.events if e["event"] == "rollback_finished"]
    fig.require(bool(ends), f"deploy {broken} at {size}: no rollback_finished")
    finished = ends[0]
    h_back = fig.heroku_rollback_chains(after["heroku"], decided, world.app_names)
    k_back = fig.kube_chains(journal, after["rollouts"], good, decided, world.workload_names)
    h_first = min(c.start for c in h_back) - decided
    k_first = min(c.start for c in k_back) - decided
    h_slowest, h_median = fig.first_calls(h_back, decided)
    k_slowest, k_median = fig.first_calls(k_back, decided)
    h_sent, h_sent_median = fig.first_calls(h_back, decided, latency)
    k_sent, k_sent_median = fig.first_calls(k_back, decided, latency)
    healthy = max(c.end for c in h_back + k_back) - decided
    own = max(c.seconds for c in h_back + k_back)
    # detection in the real run: from both sides serving the broken version to the decision
    live = fig.heroku_chains(after["heroku"], broken, run.started, world.app_names)
    live += fig.kube_chains(journal, after["rollouts"], broken, run.started, world.workload_names)
    serving = max(c.end for c in live)
    return [
        Figure(
            f"rollback: failing measurement -> first Heroku rollback call {size}",
            h_first,
            latency,
            "s",
            "ideal: one API round trip",
        ),
        Figure(
            f"rollback: failing measurement -> first Kubernetes rollback call {size}",
            k_first,
            latency,
            "s",
            "ideal: one API round trip",
        ),
        Figure(
            f"  every Heroku app's first rollback call {size} (slowest)",
            h_slowest,
            latency,
            "s",
            f"median {h_median:.3f} s over {len(h_back)} apps",
        ),
        Figure(
            f"  every workload's first rollback call {size} (slowest)",
            k_slowest,
            latency,
            "s",
            f"median {k_median:.3f} s over {len(k_back)} workloads",
        ),
        Figure(
            f"    as sent: every app's (slowest) {size}",
            h_sent,
            latency,
            "s",
            f"median {h_sent_median:.3f} s; arrival + latency, stand-in queue left out",
        ),
        Figure(
            f"    as sent: every workload's (slowest) {size}",
            k_sent,
            latency,
            "s",
            f"median {k_sent_median:.3f} s; arrival + latency, stand-in queue left out",
        ),
        Figure(
            f"rollback: failing measurement -> both sides healthy {size}",
            healthy,
            latency + own,
            "s",
            f"ideal: round trip + platforms' own {own:.2f}s",
        ),
        Figure(
            f"rollback: failing measurement -> ship reports both sides back {size}",
            finished - decided,
            latency + own,
            "s",
            "rollback_finished event",
        ),
        Figure(
            f"detection in ship: first failed measurement -> check_failed {size}",
            decided - failed[0]["at"],
            INTERVAL * FAILURE_LIMIT,
            "s",
            "ideal: interval x failure_limit",
        ),
        Figure(
            f"detection in ship: broken version live -> check_failed {size}",
            decided - serving,
            INTERVAL * FAILURE_LIMIT,
            "s",
            "includes noticing the release is live",
        ),
    ]


def detection_figure(runs: int) -> Figure:
    """bench/detection_latency.py's bake on a real clock: first failed measurement to
    the end of the bake, against interval x failure_limit."""
    from bench.detection_latency import one_run

    timeout = 0.15
    # abandoned measurements reset their connections; the server prints each to stderr
    with contextlib.redirect_stderr(io.StringIO()):
        results = [one_run("broken", INTERVAL, FAILURE_LIMIT, timeout)[1] for _ in range(runs)]
    return Figure(
        "detection in the bake: first failed measurement -> bake ends",
        statistics.median(results),
        INTERVAL * FAILURE_LIMIT,
        "s",
        f"median of {runs}; bound adds the {timeout}s check timeout",
    )


def startup_figures(world: World, runs: int, latency: float) -> list[Figure]:
    bare = _timed([sys.executable, "-c", "pass"], world.folder, runs)
    env_ship = [SHIP]
    return [
        Figure(
            "start-up: ship --help",
            _timed([*env_ship, "--help"], world.folder, runs),
            bare,
            "s",
            "ideal: a bare python start",
        ),
        Figure(
            "start-up: ship --version",
            _timed([*env_ship, "--version"], world.folder, runs),
            bare,
            "s",
            "ideal: a bare python start",
        ),
        Figure(
            f"start-up: ship status H={world.apps},K={world.workloads}",
            _timed([*env_ship, "status", "-p", str(world.pipeline)], world.folder, runs),
            bare + latency,
            "s",
            "ideal: python start + one round trip",
        ),
    ]


# --- the whole benchmark -----------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]  # other work on the machine skews every absolute time
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"Python {platform.python_version()}, load average {load:.2f}"
    )


def section(
    name: str,
    rows: list[Figure],
    failures: list[str],
    measure: Callable[[], list[Figure]],
    log: IO[str],
) -> None:
    """Run one measurement; its figures join the table only if it completed."""
    print(f"... {name}", file=log, flush=True)
    try:
        rows += measure()
    except RunFailed as exc:
        failures.append(f"{name}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", default="50ms", help="added to every API call (50ms)")
    parser.add_argument("--sizes", default="2x3,8x75", help="HxK sizes (2x3,8x75)")
    parser.add_argument(
        "--runs", type=int, default=3, help="detection runs; start-up timings take at least 7"
    )
    parser.add_argument("--quick", action="store_true", help="no serial baseline at the large size")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    latency = parse_latency(args.latency)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    rows: list[Figure] = []
    failures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="ship-bench-"))
    log = sys.stderr
    header = f"{machine()}; API latency {latency * 1000:.0f} ms"
    print(f"machine: {header}", file=log)
    compile_bytecode()
    peaks: dict[str, float] = {}
    for index, (apps, workloads) in enumerate(sizes):
        size = f"H={apps},K={workloads}"
        folder = work / f"{apps}x{workloads}"
        folder.mkdir()
        world = World(folder, apps, workloads, latency)
        try:
            done: dict[str, Any] = {}

            def release(world: World = world, done: dict[str, Any] = done) -> list[Figure]:
                found, run = release_figures(world, latency, "v2")
                done["run"], done["critical"] = run, found[0].ideal
                return found

            section(f"release {size}", rows, failures, release, log)
            if "run" in done:
                peaks[size] = done["run"].maxrss_kib / MIB
                if index == 0 or not args.quick:
                    section(
                        f"serial baseline {size}",
                        rows,
                        failures,
                        lambda w=world, d=done: [  # type: ignore[misc]
                            serial_figure(w, "v3", d["run"].wall, d["critical"])
                        ],
                        log,
                    )
            good = "v3" if f"serial baseline {size}" not in " ".join(failures) else "v2"
            if index == 0 or not args.quick:
                section(
                    f"rollback {size}",
                    rows,
                    failures,
                    lambda w=world, g=good: rollback_figures(w, latency, g, "v4-broken"),  # type: ignore[misc]
                    log,
                )
            if index == 0:
                section(
                    "start-up",
                    rows,
                    failures,
                    lambda w=world: startup_figures(w, max(STARTUP_RUNS, args.runs), latency),  # type: ignore[misc]
                    log,
                )
        finally:
            world.close()
    section("detection", rows, failures, lambda: [detection_figure(args.runs)], log)
    if peaks:
        small = min(peaks.values())
        for size, peak in peaks.items():
            rows.append(
                Figure(
                    f"peak memory of ship deploy {size}",
                    peak,
                    small,
                    "MiB",
                    "ideal: the smallest release's peak (RSS)",
                )
            )
    print(f"\nmachine: {header}; now {machine().rsplit(', ', 1)[1]}\n")
    print(fig.render(rows, failures))
    print("\n" + "\n".join(fig.goal_lines(rows, "release overhead", GOAL)))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\nwork folder kept: {work}", file=log)
    return fig.exit_status(failures)


if __name__ == "__main__":
    sys.exit(main())
