"""Detection latency of the bake in real time, against the sandbox's application endpoint.

The unit tests prove the bound with a fake clock; this measures it on a real clock, over
real HTTP on loopback, with the real HttpCheck and PrometheusCheck:

    .venv/bin/python bench/detection_latency.py [--runs 5] [--interval 0.2]

For each scenario it bakes a healthy version, breaks it partway through, and reports
how long it took from the break, and from the start of the first failed measurement, to
the end of the bake, next to the bound `interval x failure_limit + timeout`.

Scenarios: `broken` (the version answers 503 and its error ratio climbs) and `hang`
(the health endpoint stops answering, so each measurement lasts a whole timeout).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx

from shipper.checks.http import HttpCheck
from shipper.checks.prometheus import PrometheusCheck
from shipper.core.clock import SystemClock
from shipper.core.config import VerifyPolicy
from shipper.core.events import CheckMeasured, Event
from shipper.core.model import Measurement, MeasurementStatus, Side, Version
from shipper.core.verify import bake
from shipper.ports import Check
from shipper.sandbox.app_side import AppSide
from shipper.sandbox.faults import Fault
from shipper.sandbox.web import serve

VERSION = Version("v2")


@dataclass
class Running:
    version: str = "v2"

    def __call__(self) -> dict[str, str | None]:
        return {"deployment/web": self.version}


@dataclass
class Timed:
    """Wraps a check to note when each failed measurement started."""

    check: Check
    failed_starts: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.check.name

    @property
    def side(self) -> Side:
        return self.check.side

    @property
    def threshold(self) -> str:
        return self.check.threshold

    @property
    def uses_version(self) -> bool:
        return self.check.uses_version

    def measure(self, version: Version) -> Measurement:
        started = time.monotonic()
        m = self.check.measure(version)
        if m.status is MeasurementStatus.FAILED:
            self.failed_starts.append(started)
        return m


def one_run(scenario: str, interval: float, limit: int, timeout: float) -> tuple[float, float]:
    """(seconds from the break, seconds from the first failed measurement) to the bake's end."""
    running = Running()
    app = AppSide("kubernetes", running)
    served = serve("bench-app", app)
    client = httpx.Client()
    checks = [
        Timed(
            HttpCheck(
                "health",
                Side.KUBERNETES,
                url=f"{served.url}/health",
                client=client,
                json_field="version",
                equals="{version}",
                timeout=timeout,
            )
        ),
        Timed(
            PrometheusCheck(
                "errors",
                Side.KUBERNETES,
                url=served.url,
                query="errors",
                client=client,
                maximum=0.01,
                timeout=timeout,
            )
        ),
    ]
    policy = VerifyPolicy(bake_seconds=60, interval_seconds=interval, failure_limit=limit)
    stop = threading.Event()
    broke_at: list[float] = []

    def breaker() -> None:
        time.sleep(interval * 3.5)  # between two rounds, after a few good ones
        broke_at.append(time.monotonic())
        if scenario == "hang":
            app.faults.add(Fault(kind="hang", path="/health", delay=timeout * 4, times=None))
        else:
            running.version = "v2-broken"

    events: list[Event] = []
    threading.Thread(target=breaker, daemon=True).start()
    try:
        result = bake(
            checks,
            policy,
            version=VERSION,
            seconds=policy.bake_seconds,
            clock=SystemClock(),
            emit=events.append,
            cancelled=stop.is_set,
            pause=lambda s: _wait(stop, s),
            rounds=None,
        )
        ended = time.monotonic()
    finally:
        client.close()
        app.faults.clear()
        served.close()
    assert not result.passed, "the bake passed a broken version"
    first_failed = min(t for c in checks for t in c.failed_starts if t >= broke_at[0])
    assert any(isinstance(e, CheckMeasured) for e in events)
    return ended - broke_at[0], ended - first_failed


def _wait(stop: threading.Event, seconds: float) -> None:
    stop.wait(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--failure-limit", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=0.15)
    args = parser.parse_args()
    bound = args.interval * args.failure_limit + args.timeout
    print(
        f"interval {args.interval}s, failure_limit {args.failure_limit}, "
        f"timeout {args.timeout}s: bound {bound:.3f}s"
    )
    for scenario in ("broken", "hang"):
        from_break, from_first = zip(
            *(
                one_run(scenario, args.interval, args.failure_limit, args.timeout)
                for _ in range(args.runs)
            ),
            strict=True,
        )
        print(
            f"{scenario:>6}: first failed measurement -> end of bake: "
            f"median {statistics.median(from_first):.3f}s, max {max(from_first):.3f}s; "
            f"break -> end: median {statistics.median(from_break):.3f}s, "
            f"max {max(from_break):.3f}s ({args.runs} runs)"
        )


if __name__ == "__main__":
    main()
