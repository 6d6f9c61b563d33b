"""The detached process `ship sandbox up` starts: every stand-in, until told to stop.

Run as `python -m shipper.sandbox.daemon --dir STATE_DIR`. The tokens the stand-ins
accept come in through the environment (never the command line, which any local user
can read). Once every stand-in listens, it writes `endpoints.json` (ports, pid; no
secrets) into the state directory; on SIGTERM or SIGINT, or a `POST /shutdown` to its
control endpoint, it stops every server and removes that file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from shipper.errors import ExitCode
from shipper.sandbox import haproxy
from shipper.sandbox.files import ENDPOINTS, PID
from shipper.sandbox.haproxy import SandboxHAProxy
from shipper.sandbox.stack import Sandbox, SandboxSpec

HEROKU_TOKEN_ENV = "SHIP_SANDBOX_HEROKU_TOKEN"
KUBE_TOKEN_ENV = "SHIP_SANDBOX_KUBE_TOKEN"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipper.sandbox.daemon")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log = logging.getLogger("shipper.sandbox")
    heroku_token = os.environ.pop(HEROKU_TOKEN_ENV, "")
    kube_token = os.environ.pop(KUBE_TOKEN_ENV, "")
    if not heroku_token or not kube_token:
        log.error("the sandbox needs its tokens in the environment; start it with ship sandbox up")
        return ExitCode.BAD_INPUT
    state: Path = args.dir
    sandbox = Sandbox(SandboxSpec(latency=args.latency), heroku_token, kube_token)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sandbox.stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    endpoints = sandbox.start()
    proxy, traffic_off = _start_haproxy(state, endpoints, log)
    if proxy is not None:
        endpoints |= proxy.endpoints
    record = {"pid": os.getpid(), "started_at": time.time(), "endpoints": endpoints}
    if traffic_off:
        record["traffic_off"] = traffic_off
    tmp = state / f".{ENDPOINTS}.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(state / ENDPOINTS)
    log.info("sandbox up: %s", ", ".join(f"{k} {v}" for k, v in endpoints.items()))
    while not sandbox.stopped.wait(0.5):
        pass
    log.info("sandbox stopping")
    if proxy is not None:
        proxy.stop()
    sandbox.stop()
    for name in (ENDPOINTS, PID):
        (state / name).unlink(missing_ok=True)
    log.info("sandbox stopped")
    return ExitCode.OK


def _start_haproxy(
    state: Path, endpoints: dict[str, str], log: logging.Logger
) -> tuple[SandboxHAProxy | None, str]:
    """HAProxy in front of both application stand-ins when its binary is installed; else
    (or when it fails to start) None and why, and the sandbox runs without traffic."""
    found = haproxy.binary()
    if found is None:
        log.info("haproxy is not installed (%s): no traffic section", haproxy.INSTALL)
        return None, "haproxy is not installed"
    proxy = SandboxHAProxy(state, found)
    try:
        proxy.start(endpoints)
    except (OSError, RuntimeError, ValueError) as exc:
        log.error("haproxy did not start: %s", exc)
        proxy.stop()
        return None, f"haproxy did not start ({str(exc)[:200]}; see {state / haproxy.FOLDER})"
    log.info("haproxy up: %s", ", ".join(f"{k} {v}" for k, v in proxy.endpoints.items()))
    return proxy, ""


if __name__ == "__main__":
    sys.exit(main())
