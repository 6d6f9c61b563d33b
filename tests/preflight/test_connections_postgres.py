"""The connection budget against a real PostgreSQL: its limits and the connections open
now are read from the server; the URL (and its password) never appears anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from shipper.core.config import CheckSetting
from shipper.core.estate import Container, Dynos, HerokuApp, Workload
from shipper.core.model import Severity, Version
from shipper.core.preflight import run_preflight
from shipper.pipeline import parse_pipeline
from shipper.preflight.checks import ConnectionsCheck, Estate, Once
from shipper.preflight.factory import _connections
from tests.preflight.pg import Server

pytestmark = pytest.mark.slow

CANARY = "canary-7f3e-do-not-print"
PIPELINE = """\
name: web
heroku: {apps: [acme-web], artifact: {type: source, url: "https://x.invalid/{version}"}}
kubernetes: {namespace: web, image: "r.invalid/web:{version}", workloads: [deployment/web]}
preflight:
  processes:
    - {name: web, heroku: {type: web, processes: 1, threads: 2},
       kubernetes: {workload: deployment/web, processes: 1, threads: 2}}
  connections:
    database_url_env: SHIP_TEST_DATABASE_URL
    connect_timeout: 2
"""


def estate() -> Estate:
    """Peak 11: web 1 dyno doubled by preboot x 2 threads (4), release phase (1), 2 pods
    + 1 surge x 2 threads (6). Steady state of the same processes: 6."""
    app = HerokuApp("acme-web", (Dynos("acme-web", "web", 1, "Standard-1X"),), frozenset(), True)
    pods = Workload("deployment/web", 2, max_surge=1, containers=(Container("web"),))
    return Estate(Once(lambda: [app]), Once(lambda: [pods]), ())


def check(url: str, extra: str = "") -> ConnectionsCheck:
    pipeline = parse_pipeline(PIPELINE + extra, "web.yaml")
    assert pipeline.preflight is not None
    from shipper.preflight.factory import _specs

    built = _connections(pipeline, pipeline.preflight, estate(), {"SHIP_TEST_DATABASE_URL": url})
    built.estate.specs = _specs(pipeline.preflight)
    return built


@contextmanager
def held(server: Server, n: int) -> Iterator[None]:
    """`n` connections kept open: what others use now."""
    conns = [psycopg.connect(server.url(), autocommit=True) for _ in range(n)]
    try:
        yield
    finally:
        for c in conns:
            c.close()


def test_under_the_limit_is_info_with_the_arithmetic(postgres: Server) -> None:
    """Peak 11 within 20 - 3 reserved - 2 margin: INFO, the table names max_connections."""
    found = check(postgres.url(CANARY)).run(Version("v2"))
    [finding] = found
    assert finding.severity is Severity.INFO, finding.message
    assert "up to 11 database connections" in finding.message
    assert ("limit", "max_connections", "", "", "", "20") in finding.table
    assert CANARY not in repr(found)


def test_over_the_limit_counting_what_others_hold_now_blocks(postgres: Server) -> None:
    """12 connections open (6 beyond what the app's own processes can hold) leave 9:
    the peak of 11 blocks, and the table shows where they come from."""
    with held(postgres, 12):
        found = check(postgres.url(CANARY)).run(Version("v2"))
    [finding] = found
    assert finding.severity is Severity.BLOCK
    assert "11 database connections" in finding.message and "pgbouncer" in finding.message
    assert any(row[1].startswith("in use now 12") for row in finding.table)
    assert CANARY not in repr(found)


def test_a_declared_pooler_is_the_limit_and_must_fit_in_the_database(postgres: Server) -> None:
    """Through pgbouncer (max_client_conn 100) the same peak fits even with 12 open; a
    pooler that may open 40 server connections where PostgreSQL allows 17 blocks."""
    pooler = "    pooler: {type: pgbouncer, max_client_connections: 100, server_connections: 40}\n"
    with held(postgres, 12):
        found = check(postgres.url(CANARY), pooler).run(Version("v2"))
    by = {f.severity: f for f in found}
    assert "within the 90 allowed" in by[Severity.INFO].message
    assert "pgbouncer may open 40 connections" in by[Severity.BLOCK].message


def test_an_unreachable_database_is_a_clear_finding_not_a_crash(postgres: Server) -> None:
    """Nothing listens on the port: a BLOCK finding naming the variable, never the URL."""
    closed = Server(port=postgres.port + 1 if postgres.port < 65535 else 1)
    result = run_preflight({}, [check(closed.url(CANARY))], (), Version("v2"))
    [finding] = result.findings
    assert finding.severity is Severity.BLOCK
    assert "could not run" in finding.message and "$SHIP_TEST_DATABASE_URL" in finding.message
    assert CANARY not in finding.message and "127.0.0.1:" not in finding.message.split("$")[0]


def test_a_malformed_url_never_echoes_it() -> None:
    """libpq quotes a bad connection string in its error: the scrubbed message doesn't."""
    result = run_preflight({}, [check(f"host=x password={CANARY} ==bad")], (), Version("v2"))
    assert CANARY not in repr(result)


def test_turned_off_it_never_connects(postgres: Server) -> None:
    """off with a reason: no finding, a note with the reason, no connection made."""
    c = check("postgresql://nobody@127.0.0.1:1/none")
    result = run_preflight(
        {}, [c], (CheckSetting("connections", off=True, reason="replica cutover"),), Version("v2")
    )
    assert result.findings == [] and "replica cutover" in result.notes[0]
