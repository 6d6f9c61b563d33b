"""The preflight lessons end to end: `ship preflight` and `ship deploy` against the
sandbox and a real PostgreSQL, with canary secrets that must never come out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import EVERYWHERE_V1, Project
from tests.preflight.pg import Server, start

pytestmark = pytest.mark.slow

CANARY = "canary-91c2-do-not-print"
PIPELINE = Path("pipelines") / "sandbox.yaml"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(Path(tmp_path_factory.mktemp("pg")) / "server")


def use_database(project: Project, postgres: Server) -> None:
    """The sandbox pipeline judged against the real database, its URL (with a canary
    password) in the environment only."""
    path = project.root / PIPELINE
    text = path.read_text()
    old = "    pooler: {type: pgbouncer, max_client_connections: 200, server_connections: 40}\n"
    assert old in text
    path.write_text(text.replace(old, "    database_url_env: SHIP_TEST_DATABASE_URL\n"))
    project.env["SHIP_TEST_DATABASE_URL"] = postgres.url(CANARY)


def everything_written(project: Project) -> str:
    """Every file ship or the sandbox wrote (logs, ledger, crash reports), as text."""
    out = []
    for base in (project.root, Path(project.env["SHIP_STATE_DIR"])):
        for f in base.rglob("*"):
            if f.is_file():
                out.append(f.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_ship_preflight_prints_the_sandboxs_findings(project: Project) -> None:
    """The table: the connection arithmetic against the declared pooler, the CPU
    limits, env parity by name and the concurrency shape; exit 0 (nothing blocks)."""
    done = project.ship("preflight", "-p", "sandbox", "--output", "human")
    assert done.returncode == 0, done.stdout + done.stderr
    for shown in ("connections", "cpu_limit", "env_parity", "concurrency", "pgbouncer"):
        assert shown in done.stdout
    assert "sandbox-not-a-secret" not in done.stdout + done.stderr  # config-var values


def test_against_the_real_database_no_secret_comes_out(project: Project, postgres: Server) -> None:
    """JSON lines with max_connections read from PostgreSQL; neither the URL's password
    nor a config-var value is in the output, the log or the ledger."""
    use_database(project, postgres)
    done = project.ship("preflight", "-p", "sandbox", "--output", "json")
    assert done.returncode in (0, 3), done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    budget = [e for e in events if e["check"] == "connections" and e["table"]]
    assert any(row[1] == "max_connections" and row[-1] == "20" for row in budget[0]["table"])
    deploy = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    for text in (
        done.stdout,
        done.stderr,
        deploy.stdout,
        deploy.stderr,
        everything_written(project),
    ):
        assert CANARY not in text
        assert "sandbox-not-a-secret" not in text


def test_a_blocking_finding_stops_the_deploy_with_nothing_changed(project: Project) -> None:
    """A workload whose containers have no resources: exit 3, every target still v1."""
    project.control(
        "POST",
        "/kubernetes/workloads",
        {"kind": "statefulset", "name": "db", "replicas": 1, "update_strategy": None},
    )
    path = project.root / PIPELINE
    path.write_text(
        path.read_text().replace("deployment/web,", "deployment/web, statefulset/db,", 1)
    )
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "statefulset/db" in done.stderr and "memory limit" in done.stderr
    assert project.running() == {**EVERYWHERE_V1, "kubernetes:statefulset/db": "v1"}
