"""The sandbox's HAProxy: started by `ship sandbox up` when the binary is installed, in
front of the two application stand-ins; stopped by `down`, even after the sandbox process
was killed; absent, the sandbox runs as before and says how to install it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from shipper.core.model import Side
from shipper.pipeline import load_pipeline
from shipper.sandbox import haproxy
from shipper.sandbox.files import pipeline_text
from shipper.sandbox.process import is_sandbox
from shipper.traffic.runtime import HAProxyRuntime
from tests.sandbox.test_cli import Project
from tests.traffic.harness import haproxy_or_skip

SIDES = (Side.HEROKU, Side.KUBERNETES)
ENDPOINTS = {
    "heroku_api": "http://127.0.0.1:1001",
    "kubernetes_api": "http://127.0.0.1:1002",
    "status": "http://127.0.0.1:1003",
    "heroku_app": "http://127.0.0.1:1004",
    "kubernetes_app": "http://127.0.0.1:1005",
    "control": "http://127.0.0.1:1006",
}


def _pipeline(tmp_path: Path, endpoints: dict[str, str]) -> Path:
    path = tmp_path / "pipelines" / "sandbox.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = pipeline_text(
        endpoints, ("shop-web",), "shop", "img:{version}", ("deployment/web",), Path("../state")
    )
    path.write_text(text)
    return path


def test_no_traffic_section_without_haproxy(tmp_path: Path) -> None:
    """No HAProxy endpoints: the sandbox pipeline has no traffic: section."""
    assert load_pipeline(_pipeline(tmp_path, ENDPOINTS)).traffic is None


def test_traffic_section_names_both_app_stand_ins(tmp_path: Path) -> None:
    """With HAProxy, the section points its backends at the two app stand-ins and its maps
    at the state directory, normalised as HAProxy knows them."""
    endpoints = ENDPOINTS | {
        haproxy.TRAFFIC: "http://127.0.0.1:1007",
        haproxy.RUNTIME: "127.0.0.1:1008",
    }
    traffic = load_pipeline(_pipeline(tmp_path, endpoints)).traffic
    assert traffic is not None
    assert traffic.bind == "127.0.0.1:1007" and traffic.runtime == "127.0.0.1:1008"
    assert traffic.heroku.servers == ("127.0.0.1:1004",)
    assert traffic.kubernetes.servers == ("127.0.0.1:1005",)
    assert traffic.maps_dir == str(tmp_path.resolve() / "state" / "haproxy")


def _haproxy_pid(state: Path) -> int:
    return int((state / haproxy.FOLDER / haproxy.PID).read_text())


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _gone(pid: int, seconds: float = 5.0) -> bool:
    give_up = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < give_up:
        time.sleep(0.05)
    return not _alive(pid)


def test_up_starts_haproxy_and_down_stops_it(tmp_path: Path) -> None:
    """`up` with haproxy installed: a traffic: section whose runtime API answers with the
    split at 0%, both backends up; `down` leaves no HAProxy running."""
    haproxy_or_skip()
    proj = Project(tmp_path, tmp_path / "state")
    started = proj.run("up")
    try:
        assert started.returncode == 0, started.stderr
        assert "traffic    http://127.0.0.1:" in started.stdout
        traffic = load_pipeline(tmp_path / "pipelines" / "sandbox.yaml").traffic
        assert traffic is not None
        runtime = HAProxyRuntime(traffic.runtime, Path(traffic.maps_dir))
        give_up = time.monotonic() + 5
        reading = runtime.read()
        while not all(reading.usable(s) for s in SIDES) and time.monotonic() < give_up:
            time.sleep(0.1)
            reading = runtime.read()
        assert reading.state.percent == 0
        assert all(reading.usable(s) for s in SIDES)
        pid = _haproxy_pid(proj.state)
        assert reading.pid is not None and _alive(pid)
    finally:
        stopped = proj.run("down")
    assert stopped.returncode == 0
    assert _gone(pid)


def test_down_stops_haproxy_of_a_killed_sandbox(tmp_path: Path) -> None:
    """The sandbox process killed (it could not stop its HAProxy): `down` stops it."""
    haproxy_or_skip()
    proj = Project(tmp_path, tmp_path / "state")
    assert proj.run("up").returncode == 0
    sandbox, pid = proj.pid(), _haproxy_pid(proj.state)
    os.kill(sandbox, signal.SIGKILL)
    give_up = time.monotonic() + 5
    while is_sandbox(sandbox) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert _alive(pid)
    try:
        assert proj.run("down").returncode == 0
        assert _gone(pid)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_up_without_haproxy_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No haproxy binary: the sandbox starts as before, its pipeline has no traffic:
    section, and `up` says how to install it."""
    monkeypatch.setenv(haproxy.BINARY_ENV, "none")
    proj = Project(tmp_path, tmp_path / "state")
    started = proj.run("up")
    try:
        assert started.returncode == 0, started.stderr
        assert "apt-get install haproxy" in started.stdout
        assert load_pipeline(tmp_path / "pipelines" / "sandbox.yaml").traffic is None
        record = json.loads((proj.state / "endpoints.json").read_text())
        assert haproxy.TRAFFIC not in record["endpoints"]
        assert not (proj.state / haproxy.FOLDER / haproxy.PID).exists()
    finally:
        assert proj.run("down").returncode == 0
