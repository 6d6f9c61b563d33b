"""What every controller of the fake cluster shares: the store, simulated time, the
bookkeeping a real controller keeps in memory, and small helpers to read and write
objects the way a controller does (status through the status subresource).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipper.sandbox.kubeapi.store import Obj, Store, StoreError

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
_HASH_LABELS = ("pod-template-hash", "controller-revision-hash")
UNSCHEDULABLE = (
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)
PENDING_REASONS = {
    "ContainerCreating",
    "ErrImagePull",
    "ImagePullBackOff",
    "CreateContainerConfigError",
}
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Any) -> str:
    """A stable name-safe hash of a pod template, hash labels left out."""
    clean = json.loads(json.dumps(template))
    labels = (clean.get("metadata") or {}).get("labels") or {}
    for key in _HASH_LABELS:
        labels.pop(key, None)
    digest = hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:10])


def suffix() -> str:
    return "".join(random.choice(_ALPHABET) for _ in range(5))


def owner_ref(owner: Obj) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def nonzero(status: dict[str, Any], *always: str) -> dict[str, Any]:
    """Drop zero counters, as Go's omitempty does (the adapter must read missing as 0)."""
    return {k: v for k, v in status.items() if k in always or v not in (0, None, [], "")}


@dataclass
class PodSim:
    """What the controller knows about a pod beyond its object: when it started."""

    created: float  # simulated seconds
    instant: bool = False
    job: bool = False
    command: tuple[str, ...] = ()


@dataclass
class DeploymentSim:
    generation: int = 0
    key: tuple[Any, ...] = ()
    since: float = 0.0  # last progress, simulated seconds
    created_rs: str = ""


@dataclass
class Timing:
    """Durations in simulated seconds."""

    pod_start: float = 1.0
    job_run: float = 1.0
    slow_job: float = 5.0


@dataclass
class ControllerBase:
    """State and helpers; the controllers are mixins over it (apps, batch, kubelet)."""

    store: Store
    speed: float = 1.0
    timing: Timing = field(default_factory=Timing)
    tick: float | None = None

    def __post_init__(self) -> None:
        self._t0 = time.monotonic()
        self._pods: dict[str, PodSim] = {}
        self._deployments: dict[tuple[str, str], DeploymentSim] = {}
        self._job_started: dict[str, float] = {}
        self._job_finished: dict[str, float] = {}
        self._instant: set[str] = set()
        # namespace -> containers a mutating webhook adds to every pod created there
        self.injected: dict[str, list[dict[str, Any]]] = {}
        self.logs: dict[tuple[str, str, str], str] = {}  # (ns, pod, container) -> text
        self.previous_logs: dict[tuple[str, str, str], str] = {}
        # (ns, pod, container) -> the wake-ups of the requests following that log
        self._log_followers: dict[tuple[str, str, str], set[threading.Condition]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.paused = False

    def sim_now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    # --- container logs -------------------------------------------------------------

    def write_log(self, key: tuple[str, str, str], text: str) -> None:
        """Set a container's log as it stands now, waking the requests that follow it,
        as a real container's writes reach `kubectl logs -f` at once."""
        with self.store.lock:
            if self.logs.get(key) == text:
                return
            self.logs[key] = text
            for wake in self._log_followers.get(key, ()):
                wake.notify_all()

    def follow_log(
        self, key: tuple[str, str, str], wake: threading.Condition
    ) -> Callable[[], None]:
        """Notify `wake` (a condition on the store lock) whenever that log grows; returns
        what stops it."""
        with self.store.lock:
            self._log_followers.setdefault(key, set()).add(wake)

        def stop() -> None:
            with self.store.lock:
                followers = self._log_followers.get(key, set())
                followers.discard(wake)
                if not followers:
                    self._log_followers.pop(key, None)

        return stop

    # --- helpers --------------------------------------------------------------------

    def _owned(self, resource: str, owner: Obj) -> list[Obj]:
        meta = owner["metadata"]
        return self.store.owned(resource, meta["namespace"], meta["uid"])

    def _set_status(self, resource: str, obj: Obj, status: dict[str, Any]) -> None:
        if obj.get("status") == status:
            return
        meta = obj["metadata"]
        with contextlib.suppress(StoreError):  # deleted meanwhile
            self.store.update(
                resource,
                meta["namespace"],
                meta["name"],
                lambda cur: {**cur, "status": status},
                subresource="status",
            )

    def _set_meta_spec(self, resource: str, obj: Obj, new: Obj) -> None:
        if new == obj:
            return
        meta = obj["metadata"]
        with contextlib.suppress(StoreError):
            self.store.update(
                resource,
                meta["namespace"],
                meta["name"],
                lambda cur: {
                    **cur,
                    "metadata": {**new["metadata"], "resourceVersion": None},
                    "spec": new["spec"],
                },
            )

    def _delete(self, resource: str, obj: Obj) -> None:
        with contextlib.suppress(StoreError):
            self.store.delete(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
        self._pods.pop(obj["metadata"]["uid"], None)

    def _create_pod(
        self,
        owner: Obj,
        namespace: str,
        name: str,
        template: Obj,
        labels: dict[str, str],
        now: float,
    ) -> None:
        meta = template.get("metadata") or {}
        pod = {
            "metadata": {
                "name": name,
                "labels": {**(meta.get("labels") or {}), **labels},
                "annotations": dict(meta.get("annotations") or {}),
                "ownerReferences": [owner_ref(owner)],
            },
            "spec": {**json.loads(json.dumps(template["spec"])), "nodeName": "sandbox-node-1"},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        if owner["kind"] == "Job":
            pod["spec"].pop("nodeName")
        for extra in self.injected.get(namespace, []):  # as a sidecar-injecting webhook does
            if all(c.get("name") != extra["name"] for c in pod["spec"]["containers"]):
                pod["spec"]["containers"].append(dict(extra))
        created = self.store.create("pods", namespace, pod)
        containers = template["spec"]["containers"]
        command = tuple(containers[0].get("command") or ()) + tuple(containers[0].get("args") or ())
        self._pods[created["metadata"]["uid"]] = PodSim(
            created=now,
            instant=template_hash(template) in self._instant,
            job=owner["kind"] == "Job",
            command=command,
        )


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )
