"""The split against a real HAProxy: routing, stickiness, live changes, restarts."""

from __future__ import annotations

import http.client
import random
from collections.abc import Callable

from typer.testing import Result

from shipper.traffic.hashing import bucket
from tests.traffic.harness import Stack, request


def test_ship_bucket_matches_haproxy(stack: Stack, ship: Callable[..., Result]) -> None:
    """For 1,000 random site ids, the bucket HAProxy logs is the one ship computes."""
    rng = random.Random(7)
    sites = [f"s{rng.getrandbits(40):x}-{i}" for i in range(1000)]
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    for site in sites:
        assert request(conn, site)[0] == 200
    conn.close()
    logged: dict[str, int] = {}
    import time

    deadline = time.monotonic() + 5
    while len(logged) < len(sites) and time.monotonic() < deadline:
        for line in stack.log.read_text(errors="replace").splitlines():
            if " site=" in line and " bucket=" in line:
                site = line.split(" site=", 1)[1].split(" ", 1)[0]
                number = line.split(" bucket=", 1)[1].split(" ", 1)[0]
                if site in sites:
                    logged[site] = int(number)
        time.sleep(0.1)
    assert len(logged) == len(sites)
    assert {s: bucket(s) for s in sites} == logged


def _split(stack: Stack, sites: list[str], per_site: int) -> dict[str, set[str]]:
    """Send `per_site` requests for each site (4 connections in parallel); the sides
    that answered each site. Any status but 200 fails the test."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [sites[i::4] for i in range(4)]

    def run(chunk: list[str]) -> dict[str, set[str]]:
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        seen: dict[str, set[str]] = {}
        for _ in range(per_site):
            for site in chunk:
                status, side = request(conn, site)
                assert status == 200, (status, side)
                seen.setdefault(site, set()).add(side)
        conn.close()
        return seen

    out: dict[str, set[str]] = {}
    with ThreadPoolExecutor(4) as pool:
        for part in pool.map(run, chunks):
            out.update(part)
    return out


def _ok(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def test_quarter_of_sites_on_kubernetes_and_sticky(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """At 25%, 10,000 requests from 1,000 sites: 25±3% of sites on Kubernetes, each site
    always on one side."""
    _ok(ship("traffic", "set", "--percent", "25", "--reason", "first quarter"))
    # Site ids as a real estate has them (random-looking, fixed seed: no flakiness).
    # Hashing 1,000 sites is a binomial draw: sigma is 1.4 points at 25%.
    rng = random.Random(2024)
    sites = [f"{rng.getrandbits(48):012x}" for _ in range(1000)]
    seen = _split(stack, sites, per_site=10)
    assert all(len(sides) == 1 for sides in seen.values()), "a site was served by both sides"
    share = 100 * sum(1 for s in seen.values() if s == {"kubernetes"}) / len(sites)
    print(f"\nsplit at 25%: {share:.1f}% of 1,000 sites on kubernetes (error {share - 25:+.1f})")
    assert abs(share - 25) <= 3


def test_pin_wins_at_zero_and_block_wins_at_hundred(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """A pinned site goes to Kubernetes at 0%; a blocked site to Heroku at 100%, pinned or not."""
    _ok(ship("traffic", "pin", "acme-1", "--to", "kubernetes"))
    assert stack.get("acme-1") == (200, "kubernetes")
    assert stack.get("acme-2") == (200, "heroku")
    _ok(ship("traffic", "set", "--percent", "100"))
    _ok(ship("traffic", "block", "acme-1"))
    _ok(ship("traffic", "block", "acme-3"))
    assert stack.get("acme-1") == (200, "heroku")
    assert stack.get("acme-3") == (200, "heroku")
    assert stack.get("acme-2") == (200, "kubernetes")
    _ok(ship("traffic", "unblock", "acme-3"))
    assert stack.get("acme-3") == (200, "kubernetes")


def test_no_site_uses_the_pipeline_key(stack: Stack, ship: Callable[..., Result]) -> None:
    """A request without a site cookie is split by the X-Visitor header, stably."""
    _ok(ship("traffic", "set", "--percent", "50"))
    for visitor in ("v1", "v2", "v3", "v4", "v5", "v6"):
        want = "kubernetes" if bucket(visitor) < 50 else "heroku"
        for _ in range(3):
            assert stack.get(None, **{"X-Visitor": visitor}) == (200, want)


def test_live_change_under_load_loses_nothing(stack: Stack, ship: Callable[..., Result]) -> None:
    """25% -> 50% under steady load: zero errors, zero resets, HAProxy's pid unchanged."""
    import threading
    import time

    _ok(ship("traffic", "set", "--percent", "25"))
    pid = stack.pid
    stop = threading.Event()
    errors: list[str] = []
    counts = {"n": 0}
    moved_at: list[float] = []
    watch = [s for s in (f"load-{i}" for i in range(400)) if 25 <= bucket(s) < 50][:5]

    def load(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        i = 0
        deadline = time.monotonic() + 15
        while not stop.is_set() and time.monotonic() < deadline:
            site = f"load-{(i * 4 + worker) % 400}"
            try:
                status, side = request(conn, site)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
                continue
            if status != 200:
                errors.append(f"{status} {side}")
            if site in watch and side == "kubernetes" and not moved_at:
                moved_at.append(time.monotonic())
            counts["n"] += 1
            i += 1
        conn.close()

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    before = counts["n"]
    started = time.monotonic()
    result = ship("traffic", "set", "--percent", "50", "--reason", "half")
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    _ok(result)
    print(
        f"\nlive change under load: {counts['n']} requests ({counts['n'] - before} after the "
        f"change began), {len(errors)} errors; first moved site "
        f"{(moved_at[0] - started) * 1000 if moved_at else float('nan'):.0f} ms after the command"
    )
    assert errors == []
    assert stack.pid == pid
    from shipper.traffic.runtime import HAProxyRuntime

    assert HAProxyRuntime(stack.runtime, stack.maps).read().pid == pid
    seen = _split(stack, [f"load-{i}" for i in range(400)], per_site=1)
    on_kube = {s for s, sides in seen.items() if sides == {"kubernetes"}}
    assert on_kube == {s for s in seen if bucket(s) < 50}


def test_restart_keeps_split_pins_blocks_and_drain(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """After HAProxy restarts, the split, pins, blocks and a drain are what they were."""
    import json

    _ok(ship("traffic", "set", "--percent", "30"))
    _ok(ship("traffic", "pin", "acme-1", "--to", "kubernetes"))
    _ok(ship("traffic", "pin", "acme-9", "--to", "heroku"))
    _ok(ship("traffic", "block", "acme-2"))
    _ok(ship("traffic", "drain", "kubernetes"))
    before = json.loads(ship("traffic", "status", "--output", "json").stdout)
    stack.stop()
    _restart(stack)
    after = json.loads(ship("traffic", "status", "--output", "json").stdout)
    assert after["haproxy_pid"] != before["haproxy_pid"]
    assert after["state"] == before["state"]
    assert after["state"]["drained"] == "kubernetes"
    assert stack.get("acme-1") == (200, "heroku")  # drained: everything on heroku
    _ok(ship("traffic", "undrain"))
    assert stack.get("acme-1") == (200, "kubernetes")


def _restart(stack: Stack) -> None:
    """Start HAProxy again; with kubernetes drained it is healthy but takes nothing."""
    import time

    from shipper.traffic.runtime import HAProxyRuntime

    out = stack.log.open("ab")
    import subprocess

    stack.process = subprocess.Popen(
        [stack.binary, "-db", "-f", str(stack.config)], stdout=out, stderr=subprocess.STDOUT
    )
    out.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            HAProxyRuntime(stack.runtime, stack.maps, timeout=1).send("show info")
            break
        except Exception:
            time.sleep(0.05)
    time.sleep(0.5)  # the first health checks


def test_failing_health_check_drains_to_the_other_side(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """Kubernetes failing its health check: its sites go to Heroku; status says so (exit 1)."""
    import time

    _ok(ship("traffic", "set", "--percent", "100"))
    assert stack.get("acme-1") == (200, "kubernetes")
    stack.kubernetes.healthy = False
    deadline = time.monotonic() + 5
    while stack.get("acme-1")[1] != "heroku" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.get("acme-1") == (200, "heroku")
    status = ship("traffic", "status", "--output", "human")
    assert status.exit_code == 1
    assert "kubernetes has no usable server" in status.stdout
    stack.kubernetes.healthy = True


def test_drain_moves_everything_and_undrain_puts_it_back(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """drain heroku: every site, blocked ones too, goes to Kubernetes, until undrain."""
    _ok(ship("traffic", "block", "acme-2"))
    _ok(ship("traffic", "drain", "heroku", "--reason", "heroku incident"))
    assert stack.get("acme-1") == (200, "kubernetes")
    assert stack.get("acme-2") == (200, "kubernetes")
    status = ship("traffic", "status", "--output", "human")
    assert status.exit_code == 0, status.stdout
    assert "drained   heroku" in status.stdout
    _ok(ship("traffic", "undrain"))
    assert stack.get("acme-2") == (200, "heroku")


def test_history_and_status_show_traffic_changes(stack: Stack, ship: Callable[..., Result]) -> None:
    """A traffic change is a `traffic` release in `ship history`; `ship status` still renders."""
    _ok(ship("traffic", "set", "--percent", "50", "--reason", "half"))
    history = ship("history", "--output", "human")
    assert history.exit_code == 0
    assert "traffic" in history.stdout and "50%" in history.stdout
    status = ship("status", "--output", "human")
    assert "internal error" not in status.stderr
    assert status.exit_code in (0, 1, 4)
