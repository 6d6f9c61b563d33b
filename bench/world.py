"""A sandbox of any size for the benchmark, with the stand-ins' own timings recorded.

Run as `python -m bench.world --dir DIR --apps H --workloads K --latency SECONDS`. It
starts every stand-in of `shipper.sandbox.stack.Sandbox` in this process (the same code
`ship sandbox up` runs detached), sized to H Heroku apps and K Kubernetes workloads,
writes `kubeconfig`, `netrc` and `pipeline.yaml` into DIR, and prints one JSON line
`{"ready": true, "pipeline": ..., "endpoints": ...}`.

Then it answers commands on stdin, one JSON line each on stdout:
- `timings`: the sandbox's state (`GET /state` of the control endpoint) plus what only
  this process can see: per Heroku build and release, when it was created and when the
  platform finished it; per Kubernetes workload, when each rollout completed; when each
  Heroku API call was answered (`heroku_calls`: Unix seconds, rate-limited ones left out).
- `quit` (or end of input): stop every stand-in and exit.

Nothing here changes how the stand-ins behave; it only reads them.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

from shipper.sandbox import files
from shipper.sandbox.kubeapi.resources import image_tag
from shipper.sandbox.stack import Sandbox, SandboxSpec

DEFAULT = SandboxSpec()


def sized_spec(apps: int, workloads: int, latency: float) -> SandboxSpec:
    """The default sandbox, grown to `apps` apps and `workloads` workloads.

    The default targets come first (so H=2, K=3 is exactly `ship sandbox up`); extra
    apps are `shop-app-NN`, extra workloads `deployment/svc-NN` with 1 or 2 replicas."""
    names = list(DEFAULT.apps[:apps])
    names += [f"shop-app-{i:02d}" for i in range(len(names) + 1, apps + 1)]
    kinds = list(DEFAULT.workloads[:workloads])
    kinds += [
        ("deployment", f"svc-{i:02d}", 1 + i % 2) for i in range(len(kinds) + 1, workloads + 1)
    ]
    return SandboxSpec(apps=tuple(names), workloads=tuple(kinds), latency=latency)


class Rollouts:
    """When each Deployment's rollout completed, seen through the fake API server's
    write hook: the first status write with every replica updated and available."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.done: list[dict[str, Any]] = []
        self._last: dict[str, str] = {}
        self._guard = threading.Lock()

    def on_write(self, plural: str, kind: str, obj: dict[str, Any] | None) -> None:
        if plural != "deployments" or obj is None:
            return
        meta = obj.get("metadata") or {}
        if meta.get("namespace") != self.namespace:
            return
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        want = int(spec.get("replicas", 1))
        complete = (
            int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
            and int(status.get("updatedReplicas") or 0) == want
            and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
        )
        containers = spec.get("template", {}).get("spec", {}).get("containers") or [{}]
        version = image_tag(str(containers[0].get("image", ""))) or None
        target = f"deployment/{meta.get('name')}"
        with self._guard:
            if complete and version and self._last.get(target) != version:
                self._last[target] = version
                self.done.append({"at": time.time(), "target": target, "version": version})
            elif not complete:
                self._last.pop(target, None)


class HerokuCalls:
    """When each Heroku API call was answered, read by wrapping the stand-in's journal
    hook (`HerokuApi._noted`); the answer itself is passed through unchanged."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.times: list[float] = []
        self._guard = threading.Lock()
        api = sandbox.heroku
        noted = api._noted

        def timed(request: Any, answer: Any) -> Any:
            if answer.status != 429:
                with self._guard:
                    self.times.append(time.time())
            return noted(request, answer)

        api._noted = timed  # type: ignore[method-assign]  # read-only wrapper, same answer

    def all(self) -> list[float]:
        with self._guard:
            return list(self.times)


def heroku_timings(sandbox: Sandbox) -> dict[str, Any]:
    """Per app, its builds and releases with the platform's own start and finish times."""
    world = sandbox.world
    with world.lock:
        world.settle()
        out: dict[str, Any] = {}
        for name, app in world.apps.items():
            out[name] = {
                "preboot": bool(app.features.get("preboot")),
                "builds": [
                    {
                        "version": b.version,
                        "created": b.created_at,
                        "finished": b.finish_at,
                        "status": b.status,
                        "release": b.release_id,
                    }
                    for b in app.builds
                ],
                "releases": [
                    {
                        "id": r.id,
                        "version": r.version,
                        "created": r.created_at,
                        "requested": r.requested_at,
                        "finished": r.finish_at,
                        "status": r.status,
                        "description": r.description,
                    }
                    for r in app.releases
                ],
            }
        return {
            "apps": out,
            "dyno_boot": world.timings.dyno_boot,
            "preboot": world.timings.preboot,
        }


def write_files(where: Path, sandbox: Sandbox, heroku: str, kube: str) -> Path:
    spec, endpoints = sandbox.spec, sandbox.endpoints
    files.write_private(
        where / files.KUBECONFIG,
        files.kubeconfig_text(endpoints["kubernetes_api"], kube, spec.namespace),
    )
    files.write_private(where / files.NETRC, files.netrc_text(endpoints["heroku_api"], heroku))
    workloads = tuple(f"{kind}/{name}" for kind, name, _ in spec.workloads)
    text = files.pipeline_text(endpoints, spec.apps, spec.namespace, spec.image, workloads, Path())
    files.write_private(where / files.PIPELINE, text)
    return where / files.PIPELINE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.world")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--workloads", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    spec = sized_spec(args.apps, args.workloads, args.latency)
    heroku, kube = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    sandbox = Sandbox(spec, heroku, kube)
    rollouts = Rollouts(spec.namespace)
    calls = HerokuCalls(sandbox)
    endpoints = sandbox.start()
    try:
        sandbox.kube.server.store.on_write.append(rollouts.on_write)
        pipeline = write_files(args.dir, sandbox, heroku, kube)
        ready = {"ready": True, "pipeline": str(pipeline), "endpoints": endpoints}
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "quit":
                break
            if command == "timings":
                with rollouts._guard:
                    done = list(rollouts.done)
                answer = {
                    "state": sandbox.state(),
                    "heroku": heroku_timings(sandbox),
                    "rollouts": done,
                    "heroku_calls": calls.all(),
                }
                print(json.dumps(answer), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
