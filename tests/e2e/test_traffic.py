"""The README's traffic walkthrough, through the installed `ship` and the sandbox's own
HAProxy: 30% of sites on Kubernetes, a pin and a block, read back by `ship traffic status`."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.e2e.conftest import Project
from tests.traffic.harness import haproxy_or_skip

pytestmark = pytest.mark.slow

SITES = [f"site-{i:04d}" for i in range(1000)]


def _side(conn: http.client.HTTPConnection, site: str) -> str:
    """Which side served one request of `site` (the app stand-in's /health names it)."""
    conn.request("GET", "/health", headers={"Cookie": f"site={site}"})
    answer = conn.getresponse()
    body = answer.read()
    assert answer.status == 200, body[:200]
    return str(json.loads(body)["side"])


def test_thirty_percent_of_sandbox_sites_go_to_kubernetes(project: Project) -> None:
    """`ship traffic set --percent 30 -p sandbox`: 1,000 sites through the sandbox HAProxy
    split 30±4% to Kubernetes, each site on one side for all its requests; a pinned site
    goes to Kubernetes and a blocked one to Heroku; `ship traffic status` exits 0."""
    haproxy_or_skip()
    record = json.loads((project.state_dir / "endpoints.json").read_text())
    frontend = record["endpoints"]["traffic"].split("://", 1)[1]
    host, port = frontend.rsplit(":", 1)

    done = project.ship("traffic", "set", "--percent", "30", "-p", "sandbox", "-o", "human")
    assert done.returncode == 0, done.stderr
    assert "30% of sites on kubernetes" in done.stdout

    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        first = {site: _side(conn, site) for site in SITES}
        again = {site: _side(conn, site) for site in SITES[:200]}
    finally:
        conn.close()
    share = 100 * sum(side == "kubernetes" for side in first.values()) / len(SITES)
    print(f"\nsandbox split at 30%: {share:.1f}% of 1,000 sites on kubernetes")
    assert 26 <= share <= 34, share
    assert all(first[site] == side for site, side in again.items())

    heroku_site = next(s for s, side in first.items() if side == "heroku")
    kube_site = next(s for s, side in first.items() if side == "kubernetes")
    pinned = project.ship("traffic", "pin", heroku_site, "--to", "kubernetes", "-p", "sandbox")
    assert pinned.returncode == 0, pinned.stderr
    blocked = project.ship("traffic", "block", kube_site, "-p", "sandbox")
    assert blocked.returncode == 0, blocked.stderr
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        assert _side(conn, heroku_site) == "kubernetes"
        assert _side(conn, kube_site) == "heroku"
    finally:
        conn.close()

    status = project.ship("traffic", "status", "-p", "sandbox", "-o", "json")
    assert status.returncode == 0, status.stdout
    view = json.loads(status.stdout)
    assert view["state"]["percent"] == 30
    assert view["state"]["pins"] == {heroku_site: "kubernetes"}
    assert view["state"]["blocks"] == [kube_site]
