"""`ship sandbox` commands as separate processes: up, status, set-status, down."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shipper.pipeline import load_pipeline
from shipper.sandbox.process import is_sandbox


@dataclass
class Project:
    root: Path
    state: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SHIP_SANDBOX_DIR": str(self.state)}
        return subprocess.run(
            [sys.executable, "-m", "shipper.sandbox.cli", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def endpoints(self) -> dict[str, str]:
        written: dict[str, dict[str, str]] = json.loads((self.state / "endpoints.json").read_text())
        return written["endpoints"]

    def pid(self) -> int:
        return int((self.state / "sandbox.pid").read_text())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("project")
    proj = Project(root, root / "state")
    started = proj.run("up")
    assert started.returncode == 0, started.stderr
    yield proj
    proj.run("down")


def test_up_writes_a_pipeline_that_loads(project: Project) -> None:
    """pipelines/sandbox.yaml loads and names two apps and three workloads."""
    pipeline = load_pipeline(project.root / "pipelines" / "sandbox.yaml")
    assert pipeline.heroku is not None and pipeline.kubernetes is not None
    assert len(pipeline.heroku.apps) == 2
    assert pipeline.kubernetes.workloads == (
        "deployment/web",
        "deployment/worker",
        "cronjob/nightly-report",
    )
    assert pipeline.migrations is not None and pipeline.migrations.runner == "kubernetes"
    assert {c.side for c in pipeline.verify.checks} == {"heroku", "kubernetes"}


def test_both_pipeline_copies_share_one_ledger(project: Project) -> None:
    """The project's pipeline and the state dir's copy point at the same files."""
    a = load_pipeline(project.root / "pipelines" / "sandbox.yaml")
    b = load_pipeline(project.state / "pipeline.yaml")
    assert Path(a.ledger.path or "").resolve() == Path(b.ledger.path or "").resolve()
    assert Path(a.ledger.path or "").resolve().parent == project.state.resolve()
    assert a.heroku and b.heroku and a.heroku.netrc and b.heroku.netrc
    assert Path(a.heroku.netrc).resolve() == Path(b.heroku.netrc).resolve()


def test_credentials_files_are_private(project: Project) -> None:
    """The netrc and kubeconfig holding the dummy tokens are readable by their owner only."""
    for name in ("netrc", "kubeconfig"):
        mode = stat.S_IMODE((project.state / name).stat().st_mode)
        assert mode == 0o600


def test_netrc_token_opens_the_heroku_stand_in(project: Project) -> None:
    """The token in the generated netrc is the one the Heroku stand-in accepts."""
    token = (project.state / "netrc").read_text().split("password ")[1].strip()
    answer = httpx.get(
        f"{project.endpoints()['heroku_api']}/apps",
        headers={
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {token}",
        },
    )
    assert answer.status_code == 200


def test_status_shows_both_sides(project: Project) -> None:
    """`status` names every app and workload with the version it runs."""
    shown = project.run("status")
    assert shown.returncode == 0
    for name in ("shop-web", "shop-worker", "deployment/web", "cronjob/nightly-report"):
        assert name in shown.stdout


def test_no_token_is_printed(project: Project) -> None:
    """Neither `up` nor `status --json` prints the dummy tokens."""
    token = (project.state / "netrc").read_text().split("password ")[1].strip()
    again = project.run("up")
    state = project.run("status", "--json")
    assert token not in again.stdout + again.stderr + state.stdout + state.stderr


def test_second_up_says_already_running(project: Project) -> None:
    """`up` while the sandbox runs says so, exits 0 and starts nothing new."""
    pid = project.pid()
    again = project.run("up")
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert project.pid() == pid


def test_set_status_turns_the_page_yellow(project: Project) -> None:
    """`set-status yellow --system Apps` shows Apps yellow on the v4 status page."""
    assert project.run("set-status", "yellow", "--system", "Apps").returncode == 0
    page = httpx.get(f"{project.endpoints()['status']}/api/v4/current-status").json()
    assert {s["system"]: s["status"] for s in page["status"]}["Apps"] == "yellow"
    project.run("set-status", "green")


def test_set_status_refuses_an_unknown_colour(project: Project) -> None:
    """An unknown colour exits non-zero with one line naming the choices."""
    refused = project.run("set-status", "blue")
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "green, yellow, red" in refused.stderr


def test_up_refuses_a_public_bind_address(tmp_path: Path) -> None:
    """`up --host 0.0.0.0` exits 2 and starts nothing."""
    proj = Project(tmp_path, tmp_path / "state")
    refused = proj.run("up", "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "127.0.0.1 only" in refused.stderr
    assert not (tmp_path / "state" / "sandbox.pid").exists()


def test_status_when_not_running_says_how_to_start(tmp_path: Path) -> None:
    """`status` without a sandbox exits 1 and says to run `ship sandbox up`."""
    proj = Project(tmp_path, tmp_path / "state")
    shown = proj.run("status")
    assert shown.returncode == 1
    assert "ship sandbox up" in shown.stderr


def test_down_leaves_no_process(tmp_path: Path) -> None:
    """After `down`, the sandbox process is gone and its ports are closed."""
    proj = Project(tmp_path, tmp_path / "state")
    assert proj.run("up").returncode == 0
    pid, endpoints = proj.pid(), proj.endpoints()
    assert proj.run("down").returncode == 0
    give_up = time.monotonic() + 5
    while is_sandbox(pid) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not is_sandbox(pid)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{endpoints['control']}/state", timeout=1)


def test_sandbox_cli_imports_no_http_or_kubernetes_client() -> None:
    """Importing the sandbox CLI loads neither httpx nor the kubernetes client."""
    code = (
        "import sys, shipper.sandbox.cli; "
        "print(sorted(m for m in ('httpx', 'kubernetes') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_up_after_a_killed_sandbox_starts_a_new_one(tmp_path: Path) -> None:
    """When the sandbox process was killed, `up` starts a fresh one instead of trusting
    the stale pid file."""
    proj = Project(tmp_path, tmp_path / "state")
    assert proj.run("up").returncode == 0
    old = proj.pid()
    os.kill(old, signal.SIGKILL)
    give_up = time.monotonic() + 5
    while is_sandbox(old) and time.monotonic() < give_up:
        time.sleep(0.05)
    again = proj.run("up")
    try:
        assert again.returncode == 0, again.stderr
        assert "sandbox up" in again.stdout
        assert proj.pid() != old and is_sandbox(proj.pid())
    finally:
        proj.run("down")


def test_down_finds_a_sandbox_whose_pid_file_was_lost(tmp_path: Path) -> None:
    """`down` stops a sandbox of this state directory even when its pid file is gone."""
    proj = Project(tmp_path, tmp_path / "state")
    assert proj.run("up").returncode == 0
    pid = proj.pid()
    (proj.state / "sandbox.pid").unlink()
    try:
        assert proj.run("down").returncode == 0
        give_up = time.monotonic() + 5
        while is_sandbox(pid) and time.monotonic() < give_up:
            time.sleep(0.05)
        assert not is_sandbox(pid)
    finally:
        if is_sandbox(pid):
            os.kill(pid, signal.SIGKILL)


def test_up_replaces_a_sandbox_whose_pid_file_was_lost(tmp_path: Path) -> None:
    """`up` stops a sandbox that lost its pid file before starting a fresh one."""
    proj = Project(tmp_path, tmp_path / "state")
    assert proj.run("up").returncode == 0
    old = proj.pid()
    (proj.state / "sandbox.pid").unlink()
    try:
        again = proj.run("up")
        assert again.returncode == 0, again.stderr
        assert f"pid {old}" in again.stdout
        give_up = time.monotonic() + 5
        while is_sandbox(old) and time.monotonic() < give_up:
            time.sleep(0.05)
        assert not is_sandbox(old)
        assert is_sandbox(proj.pid())
    finally:
        proj.run("down")
        if is_sandbox(old):
            os.kill(old, signal.SIGKILL)
