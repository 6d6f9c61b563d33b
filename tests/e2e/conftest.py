"""End to end: the installed `ship` command against a sandbox in a temporary project.

Every test gets its own sandbox (a fresh world where both sides run v1) started with
`ship sandbox up`, and runs `ship` as a user would, in a subprocess, from the project
folder. What the stand-ins received is read from the sandbox's control endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

SHIP = str(Path(sys.executable).parent / "ship")
EVERYWHERE_V1 = {  # what a fresh sandbox runs, by the stand-ins' own account
    "heroku:shop-web": "v1",
    "heroku:shop-worker": "v1",
    "kubernetes:deployment/web": "v1",
    "kubernetes:deployment/worker": "v1",
    "kubernetes:cronjob/nightly-report": "v1",
}
SECRET_ENV = ("HEROKU_API_KEY", "KUBECONFIG", "SHIP_HEROKU_API_URL", "SHIP_HEROKU_STATUS_URL")
RUNNER_ENV = ("CI", "GITHUB_ACTIONS")  # the same `ship` on a laptop and on a CI runner


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def ship(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHIP, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @property
    def state_dir(self) -> Path:
        return self.root / ".ship" / "sandbox"

    def control(self, method: str = "GET", path: str = "/state", body: Any = None) -> Any:
        record = json.loads((self.state_dir / "endpoints.json").read_text())
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            record["endpoints"]["control"] + path, data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def state(self) -> dict[str, Any]:
        return dict(self.control())

    def running(self) -> dict[str, str | None]:
        """Every target's version now: Heroku apps, and Kubernetes workloads' specs."""
        state = self.state()
        out = {f"heroku:{k}": v["version"] for k, v in state["heroku"]["apps"].items()}
        out |= {
            f"kubernetes:{k}": v["version"] for k, v in state["kubernetes"]["workloads"].items()
        }
        return out

    def journal(self) -> list[dict[str, Any]]:
        state = self.state()
        return sorted(
            state["heroku"]["journal"] + state["kubernetes"]["journal"], key=lambda e: e["at"]
        )

    def history(self) -> list[dict[str, Any]]:
        shown = self.ship("history", "-p", "sandbox", "--output", "json")
        assert shown.returncode == 0, shown.stderr
        return [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]


def start_project(base: Path) -> Project:
    """A project folder under `base` with its own sandbox up (both sides at v1)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SECRET_ENV + RUNNER_ENV and not k.startswith("SHIP_")
    }
    env["SHIP_STATE_DIR"] = str(base / "ship-state")
    env["NO_COLOR"] = "1"
    proj = Project(base / "project", env)
    proj.root.mkdir()
    started = proj.ship("sandbox", "up")
    assert started.returncode == 0, started.stderr
    return proj


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    proj = start_project(tmp_path)
    yield proj
    proj.ship("sandbox", "down")


@pytest.fixture
def apps(project: Project) -> Iterator[client.AppsV1Api]:
    """Another writer on the sandbox's cluster, with its own client and field manager."""
    api = config.new_client_from_config(
        config_file=str(project.state_dir / "kubeconfig"), context="sandbox"
    )
    try:
        yield client.AppsV1Api(api)
    finally:
        api.close()
