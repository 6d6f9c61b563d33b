"""Traffic through HAProxy (issue 18): how long from `ship traffic set` to the first
request routed by the new split, and how much latency HAProxy adds.

    .venv/bin/python bench/traffic.py [--requests 2000] [--runs 5]

Starts the same stack the traffic tests use (a real HAProxy on loopback, two small
backends, the configuration `ship traffic render` writes) and runs `ship` as a user does
(the console script, in a subprocess). Prints figures to stdout; exits 1 when a run went
wrong (a request failed, the new split never showed).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shipper.traffic.hashing import bucket
from tests.traffic.harness import request, running_stack

SHIP = Path(sys.executable).with_name("ship")


def _latencies(port: int, count: int, site: str | None) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = request(conn, site)
        out.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"FAILED: a request answered {status}")
    conn.close()
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def _change_to_effect(stack_port: int, root: Path, percent: int, site: str) -> tuple[float, float]:
    """(seconds the command took, seconds from its start to the first request of `site`
    on kubernetes), with requests sent back to back the whole time."""
    env = {**os.environ, "SHIP_STATE_DIR": str(root / "state")}
    conn = http.client.HTTPConnection("127.0.0.1", stack_port, timeout=10)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(SHIP), "traffic", "set", "--percent", str(percent), "-p", "web", "--output", "json"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    effect = None
    while time.perf_counter() - started < 20:
        status, side = request(conn, site)
        if status != 200:
            raise SystemExit(f"FAILED: a request answered {status} during the change")
        if side == "kubernetes":
            effect = time.perf_counter() - started
            break
    proc.wait(timeout=30)
    took = time.perf_counter() - started
    conn.close()
    if proc.returncode != 0 or effect is None:
        raise SystemExit(f"FAILED: ship traffic set exited {proc.returncode}, effect {effect}")
    return took, effect


def _runtime_to_effect(port: int, runtime: str, maps: Path, runs: int) -> list[float]:
    """Seconds from sending `set map ... percent` to the first request on the new split."""
    from shipper.traffic.runtime import HAProxyRuntime

    proxy = HAProxyRuntime(runtime, maps)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    for run in range(runs):
        site = next(f"r{run}-{i}" for i in range(10_000) if bucket(f"r{run}-{i}") >= 90)
        proxy.send(f"set map {proxy.map_name('settings.map')} percent 0")
        assert request(conn, site)[1] == "heroku"
        started = time.perf_counter()
        proxy.send(f"set map {proxy.map_name('settings.map')} percent 100")
        while request(conn, site)[1] != "kubernetes":
            pass
        out.append(time.perf_counter() - started)
    conn.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ship-bench-traffic-") as folder:
        root = Path(folder)
        os.environ["SHIP_STATE_DIR"] = str(root / "state")
        with running_stack(root) as stack:
            _latencies(stack.port, 200, "warm-up")
            via = _latencies(stack.port, args.requests, "bench-site")
            direct = _latencies(stack.heroku.port, args.requests, "bench-site")
            print(f"latency over {args.requests} sequential keep-alive requests on loopback:")
            for name, values in (("direct to backend", direct), ("through HAProxy", via)):
                print(
                    f"  {name:<18} p50 {_pct(values, 50):6.3f} ms   p99 {_pct(values, 99):6.3f} ms"
                )
            print(
                f"  HAProxy adds      p50 {_pct(via, 50) - _pct(direct, 50):6.3f} ms   "
                f"p99 {_pct(via, 99) - _pct(direct, 99):6.3f} ms"
            )
            took_all, effect_all = [], []
            for run in range(args.runs):
                percent = 10 + run * 10
                site = next(
                    f"b{run}-{i}"
                    for i in range(10_000)
                    if percent - 10 <= bucket(f"b{run}-{i}") < percent
                )
                took, effect = _change_to_effect(stack.port, root, percent, site)
                took_all.append(took)
                effect_all.append(effect)
            print(f"ship traffic set (console script, subprocess), {args.runs} runs:")
            print(
                f"  command start -> first request on the new split: median "
                f"{statistics.median(effect_all) * 1000:.0f} ms (min {min(effect_all) * 1000:.0f}, "
                f"max {max(effect_all) * 1000:.0f})"
            )
            whole = statistics.median(took_all) * 1000
            print(f"  whole command (lock, ledger, apply, files): median {whole:.0f} ms")
            live = _runtime_to_effect(stack.port, stack.runtime, stack.maps, args.runs)
            print(
                f"  one runtime API command -> first request on the new split: median "
                f"{statistics.median(live) * 1000:.2f} ms (the rest is ship's own start, lock, "
                "ledger and read-back)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
