"""A fake Kubernetes API server that the real `kubernetes` client talks to over HTTP.

It serves the REST subset ship uses (namespaced Deployments, ReplicaSets, StatefulSets,
ControllerRevisions, Jobs, CronJobs, Pods and their logs, ConfigMaps, Secrets, Events and
Leases) with real object shapes, watch streams, Status errors and optimistic concurrency,
while a controller thread moves rollouts forward. It binds loopback only: it has no
authentication worth the name and must never be reachable from another machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from shipper.sandbox.kubeapi.controller import Controller, Timing, template_hash
from shipper.sandbox.kubeapi.faults import Faults
from shipper.sandbox.kubeapi.http_server import PATH, HttpServer
from shipper.sandbox.kubeapi.rbac import Rbac
from shipper.sandbox.kubeapi.rest import RestSemantics
from shipper.sandbox.kubeapi.store import Obj, Store


class FakeKubeApiServer(RestSemantics):
    """The fake API server, its store, its controller and its fault hooks.

    `speed` is how many times faster than the wall clock the fake cluster runs: pods
    take one simulated second to start, migration Jobs one (`slowmigrate`: five), and
    progress deadlines and Job deadlines count simulated seconds too.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        speed: float = 1.0,
        token: str | None = None,
        timing: Timing | None = None,
        tick: float | None = None,
        history_limit: int = 20000,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the fake API server binds loopback only, not {host!r}")
        self.host = host
        self.port = port
        self.token = token
        self.store = Store(history_limit=history_limit)
        self.controller = Controller(self.store, speed=speed, timing=timing or Timing(), tick=tick)
        self.faults = Faults()
        self.rbac = Rbac()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._in_order: list[tuple[str, str]] = []
        self._calls_lock = threading.Lock()
        self.stopping = threading.Event()
        self._http: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving and the controller; returns the base URL."""
        self.stopping.clear()
        self._serve()
        self.controller.start()
        return self.url

    def _serve(self) -> None:
        self._http = HttpServer((self.host, self.port), self)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.store.wake_all()
        self.controller.stop()
        self._close_listener()

    def __enter__(self) -> FakeKubeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_listener(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def refuse_connections(self) -> None:
        """Stop listening (new connections are refused) and drop open ones."""
        self._close_listener()

    def accept_connections(self) -> None:
        """Listen again on the same port after `refuse_connections`."""
        if self._http is None:
            self._serve()

    def track_connection(self, conn: socket.socket, open_: bool) -> None:
        with self._conns_lock:
            if open_:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # --- configuration for clients -------------------------------------------------

    def write_kubeconfig(
        self,
        path: str | Path,
        context: str = "sandbox",
        namespace: str = "default",
        token: str | None = None,
    ) -> Path:
        """Write a kubeconfig whose `context` points at this server."""
        target = Path(path)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": token or self.token or "sandbox"}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": context, "user": context, "namespace": namespace},
                }
            ],
            "current-context": context,
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        target.chmod(0o600)
        return target

    # --- API calls, counted --------------------------------------------------------

    def count_call(self, method: str, path: str, query: Mapping[str, str]) -> None:
        verb, plural, sub = request_verb(method, path, query)
        if sub:
            plural = f"{plural}/{sub}"
        with self._calls_lock:
            self._calls[(verb, plural)] += 1
            self._in_order.append((verb, plural))

    @property
    def api_calls(self) -> Counter[tuple[str, str]]:
        """Requests so far by (verb, resource): `("patch", "deployments")`."""
        with self._calls_lock:
            return Counter(self._calls)

    @property
    def calls_in_order(self) -> list[tuple[str, str]]:
        """The same requests, in the order they arrived, so a test can hold a client to
        what it sends first."""
        with self._calls_lock:
            return list(self._in_order)

    def call_count(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._calls_lock:
            return sum(
                n
                for (v, r), n in self._calls.items()
                if (verb is None or v == verb) and (resource is None or r == resource)
            )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()
            self._in_order.clear()

    # --- seeding and reading, for tests and the sandbox -----------------------------

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A copy of one stored object (`resource` is the plural: "deployments")."""
        return self.store.get(resource, namespace, name)

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a resource."""
        return self.store.list(resource, namespace)[0]

    def put(self, resource: str, namespace: str, obj: Obj) -> Obj:
        """Create an object directly (no API call counted)."""
        return self.store.create(resource, namespace, obj)

    def inject_sidecar(self, namespace: str, name: str, image: str) -> None:
        """From now on every pod created in `namespace` gets a regular container `name`
        running `image`, appended as a sidecar-injecting mutating webhook would (the pod
        template of its owner is not changed)."""
        self.controller.injected.setdefault(namespace, []).append({"name": name, "image": image})

    def seed_deployment(
        self,
        namespace: str,
        name: str,
        image: str,
        replicas: int = 2,
        containers: Sequence[str] | Mapping[str, str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        progress_deadline_seconds: int = 600,
        wait: bool = True,
        fields: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Obj:
        """A Deployment already rolled out (its pods ready at once) unless `wait` is False.

        `containers`: names that all run `image`, or a name -> image mapping. Default:
        one container named like the Deployment. `fields`: more of each container's
        fields by its name (`resources`, `env`, `envFrom`).
        """
        template = _template(name, image, containers, labels, fields)
        spec = {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
            "progressDeadlineSeconds": progress_deadline_seconds,
        }
        return self._seed("deployments", namespace, name, spec, wait)

    def seed_statefulset(
        self,
        namespace: str,
        name: str,
        image: str,
        replicas: int = 2,
        containers: Sequence[str] | Mapping[str, str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        update_strategy: Mapping[str, Any] | None = None,
        wait: bool = True,
    ) -> Obj:
        """A StatefulSet already rolled out, like `seed_deployment`; `update_strategy` as
        the API writes it (`{"type": "OnDelete"}`, or RollingUpdate with a partition)."""
        template = _template(name, image, containers, labels)
        spec = {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
        }
        if update_strategy is not None:
            spec["updateStrategy"] = dict(update_strategy)
        return self._seed("statefulsets", namespace, name, spec, wait)

    def seed_cronjob(
        self,
        namespace: str,
        name: str,
        image: str,
        schedule: str = "0 3 * * *",
        containers: Sequence[str] | Mapping[str, str] | None = None,
        fields: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Obj:
        """A CronJob (no controller runs it: ship only changes its job template)."""
        template = _template(name, image, containers, None, fields)
        template["spec"]["restartPolicy"] = "OnFailure"
        spec = {"schedule": schedule, "jobTemplate": {"spec": {"template": template}}}
        return self.store.create("cronjobs", namespace, {"metadata": {"name": name}, "spec": spec})

    def _seed(self, resource: str, namespace: str, name: str, spec: Obj, wait: bool) -> Obj:
        created = self.store.create(resource, namespace, {"metadata": {"name": name}, "spec": spec})
        if wait:
            self.controller.make_instant(created["spec"]["template"])
            self.settle(resource, namespace, name)
        return self.store.get(resource, namespace, name) or created

    def settle(self, resource: str, namespace: str, name: str, timeout: float = 5.0) -> None:
        """Run the controller until the workload is rolled out (or `timeout` passes)."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            self.controller.reconcile()
            obj = self.store.get(resource, namespace, name)
            if obj is not None and _rolled_out(obj):
                return
            time.sleep(0.005)
        raise TimeoutError(f"{resource}/{name} did not roll out within {timeout}s")


def request_verb(method: str, path: str, query: Mapping[str, str]) -> tuple[str, str, str]:
    """(verb, resource, subresource) of a request, in the authorizer's words."""
    match = PATH.match(path)
    plural = match["plural"] if match else path
    sub = (match["sub"] or "") if match else ""
    if method == "GET":
        if match and match["name"]:
            verb = "get"
        else:
            verb = "watch" if query.get("watch") in ("true", "1") else "list"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    return verb, plural, sub


def _template(
    name: str,
    image: str,
    containers: Sequence[str] | Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
    fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> Obj:
    if containers is None:
        pairs = [(name, image)]
    elif isinstance(containers, Mapping):
        pairs = list(containers.items())
    else:
        pairs = [(c, image) for c in containers]
    return {
        "metadata": {"labels": {"app": name, **(labels or {})}},
        "spec": {
            "containers": [
                {"name": n, "image": i, **dict((fields or {}).get(n) or {})} for n, i in pairs
            ]
        },
    }


def _rolled_out(obj: Obj) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1))
    if int(status.get("observedGeneration") or 0) < int(obj["metadata"].get("generation", 1)):
        return False
    if obj["kind"] == "StatefulSet":
        return (
            int(status.get("readyReplicas") or 0) == want
            and int(status.get("updatedReplicas") or 0) == want
            and status.get("currentRevision") == status.get("updateRevision")
        )
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["FakeKubeApiServer", "Timing", "template_hash"]
