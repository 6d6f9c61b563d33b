"""The serial baseline: the same release one target at a time, as a shell script would.

Run as `python -m bench.serial PIPELINE VERSION`; prints one JSON line with the wall time.

A script of `heroku` and `kubectl` commands would run the migration Job and wait for it,
sleep the migration bake, then for each Heroku app create a build and wait for its
release, then for each workload `kubectl set image` and `kubectl rollout status`, then
sleep the verify bake. This does exactly that, one target after another, through the
real adapters (`HerokuPlatform` and `KubernetesPlatform` built by the same factories
`ship` uses, each given one target), so the platform waits, API latency and polling are
the same as in `ship`; only the concurrency differs. It takes no lock, reads no gate and
runs no checks, which favours the baseline slightly.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from shipper.core.clock import SystemClock
from shipper.core.model import ReleaseNo, TargetResult, Version
from shipper.core.operation import ReleaseOperation
from shipper.heroku.factory import build_heroku_platform
from shipper.kubernetes.factory import build_kubernetes_platform, build_migration_runner
from shipper.pipeline import Pipeline, load_pipeline


def _operation(pipeline: Pipeline, version: Version, clock: SystemClock) -> ReleaseOperation:
    return ReleaseOperation(
        release=ReleaseNo(9000 + int(time.time()) % 1000),
        pipeline=pipeline.name,
        version=version,
        clock=clock,
        budget_seconds=600.0,
        stop=threading.Event(),
        abort=threading.Event(),
        write_ahead=lambda target, action, detail: None,
        fence=lambda: None,
        emit=lambda event: None,
    )


def run(path: Path, version: Version, migrations: bool) -> float:
    """The serial release's wall time in seconds; raises if any step did not succeed."""
    pipeline = load_pipeline(path)
    clock = SystemClock()
    env: dict[str, str] = {}
    heroku, kube = pipeline.heroku, pipeline.kubernetes
    assert heroku is not None and kube is not None and pipeline.migrations is not None
    started = time.monotonic()
    if migrations:
        runner = build_migration_runner(pipeline, clock=clock, env=env)
        result = runner.run(
            version, pipeline.migrations.command, _operation(pipeline, version, clock)
        )
        if not result.succeeded:
            raise SystemExit(f"migration: {result.message}")
        time.sleep(pipeline.migrations.bake)
    for app in heroku.apps:
        one = pipeline.model_copy(update={"heroku": heroku.model_copy(update={"apps": (app,)})})
        side = build_heroku_platform(one, clock=clock, env=env)
        _require(side.deploy(version, _operation(pipeline, version, clock)), app)
    for workload in kube.workloads:
        one = pipeline.model_copy(
            update={"kubernetes": kube.model_copy(update={"workloads": (workload,)})}
        )
        platform = build_kubernetes_platform(one, clock=clock, env=env)
        _require(platform.deploy(version, _operation(pipeline, version, clock)), workload)
    time.sleep(pipeline.verify.bake)
    return time.monotonic() - started


def _require(results: Sequence[TargetResult], name: str) -> None:
    for result in results:
        if not result.ok:
            raise SystemExit(f"{name}: {result.verdict.value}: {result.message}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path, version = Path(args[0]), Version(args[1])
    seconds = run(path, version, migrations="--migrations" in args)
    print(json.dumps({"seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
