"""The files `ship sandbox up` writes so `ship` finds the stand-ins with no set-up.

In the state directory: `kubeconfig` (context `sandbox`), `netrc` (a dummy token for the
Heroku stand-in's host, as the Heroku CLI would store it), `pipeline.yaml`, and the
SQLite ledger and lock that pipeline names. And `pipelines/sandbox.yaml` in the project,
the same pipeline with its paths relative to `pipelines/`, so `ship deploy v2 -p
sandbox` works from the project folder. Secrets go only into files readable by their
owner (0600), never into the pipeline file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipper.sandbox import haproxy

ENDPOINTS = "endpoints.json"
PID = "sandbox.pid"
LOG = "sandbox.log"
KUBECONFIG = "kubeconfig"
NETRC = "netrc"
PIPELINE = "pipeline.yaml"
DATABASE = "ship.sqlite3"
PROJECT_PIPELINE = Path("pipelines") / "sandbox.yaml"

PROMETHEUS_QUERY = (
    'sum(rate(http_requests_total{status=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))'
)


@dataclass(frozen=True)
class Layout:
    """Where a sandbox keeps its files."""

    state: Path
    project: Path

    def path(self, name: str) -> Path:
        return self.state / name

    @property
    def project_pipeline(self) -> Path:
        return self.project / PROJECT_PIPELINE


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def kubeconfig_text(server: str, token: str, namespace: str) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": server}}],
        "users": [{"name": "sandbox", "user": {"token": token}}],
        "contexts": [
            {
                "name": "sandbox",
                "context": {"cluster": "sandbox", "user": "sandbox", "namespace": namespace},
            }
        ],
        "current-context": "sandbox",
    }
    return json.dumps(config, indent=2) + "\n"  # JSON is YAML, and needs no yaml import


def netrc_text(api_url: str, token: str) -> str:
    host = api_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return f"machine {host}\n  login sandbox@ship.invalid\n  password {token}\n"


def pipeline_text(
    endpoints: Mapping[str, str],
    apps: tuple[str, ...],
    namespace: str,
    image: str,
    workloads: tuple[str, ...],
    files_from_pipeline: Path,
) -> str:
    """The sandbox pipeline; `files_from_pipeline` is the state dir seen from the file."""

    def rel(name: str) -> str:
        return (files_from_pipeline / name).as_posix()

    heroku_app, kube_app = endpoints["heroku_app"], endpoints["kubernetes_app"]
    # only when the sandbox's HAProxy runs (its binary is installed)
    traffic = haproxy.pipeline_section(endpoints, rel(haproxy.FOLDER))
    checks = []
    for side, url in (("heroku", heroku_app), ("kubernetes", kube_app)):
        checks.append(
            f"    - name: {side}-health\n"
            f"      side: {side}\n"
            f'      http: {{url: "{url}/health", json_field: status, equals: ok, timeout: 1s}}\n'
        )
        checks.append(
            f"    - name: {side}-errors\n"
            f"      side: {side}\n"
            f"      prometheus:\n"
            f'        url: "{url}"\n'
            f"        query: '{PROMETHEUS_QUERY}'\n"
            f"        max: 0.05\n"
            f"        timeout: 1s\n"
        )
    return (
        "# Written by `ship sandbox up`; rewritten on every start, so edits do not last.\n"
        "# Every URL below is a local stand-in on 127.0.0.1: no accounts, no cloud.\n"
        "name: sandbox\n"
        "heroku:\n"
        f"  api_url: {endpoints['heroku_api']}\n"
        f"  netrc: {rel(NETRC)}\n"
        f"  apps: [{', '.join(apps)}]\n"
        "  artifact:\n"
        "    type: source\n"
        f'    url: "{endpoints["heroku_api"]}/artifacts/{{version}}.tar.gz"\n'
        "kubernetes:\n"
        f"  kubeconfig: {rel(KUBECONFIG)}\n"
        "  context: sandbox\n"
        f"  namespace: {namespace}\n"
        f'  image: "{image}"\n'
        f"  workloads: [{', '.join(workloads)}]\n"
        "  rollout_timeout: 1m\n"
        "migrations:\n"
        '  paths: ["db/migrate/**"]\n'
        "  command: [bin/rails, db:migrate]\n"
        "  runner: kubernetes\n"
        "  timeout: 1m\n"
        "  bake: 1s\n"
        "gates:\n"
        "  heroku_status:\n"
        f"    url: {endpoints['status']}/api/v4/current-status\n"
        "    systems: [Apps, Tools]\n"
        "    timeout: 2s\n"
        "verify:\n"
        "  bake: 3s\n"
        "  interval: 500ms\n"
        "  failure_limit: 2\n"
        "  checks:\n" + "".join(checks) + "ledger:\n"
        "  backend: sqlite\n"
        f"  path: {rel(DATABASE)}\n"
        "lock:\n"
        "  backend: sqlite\n"
        f"  path: {rel(DATABASE)}\n"
        "  ttl: 2m\n"
        "rollback:\n"
        "  timeout: 1m\n" + preflight_text(len(apps) + len(workloads)) + traffic
    )


def preflight_text(targets: int) -> str:
    """The sandbox's `preflight:` section, its pooler sized to the sandbox (40 client
    connections per target: 200 for the default five, more for a larger bench world)."""
    return PREFLIGHT.replace(
        "max_client_connections: 200", f"max_client_connections: {40 * targets}"
    )


# The lessons ship checks before anything ships (`ship preflight -p sandbox`). The
# sandbox has no PostgreSQL: the budget is judged against the declared pooler.
PREFLIGHT = """\
preflight:
  processes:
    - name: web
      heroku: {type: web, processes: WEB_CONCURRENCY, threads: RAILS_MAX_THREADS}
      kubernetes: {workload: deployment/web, processes: 1, threads: RAILS_MAX_THREADS}
    - name: worker
      heroku: {type: worker, processes: 1, threads: 10}
      kubernetes: {workload: deployment/worker, processes: 1, threads: 10}
    - name: nightly-report
      kubernetes: {workload: cronjob/nightly-report, processes: 1, threads: 1}
  connections:
    margin: 10%
    pooler: {type: pgbouncer, max_client_connections: 200, server_connections: 40}
  env_parity:
    ignore: [SANDBOX]
"""


def relative_to(target: Path, start: Path) -> Path:
    """`target` as seen from the folder `start` (absolute when no relative path exists)."""
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve()))
    except ValueError:
        return target.resolve()
