"""Verify checks tried once before any change, end to end against the sandbox."""

from __future__ import annotations

import re
import socket

from tests.e2e.conftest import EVERYWHERE_V1, Project


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_validate_online_probes_every_check_and_names_its_url_or_query(project: Project) -> None:
    """Each HTTP check is reached with its URL shown; each Prometheus query runs, shown."""
    shown = project.ship("validate", "--online", "-p", "sandbox")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "check_reachable" in line]
    assert len(lines) == 4, shown.stdout
    for side in ("heroku", "kubernetes"):
        health = next(line for line in lines if f"check {side}-health" in line)
        assert re.search(r"http://127\.0\.0\.1:\d+/health: answered HTTP 200", health)
        errors = next(line for line in lines if f"check {side}-errors" in line)
        assert "/api/v1/query query sum(rate(http_requests_total" in errors
        assert "answered" in errors


def test_a_deploy_whose_check_cannot_connect_exits_3_with_nothing_changed(
    project: Project,
) -> None:
    """A check URL nothing listens on refuses the deploy (exit 3) before any change,
    naming the URL without its credentials, instead of rolling a healthy release back."""
    path = project.root / "pipelines" / "sandbox.yaml"
    text = path.read_text()
    url = re.search(r'url: "(http://127\.0\.0\.1:\d+)/health"', text)
    assert url is not None
    dead = f"http://probe:hunter2@127.0.0.1:{_closed_port()}"
    path.write_text(text.replace(f'url: "{url.group(1)}/health"', f'url: "{dead}/health"', 1))
    shown = project.ship("validate", "--online", "-p", "sandbox")
    assert shown.returncode == 3, shown.stdout + shown.stderr
    assert "cannot connect to http://127.0.0.1:" in shown.stdout
    deployed = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert deployed.returncode == 3, deployed.stderr
    assert "cannot connect to http://127.0.0.1:" in deployed.stderr
    assert "hunter2" not in deployed.stderr + deployed.stdout + shown.stdout
    assert project.running() == EVERYWHERE_V1
