"""The whole sandbox in one process: every stand-in, and a control endpoint over them.

`Sandbox.start()` brings up, each on its own free loopback port: the Heroku Platform API,
the status page, the fake Kubernetes API server (seeded, with its controller), one
application endpoint per side, and the control endpoint that `ship sandbox` and the
tests use to read what the stand-ins received and to switch colours, arm faults and add
latency. It is used in-process by tests and, detached, by `ship sandbox up`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from shipper.sandbox.app_side import MODES, AppSide
from shipper.sandbox.faults import Fault, FaultPlan
from shipper.sandbox.heroku_api import HerokuApi
from shipper.sandbox.heroku_world import HerokuWorld, Timings
from shipper.sandbox.status_page import SYSTEMS, StatusPage
from shipper.sandbox.web import Answer, Request, Served, serve


@dataclass(frozen=True)
class SandboxSpec:
    """What the sandbox runs. The defaults are what `ship sandbox up` writes a pipeline for."""

    apps: tuple[str, ...] = ("shop-web", "shop-worker")
    namespace: str = "shop"
    image: str = "registry.sandbox.invalid/shop:{version}"
    workloads: tuple[tuple[str, str, int], ...] = (
        ("deployment", "web", 2),
        ("deployment", "worker", 1),
        ("cronjob", "nightly-report", 0),
    )
    seed_version: str = "v1"
    latency: float = 0.0  # added to every request of every stand-in
    kube_speed: float = 4.0  # the fake cluster's clock runs this many times faster
    timings: Timings = field(default_factory=Timings)


class Sandbox:
    """Every stand-in, started and stopped together."""

    def __init__(self, spec: SandboxSpec, heroku_token: str, kube_token: str) -> None:
        from shipper.sandbox.kube_side import KubeLayout, KubeSide

        self.spec = spec
        self.kube_token = kube_token
        self.world = HerokuWorld(spec.apps, spec.seed_version, spec.timings)
        self.heroku = HerokuApi(self.world, heroku_token)
        self.status = StatusPage()
        self.kube = KubeSide(
            KubeLayout(spec.namespace, spec.image, spec.workloads),
            kube_token,
            spec.seed_version,
            speed=spec.kube_speed,
        )
        self.heroku_app = AppSide(
            "heroku", lambda: {a: self.world.running_version(a) for a in spec.apps}
        )
        self.kube_app = AppSide("kubernetes", self.kube.serving_versions)
        self.control = Control(self)
        self.stopped = threading.Event()
        self._served: dict[str, Served] = {}
        self.endpoints: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        """Start every stand-in; returns their base URLs by name."""
        try:
            self.endpoints["kubernetes_api"] = self.kube.start()
            for name, endpoint in (
                ("heroku_api", self.heroku),
                ("status", self.status),
                ("heroku_app", self.heroku_app),
                ("kubernetes_app", self.kube_app),
                ("control", self.control),
            ):
                self._served[name] = serve(f"sandbox-{name}", endpoint)
                self.endpoints[name] = self._served[name].url
        except BaseException:
            self.stop()
            raise
        self.set_latency(self.spec.latency)
        return dict(self.endpoints)

    def stop(self) -> None:
        for served in self._served.values():
            served.close()
        self._served.clear()
        self.kube.stop()
        self.stopped.set()

    def set_latency(self, seconds: float, target: str | None = None) -> None:
        for name, plan in self.fault_plans().items():
            if target in (None, name):
                plan.latency = seconds
        if target in (None, "kubernetes_api"):
            self.kube.server.faults.latency = seconds

    def fault_plans(self) -> dict[str, FaultPlan]:
        return {
            "heroku_api": self.heroku.faults,
            "status": self.status.faults,
            "heroku_app": self.heroku_app.faults,
            "kubernetes_app": self.kube_app.faults,
        }

    def state(self) -> dict[str, Any]:
        """What runs where, the status colours, and everything the stand-ins received."""
        return {
            "endpoints": dict(self.endpoints),
            "heroku": self.world.summary() | {"api_calls": dict(self.heroku.calls)},
            "kubernetes": self.kube.summary(),
            "status": self.status.colours(),
            "faults": {name: plan.to_json() for name, plan in self.fault_plans().items()},
            "prometheus": {"heroku": self.heroku_app.mode, "kubernetes": self.kube_app.mode},
        }


class Control:
    """The control endpoint: read the sandbox's state, steer its stand-ins.

    `GET /state`; `PUT /status {"colour", "systems"}`; `POST /faults {"target", ...}` and
    `DELETE /faults`; `PUT /latency {"seconds", "target"}`; `PUT /prometheus {"side",
    "mode"}`; `POST /kubernetes/faults {"action", ...}` (also `deny {"verb", "resource",
    "subresource"}` and `allow_all`: RBAC answers of the API server); `POST
    /kubernetes/workloads {"kind": "statefulset", "name", "replicas", "update_strategy"}`
    (a workload added to the namespace, rolled out at the first version); `POST /shutdown`.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.faults = FaultPlan()  # never armed: the control endpoint must stay reliable

    def fault_answer(self, fault: Fault) -> Answer:
        return Answer.of_json(fault.status, {"error": "fault"})

    def _kube_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        return _kube_action(self.sandbox, body)

    def handle(self, request: Request) -> Answer:
        route = (request.method, request.path.rstrip("/"))
        try:
            body = request.json() or {}
            if route == ("GET", "/state"):
                return Answer.of_json(200, self.sandbox.state())
            if route == ("PUT", "/status"):
                systems = tuple(body.get("systems") or SYSTEMS)
                self.sandbox.status.set(str(body.get("colour")), systems)
                return Answer.of_json(200, self.sandbox.status.colours())
            if route == ("POST", "/faults"):
                target = body.pop("target", "heroku_api")
                plans = self.sandbox.fault_plans()
                if target not in plans:
                    raise ValueError(f"target must be one of {', '.join(plans)}")
                plans[target].add(Fault.from_json(body))
                return Answer.of_json(200, plans[target].to_json())
            if route == ("DELETE", "/faults"):
                for plan in self.sandbox.fault_plans().values():
                    plan.clear()
                return Answer.of_json(200, {"cleared": True})
            if route == ("PUT", "/latency"):
                seconds = float(body.get("seconds", 0.0))
                if not 0 <= seconds <= 30:
                    raise ValueError("latency must be between 0 and 30 seconds")
                self.sandbox.set_latency(seconds, body.get("target"))
                return Answer.of_json(200, {"latency": seconds})
            if route == ("PUT", "/prometheus"):
                mode = str(body.get("mode"))
                if mode not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}")
                side = self.sandbox.heroku_app if body.get("side") == "heroku" else None
                side = side or (self.sandbox.kube_app if body.get("side") == "kubernetes" else None)
                if side is None:
                    raise ValueError("side must be heroku or kubernetes")
                side.mode = mode
                return Answer.of_json(200, {"mode": mode})
            if route == ("POST", "/kubernetes/faults"):
                return Answer.of_json(200, self._kube_fault(dict(body)))
            if route == ("POST", "/kubernetes/workloads"):
                if body.get("kind") != "statefulset":
                    raise ValueError("kind must be statefulset")
                strategy = body.get("update_strategy")
                if strategy is not None and not isinstance(strategy, dict):
                    raise ValueError("update_strategy must be an object")
                added = self.sandbox.kube.add_statefulset(
                    str(body["name"]), int(body.get("replicas", 2)), strategy
                )
                return Answer.of_json(200, added)
            if route == ("POST", "/shutdown"):
                threading.Thread(target=self.sandbox.stop, daemon=True).start()
                return Answer.of_json(202, {"stopping": True})
        except (ValueError, TypeError, AttributeError) as exc:
            return Answer.of_json(400, {"error": str(exc)})
        return Answer.of_json(404, {"error": "not found"})


_KUBE_ACTIONS: dict[str, tuple[str, ...]] = {
    "fail_next": ("n", "status", "method", "path", "retry_after"),
    "gone_next_watch": ("n", "as_event"),
    "end_watches": ("after_events", "after_seconds"),
    "clear": (),
    "refuse_connections": (),
    "accept_connections": (),
    "pause_controller": (),
    "resume_controller": (),
    "deny": ("verb", "resource", "subresource"),
    "allow_all": (),
}


def _kube_action(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Drive the fake API server's own fault hooks (see `kubeapi.faults`)."""
    action = body.pop("action", None)
    if action not in _KUBE_ACTIONS:
        raise ValueError(f"action must be one of {', '.join(_KUBE_ACTIONS)}")
    unknown = set(body) - set(_KUBE_ACTIONS[action])
    if unknown:
        raise ValueError(f"{action} takes no {', '.join(sorted(unknown))}")
    server = sandbox.kube.server
    if action == "refuse_connections":
        server.refuse_connections()
    elif action == "accept_connections":
        server.accept_connections()
    elif action in ("pause_controller", "resume_controller"):
        server.controller.paused = action == "pause_controller"
    elif action == "deny":
        server.rbac.deny(str(body["verb"]), str(body["resource"]), str(body.get("subresource", "")))
    elif action == "allow_all":
        server.rbac.allow_all()
    else:
        getattr(server.faults, action)(**body)
    return {"done": action}
