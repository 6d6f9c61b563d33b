"""A sandbox in a temporary project, driven the way a user and a CI job drive `ship`.

`start_stage` runs `ship sandbox up`, then makes the sandbox pipeline carry canaries: the
Heroku token moves from the netrc file into `HEROKU_API_KEY`, the kubeconfig token is the
sandbox's own random one, and Slack notifications go to a local catcher whose URL holds a
third canary. Every `ship` process is run through the stage, so its output is kept for
the secret scan and any process still running at the end is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

SHIP = str(Path(sys.executable).parent / "ship")
# secrets, and the CI markers (a `ship` on a CI runner warns about a local ledger: the
# runs here behave the same on a laptop and in CI)
SCRUBBED_ENV = ("HEROKU_API_KEY", "KUBECONFIG", "SLACK_WEBHOOK_URL", "CI", "GITHUB_ACTIONS")
EVERYWHERE = (
    "heroku:shop-web",
    "heroku:shop-worker",
    "kubernetes:deployment/web",
    "kubernetes:deployment/worker",
    "kubernetes:cronjob/nightly-report",
)
SLACK_CANARY = "T0CANARY/B0CANARY/slackcanary7e1d"


def at(version: str) -> dict[str, str]:
    """Every target of both sides at `version`."""
    return dict.fromkeys(EVERYWHERE, version)


def wait_for(what: str, ready: Callable[[], Any], deadline: float = 30.0) -> Any:
    """Poll `ready` until it returns something truthy; fail naming `what` at the deadline."""
    end = time.monotonic() + deadline
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}")
        time.sleep(0.05)


class SlackCatcher:
    """A loopback Slack webhook: keeps every payload posted to it."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                catcher.payloads.append(self.rfile.read(length).decode("utf-8", "replace"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/{SLACK_CANARY}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Run:
    """One finished `ship` process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out


@dataclass
class Stage:
    root: Path
    env: dict[str, str]
    slack: SlackCatcher
    secrets: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    # --- running ship ---------------------------------------------------------------

    def ship(self, *args: str, timeout: float = 90, actor: str = "") -> Run:
        done = subprocess.run(
            [SHIP, *args],
            cwd=self.root,
            env=self._env(actor),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        run = Run(args, done.returncode, done.stdout, done.stderr)
        self.runs.append(run)
        return run

    def _env(self, actor: str) -> dict[str, str]:
        return self.env | {"SHIP_ACTOR": actor} if actor else self.env

    def start(self, *args: str, actor: str = "") -> Live:
        """A `ship` process in the background, its JSON events readable as they come."""
        proc = subprocess.Popen(
            [SHIP, *args, "--output", "json"],
            cwd=self.root,
            env=self._env(actor),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return Live(self, args, proc)

    def deploy(self, version: str, *extra: str) -> Run:
        return self.ship("deploy", version, "-p", "sandbox", "--yes", "--output", "json", *extra)

    def rollback(self, *extra: str, actor: str = "") -> Run:
        return self.ship(
            "rollback", "-p", "sandbox", "--yes", "--output", "json", *extra, actor=actor
        )

    # --- the sandbox's control endpoint ---------------------------------------------

    @property
    def sandbox_dir(self) -> Path:
        return self.root / ".ship" / "sandbox"

    @property
    def state_dir(self) -> Path:
        return Path(self.env["SHIP_STATE_DIR"])

    def control(self, method: str = "GET", path: str = "/state", body: Any = None) -> Any:
        record = json.loads((self.sandbox_dir / "endpoints.json").read_text())
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            record["endpoints"]["control"] + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    def fault(self, **fault: Any) -> None:
        self.control("POST", "/faults", fault)

    def kube_fault(self, **hook: Any) -> None:
        self.control("POST", "/kubernetes/faults", hook)

    def state(self) -> dict[str, Any]:
        return dict(self.control())

    def running(self) -> dict[str, str | None]:
        state = self.state()
        out = {f"heroku:{k}": v["version"] for k, v in state["heroku"]["apps"].items()}
        kube = state["kubernetes"]["workloads"]
        out |= {f"kubernetes:{k}": v["version"] for k, v in kube.items()}
        return out

    def faults_fired(self) -> int:
        return sum(int(f["fired"]) for f in self.state()["faults"].values())

    def duplicates(self) -> list[str]:
        """Mutations the stand-ins received twice: two builds, releases or rollback
        releases of one version on one app, or two migration Jobs for one version."""
        state = self.state()
        received = state["heroku"]["received"]
        found = [
            f"{kind} {key} x{n}"
            for kind in ("builds", "releases", "rollbacks")
            for key, n in received.get(kind, {}).items()
            if n > 1
        ]
        jobs: Counter[str] = Counter()
        for key, n in state["kubernetes"]["received"].items():
            if key.startswith("job:"):
                jobs[key.rsplit("@", 1)[1]] += n
        found += [f"migration jobs for {v} x{n}" for v, n in jobs.items() if n > 1]
        return found

    def tune(self, **changes: Any) -> None:
        """Change pipeline keys, written as `section__key=value`."""
        path = self.root / "pipelines" / "sandbox.yaml"
        data = yaml.safe_load(path.read_text())
        for dotted, value in changes.items():
            section, key = dotted.split("__")
            data.setdefault(section, {})[key] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def outcome(self, version: str) -> str | None:
        """`new` when every target runs `version`, `old` when every target runs v1."""
        now = self.running()
        if now == at(version):
            return "new"
        if now == at("v1"):
            return "old"
        return None

    def history(self) -> list[dict[str, Any]]:
        shown = self.ship("history", "-p", "sandbox", "--output", "json")
        assert shown.returncode == 0, shown.stderr
        return [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]

    # --- the secret scan --------------------------------------------------------------

    def leaked(self) -> list[str]:
        """Where any canary shows up: ship's output, ship.log, crash files, the ledger's
        rows, Slack payloads."""
        places: list[tuple[str, str]] = []
        for run in self.runs:
            places += [(f"stdout of {run.args}", run.stdout), (f"stderr of {run.args}", run.stderr)]
        for path in self.state_dir.glob("*"):
            if path.is_file() and (path.name == "ship.log" or path.name.startswith("ship-crash")):
                places.append((str(path.name), path.read_text(errors="replace")))
        places += [(f"slack payload {i}", p) for i, p in enumerate(self.slack.payloads)]
        places += [("ledger", self.ledger_dump())]
        return [
            f"{secret[:4]}... in {where}"
            for where, text in places
            for secret in self.secrets
            if secret in text
        ]

    def ledger_dump(self) -> str:
        path = self.sandbox_dir / "ship.sqlite3"
        if not path.exists():
            return ""
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            lines = list(db.iterdump())
        return "\n".join(lines)

    # --- cleanup ----------------------------------------------------------------------

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        pid_file = self.sandbox_dir / "sandbox.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        try:
            subprocess.run(
                [SHIP, "sandbox", "down"],
                cwd=self.root,
                env=self.env,
                capture_output=True,
                timeout=30,
            )
        finally:
            if pid is not None and pid_file.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # the sandbox this stage started
            self.slack.close()


class Live:
    """A running `ship` process whose stdout events are read by a thread."""

    def __init__(self, stage: Stage, args: tuple[str, ...], proc: subprocess.Popen[str]) -> None:
        self.stage = stage
        self.args = args
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)

    def seen(self, event: str, **fields: Any) -> bool:
        return any(
            e.get("event") == event and all(e.get(k) == v for k, v in fields.items())
            for e in list(self.events)
        )

    def wait_event(self, event: str, deadline: float = 60.0, **fields: Any) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None and not self.seen(event, **fields):
                time.sleep(0.2)  # let the reader drain what is left
                if not self.seen(event, **fields):
                    raise AssertionError(
                        f"ship exited {self.proc.returncode} before {event} {fields}: "
                        + "".join(self._err)[-2000:]
                    )
            return self.seen(event, **fields)

        wait_for(f"{event} {fields}", ready, deadline)

    def signal(self, signum: signal.Signals) -> None:
        os.kill(self.proc.pid, signum)

    def finish(self, timeout: float = 60.0) -> Run:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        run = Run(self.args, code, "".join(self.lines), "".join(self._err))
        self.stage.runs.append(run)
        return run


def _tune_pipeline(path: Path, slack_env: str) -> None:
    """Shorter bakes, the Heroku token from HEROKU_API_KEY, and Slack notifications."""
    data = yaml.safe_load(path.read_text())
    data["heroku"].pop("netrc", None)
    data["verify"]["bake"] = "1s"
    data["verify"]["interval"] = "250ms"
    data["migrations"]["bake"] = "300ms"
    data["notify"] = {"slack": {"webhook_url_env": slack_env}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _token_of(path: Path, key: str) -> str:
    text = path.read_text()
    if key == "password":
        return text.split("password", 1)[1].split()[0]
    return str(yaml.safe_load(text)["users"][0]["user"]["token"])


def start_stage(base: Path) -> Stage:
    """A project folder under `base` with its own sandbox up (both sides at v1)."""
    env = {
        k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV and not k.startswith("SHIP_")
    }
    env["SHIP_STATE_DIR"] = str(base / "ship-state")
    env["NO_COLOR"] = "1"
    root = base / "project"
    root.mkdir()
    slack = SlackCatcher()
    stage = Stage(root, env, slack)
    up = stage.ship("sandbox", "up")
    if up.returncode != 0:
        stage.close()
        raise AssertionError(f"ship sandbox up failed: {up.stderr}")
    heroku_token = _token_of(stage.sandbox_dir / "netrc", "password")
    kube_token = _token_of(stage.sandbox_dir / "kubeconfig", "token")
    env["HEROKU_API_KEY"] = heroku_token
    env["SLACK_WEBHOOK_URL"] = slack.url
    stage.secrets = [heroku_token, kube_token, SLACK_CANARY]
    _tune_pipeline(root / "pipelines" / "sandbox.yaml", "SLACK_WEBHOOK_URL")
    return stage


def stage_fixture(base: Path) -> Iterator[Stage]:
    stage = start_stage(base)
    try:
        yield stage
    finally:
        stage.close()
