"""A real HAProxy on loopback in front of two small HTTP backends, for the traffic tests.

Everything listens on 127.0.0.1 on ports the OS chose. Each backend answers with its
side's name (`X-Side` and the body), `/health` with 200 unless told to fail, and
`/slow` after `slow_seconds`.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def haproxy_or_skip() -> str:
    """The haproxy binary. Absent: skip with the reason, except in CI, where it fails."""
    found = shutil.which("haproxy")
    if found:
        return found
    reason = "haproxy is not installed (apt-get install -y haproxy); traffic tests need it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    print(f"\nSKIP: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # two writes per answer must not wait 40 ms each
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path == "/health":
            code = 200 if owner.healthy else 503
            self._answer(code, b"ok\n" if code == 200 else b"sick\n")
            return
        owner.count()
        if self.path == "/slow":
            time.sleep(owner.slow_seconds)
        self._answer(200, owner.side.encode() + b"\n")

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("X-Side", self.server.owner.side)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Backend

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # HAProxy closing idle connections at its stop is not a test failure


@dataclass
class Backend:
    """One side's stand-in: answers with its name."""

    side: str
    healthy: bool = True
    slow_seconds: float = 2.0
    requests: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def start(self) -> Backend:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


PIPELINE = """\
name: web
heroku:
  api_url: http://127.0.0.1:9/
  apps: [acme-web]
  artifact: {{type: source, url: "https://x.invalid/{{version}}.tgz"}}
traffic:
  runtime: "{runtime}"
  maps_dir: "{maps}"
  bind: "127.0.0.1:{port}"
  site_cookie: site
  key: {{header: X-Visitor}}
  heroku: {{servers: ["127.0.0.1:{heroku}"], health: /health}}
  kubernetes: {{servers: ["127.0.0.1:{kubernetes}"], health: /health}}
  timeout: {timeout}
  health_interval: 200ms
  resolvers: ["127.0.0.1:{dns}"]
  log: stdout
"""


@dataclass
class Stack:
    """HAProxy, its two backends, and a pipeline file naming them."""

    root: Path
    binary: str
    heroku: Backend
    kubernetes: Backend
    port: int
    runtime: str
    timeout: str = "30s"
    process: subprocess.Popen[bytes] | None = None

    @property
    def pipeline(self) -> Path:
        return self.root / "pipelines" / "web.yaml"

    @property
    def maps(self) -> Path:
        return self.root / "haproxy"

    @property
    def config(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def log(self) -> Path:
        return self.root / "haproxy.log"

    def write_pipeline(self, **overrides: str) -> None:
        values = {
            "runtime": self.runtime,
            "maps": str(self.maps),
            "port": str(self.port),
            "heroku": str(self.heroku.port),
            "kubernetes": str(self.kubernetes.port),
            "timeout": self.timeout,
            "dns": str(free_port()),
        }
        values.update(overrides)
        self.pipeline.parent.mkdir(parents=True, exist_ok=True)
        self.pipeline.write_text(PIPELINE.format(**values))

    def start(self) -> None:
        """Start HAProxy in the foreground (logs to a file) and wait for its runtime API."""
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-db", "-f", str(self.config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if self._runtime_answers():
                        self.wait_healthy()
                        return
            time.sleep(0.05)
        raise RuntimeError("haproxy did not start within 10 s")

    def _runtime_answers(self) -> bool:
        from shipper.traffic.runtime import HAProxyRuntime

        try:
            HAProxyRuntime(self.runtime, self.maps, timeout=1).send("show info")
        except Exception:
            return False
        return True

    def wait_healthy(self, timeout: float = 5.0) -> None:
        """Until both backends pass their health checks (as HAProxy sees them)."""
        from shipper.traffic.runtime import HAProxyRuntime

        runtime = HAProxyRuntime(self.runtime, self.maps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stat = runtime.send("show stat")
            ups = [line for line in stat.splitlines() if ",app1," in line and ",UP," in line]
            if len(ups) == 2:
                return
            time.sleep(0.05)
        raise RuntimeError("backends did not become healthy in haproxy")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def get(self, site: str | None = None, path: str = "/", **headers: str) -> tuple[int, str]:
        """One request; (status, side that answered or the body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            return request(conn, site, path, headers)
        finally:
            conn.close()


def request(
    conn: http.client.HTTPConnection,
    site: str | None,
    path: str = "/",
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    sent = dict(headers or {})
    if site is not None:
        sent["Cookie"] = f"site={site}"
    conn.request("GET", path, headers=sent)
    answer = conn.getresponse()
    body = answer.read().decode()
    return answer.status, answer.getheader("X-Side") or body.strip()


@contextlib.contextmanager
def running_stack(root: Path, timeout: str = "30s") -> Iterator[Stack]:
    """Backends, a pipeline, the rendered configuration and HAProxy, all started."""
    from shipper.pipeline import load_pipeline
    from shipper.traffic.files import MapFiles
    from shipper.traffic.model import TrafficState
    from shipper.traffic.render import render_config, support_files

    binary = haproxy_or_skip()
    heroku, kubernetes = Backend("heroku").start(), Backend("kubernetes").start()
    stack = Stack(
        root=root,
        binary=binary,
        heroku=heroku,
        kubernetes=kubernetes,
        port=free_port(),
        runtime=f"127.0.0.1:{free_port()}",
        timeout=timeout,
    )
    stack.write_pipeline()
    section = load_pipeline(stack.pipeline).traffic
    assert section is not None
    stack.config.write_text(render_config(section, "web"))
    MapFiles(stack.maps).ensure(TrafficState(), support_files(section))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        heroku.stop()
        kubernetes.stop()
