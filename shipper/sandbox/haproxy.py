"""The sandbox's HAProxy: a real one in front of the two application stand-ins, so
`ship traffic` can be tried with no accounts. Started by the sandbox process when the
`haproxy` binary is installed; without it the sandbox runs as before, with no `traffic:`
section in its pipeline, and `ship sandbox up` says how to install it.

Its files live in `haproxy/` under the state directory: the rendered configuration, the
maps and server-state file `ship traffic` writes, its log and its pid. Everything binds
127.0.0.1. It imports nothing heavy at import time: `ship sandbox --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = "haproxy"
CONFIG = "haproxy.cfg"
LOG = "haproxy.log"
PID = "haproxy.pid"
INSTALL = "apt-get install haproxy"
BINARY_ENV = "SHIP_SANDBOX_HAPROXY"  # a path to the binary, or "none" to run without one
TRAFFIC = "traffic"  # endpoints: the HAProxy frontend
RUNTIME = "traffic_runtime"  # endpoints: its runtime API, host:port


def binary() -> str | None:
    """The haproxy binary the sandbox would start, or None."""
    configured = os.environ.get(BINARY_ENV, "")
    if configured.lower() == "none":
        return None
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("haproxy")


def _host_port(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def section_fields(endpoints: Mapping[str, str], maps_dir: str) -> dict[str, Any]:
    """The pipeline's `traffic:` section for a sandbox whose HAProxy runs at `endpoints`
    (a plain mapping: the pipeline text and the configuration are made from it)."""
    return {
        "runtime": endpoints[RUNTIME],
        "maps_dir": maps_dir,
        "bind": _host_port(endpoints[TRAFFIC]),
        "site_cookie": "site",
        "key": {"header": "X-Visitor"},
        "heroku": {"servers": [_host_port(endpoints["heroku_app"])], "health": "/health"},
        "kubernetes": {"servers": [_host_port(endpoints["kubernetes_app"])], "health": "/health"},
        "timeout": "30s",
        "health_interval": "500ms",
        "resolvers": ["127.0.0.1:53"],
        "log": "stdout",
    }


def pipeline_section(endpoints: Mapping[str, str], maps_dir: str) -> str:
    """The `traffic:` section as pipeline text ("" when no HAProxy runs)."""
    if RUNTIME not in endpoints or TRAFFIC not in endpoints:
        return ""
    fields = section_fields(endpoints, maps_dir)
    lines = ["traffic:  # the sandbox's HAProxy in front of both sides (`ship traffic`)"]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in fields.items()]  # JSON is YAML
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SandboxHAProxy:
    """One HAProxy process in front of the two application stand-ins."""

    def __init__(self, state: Path, binary_path: str) -> None:
        self.folder = state.resolve() / FOLDER  # as the pipeline names it
        self.binary = binary_path
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoints: dict[str, str] = {}

    def start(self, endpoints: Mapping[str, str], timeout: float = 10.0) -> dict[str, str]:
        """Render a configuration for a fresh split (0%, nothing pinned or blocked), start
        HAProxy and wait for its runtime API; returns the endpoints to add."""
        from shipper.pipeline import TrafficSection
        from shipper.traffic.files import MapFiles
        from shipper.traffic.model import TrafficState
        from shipper.traffic.render import render_config, support_files

        if self.folder.exists():  # a fresh sandbox starts a fresh split
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        ours = {
            TRAFFIC: f"http://127.0.0.1:{_free_port()}",
            RUNTIME: f"127.0.0.1:{_free_port()}",
        }
        fields = section_fields({**endpoints, **ours}, str(self.folder))
        section = TrafficSection.model_validate(fields)
        (self.folder / CONFIG).write_text(render_config(section, "sandbox"))
        MapFiles(self.folder).ensure(TrafficState(), support_files(section))
        with (self.folder / LOG).open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-db", "-f", str(self.folder / CONFIG)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                close_fds=True,
            )
        (self.folder / PID).write_text(f"{self.process.pid}\n")
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                tail = (self.folder / LOG).read_text(errors="replace")[-500:].strip()
                raise RuntimeError(f"haproxy exited at start: {tail}")
            if _answers(ours[RUNTIME], self.folder):
                self.endpoints = ours
                return dict(ours)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"haproxy's runtime API did not answer within {timeout:g}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        (self.folder / PID).unlink(missing_ok=True)


def _answers(runtime: str, folder: Path) -> bool:
    from shipper.traffic.runtime import HAProxyRuntime

    try:
        HAProxyRuntime(runtime, folder, timeout=1).send("show info")
    except Exception:
        return False
    return True


def stop_leftover(state: Path, timeout: float = 5.0) -> int | None:
    """Stop a sandbox HAProxy its sandbox process did not stop (that process was killed):
    the pid in `haproxy/haproxy.pid`, if its command line names this configuration."""
    folder = state / FOLDER
    try:
        pid = int((folder / PID).read_text().strip())
    except (OSError, ValueError):
        return None
    config = str(folder / CONFIG)

    def ours() -> bool:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            return False
        return config in args.split("\0") and status not in ("Z", "X")

    found = ours()
    if found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
        give_up = time.monotonic() + timeout
        while ours() and time.monotonic() < give_up:
            time.sleep(0.05)
        if ours():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    (folder / PID).unlink(missing_ok=True)
    return pid if found else None


def said(endpoints_file: Path) -> str:
    """What `ship sandbox up` says about traffic, from the sandbox's endpoints record."""
    try:
        record = json.loads(endpoints_file.read_text())
    except (OSError, ValueError):
        record = {}
    record = record if isinstance(record, dict) else {}
    endpoints = record.get("endpoints") or {}
    if TRAFFIC in endpoints:
        return (
            f"  traffic    {endpoints[TRAFFIC]}  (HAProxy in front of both sides; "
            "ship traffic status -p sandbox)"
        )
    why = str(record.get("traffic_off") or "haproxy is not installed")
    return (
        f"  traffic    off: {why}; to try `ship traffic`: {INSTALL}, "
        "then ship sandbox down && ship sandbox up"
    )
