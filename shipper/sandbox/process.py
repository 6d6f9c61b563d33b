"""Starting, finding and stopping the detached sandbox process.

The process is recognised by the pid in the state directory *and* by its command line
naming the sandbox module, so `down` can never signal an unrelated process that reused
the pid. A zombie (exited, not yet reaped by its new parent) counts as stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from shipper.errors import ShipError
from shipper.sandbox import haproxy
from shipper.sandbox.files import ENDPOINTS, LOG, PID, Layout

MODULE = "shipper.sandbox.daemon"


class SandboxError(ShipError):
    """The sandbox could not be started, reached or stopped."""


def is_sandbox(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) sandbox daemon process."""
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        state = stat.rsplit(")", 1)[-1].split()[0]
        return state not in ("Z", "X") and MODULE in cmdline
    try:
        os.kill(pid, 0)  # no /proc (macOS): trust the pid file
    except OSError:
        return False
    return True


def orphans(layout: Layout) -> list[int]:
    """Sandbox processes serving this state directory that its pid file does not name
    (the file was lost, say by deleting the directory under a running sandbox). Found by
    their command line, so `down` still leaves nothing behind. Linux only (/proc)."""
    known = running_pid(layout)
    state = str(layout.state)
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in (known, os.getpid()):
            continue
        try:
            args = [
                a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0")
            ]
        except OSError:
            continue
        if MODULE in args and "--dir" in args:
            where = args[args.index("--dir") + 1] if args.index("--dir") + 1 < len(args) else ""
            if where == state and is_sandbox(int(entry.name)):
                found.append(int(entry.name))
    return found


def running_pid(layout: Layout) -> int | None:
    try:
        pid = int(layout.path(PID).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_sandbox(pid) else None


def read_endpoints(layout: Layout) -> dict[str, str] | None:
    try:
        record = json.loads(layout.path(ENDPOINTS).read_text())
    except (OSError, ValueError):
        return None
    endpoints = record.get("endpoints") if isinstance(record, dict) else None
    return {str(k): str(v) for k, v in endpoints.items()} if isinstance(endpoints, dict) else None


def call(control: str, method: str, path: str, body: Any = None, timeout: float = 5.0) -> Any:
    """One request to the control endpoint; SandboxError when it cannot be had."""
    import urllib.error  # here, not at the top: `ship --help` imports this module
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{control}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:200]
        raise SandboxError(f"the sandbox refused {path}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SandboxError(
            f"cannot reach the sandbox ({exc}); is it up? run `ship sandbox up`"
        ) from None


def new_token() -> str:
    return secrets.token_urlsafe(24)


def start(
    layout: Layout, latency: float, heroku_token: str, kube_token: str, timeout: float = 20.0
) -> tuple[int, dict[str, str]]:
    """Start the daemon detached and wait until every stand-in answers."""
    import subprocess

    layout.state.mkdir(parents=True, exist_ok=True)
    for name in (ENDPOINTS, PID):
        layout.path(name).unlink(missing_ok=True)
    env = dict(os.environ)
    env["SHIP_SANDBOX_HEROKU_TOKEN"] = heroku_token
    env["SHIP_SANDBOX_KUBE_TOKEN"] = kube_token
    argv = [sys.executable, "-m", MODULE, "--dir", str(layout.state), "--latency", str(latency)]
    with layout.path(LOG).open("ab") as log:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # survives the terminal; ^C in it does not reach it
            close_fds=True,
            env=env,
            cwd=layout.state,
        )
    layout.path(PID).write_text(f"{child.pid}\n")
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if child.poll() is not None:
            raise SandboxError(
                f"the sandbox exited at start (code {child.returncode}); see {layout.path(LOG)}"
            )
        endpoints = read_endpoints(layout)
        if endpoints and _answers(endpoints):
            return child.pid, endpoints
        time.sleep(0.05)
    stop(layout)
    raise SandboxError(f"the sandbox did not answer within {timeout:g}s; see {layout.path(LOG)}")


def _answers(endpoints: dict[str, str]) -> bool:
    try:
        call(endpoints["control"], "GET", "/state", timeout=2.0)
    except (SandboxError, KeyError):
        return False
    return True


def stop(layout: Layout, timeout: float = 10.0) -> int | None:
    """Stop the daemon and any orphan of this state directory (SIGTERM, then SIGKILL);
    returns the pid stopped, or None if none ran."""
    pid = running_pid(layout)
    pids = ([pid] if pid is not None else []) + orphans(layout)
    for each in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(each, signal.SIGTERM)
    give_up = time.monotonic() + timeout
    while any(is_sandbox(p) for p in pids) and time.monotonic() < give_up:
        time.sleep(0.05)
    for each in pids:
        if is_sandbox(each):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(each, signal.SIGKILL)
    for name in (ENDPOINTS, PID):
        layout.path(name).unlink(missing_ok=True)
    haproxy.stop_leftover(layout.state)  # its own process stops it; a killed one could not
    return pid if pid is not None else (pids[0] if pids else None)
