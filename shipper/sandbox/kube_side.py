"""The Kubernetes side of the sandbox: the fake API server, seeded, and watched.

This wraps `kubeapi.FakeKubeApiServer` (owned by the Kubernetes adapter's tests) without
changing it: it seeds the sandbox's workloads at the first version, reads back which
version the ready pods run (for the application endpoint), and keeps a journal of the
changes `ship` made (migration Jobs created and finished, workload images changed),
with times, through the store's write hook.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shipper.sandbox import arrival
from shipper.sandbox.kubeapi import FakeKubeApiServer, Timing
from shipper.sandbox.kubeapi.resources import image_tag

Obj = dict[str, Any]

SIDECAR_WORKLOAD = "web"
SIDECAR = "cloud-sql-proxy"
SIDECAR_IMAGE = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.0"


def _resources(cpu: str, memory: str, cpu_limit: str | None = None) -> dict[str, Any]:
    limits = {"memory": memory, **({"cpu": cpu_limit} if cpu_limit else {})}
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}


# The containers as production namespaces write them: resources on each, the application's
# env from literals, a ConfigMap and a Secret (the preflight lessons read these names).
_APP_ENV = {
    "resources": _resources("250m", "512Mi", cpu_limit="200m"),
    "env": [
        {"name": "RAILS_MAX_THREADS", "value": "5"},
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "shop-db", "key": "url"}}},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel.sandbox.invalid:4317"},
    ],
    "envFrom": [{"configMapRef": {"name": "shop-config"}}, {"secretRef": {"name": "shop-secrets"}}],
}
_FIELDS: dict[str, dict[str, Any]] = {
    "web": _APP_ENV,
    "worker": _APP_ENV,
    SIDECAR: {"resources": _resources("50m", "64Mi")},
}


@dataclass(frozen=True)
class KubeLayout:
    namespace: str
    image: str  # a template with {version}
    workloads: tuple[tuple[str, str, int], ...]  # (kind, name, replicas)

    def image_for(self, version: str) -> str:
        return self.image.replace("{version}", version)


def _images(template: Obj) -> tuple[str, ...]:
    return tuple(c.get("image", "") for c in template.get("spec", {}).get("containers", []))


def _template_of(kind: str, obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    if kind == "cronjobs":
        return dict(spec.get("jobTemplate", {}).get("spec", {}).get("template", {}))
    return dict(spec.get("template") or {})


def _ready(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


class KubeSide:
    """The fake cluster with the sandbox's namespace and workloads in it."""

    def __init__(
        self,
        layout: KubeLayout,
        token: str,
        seed_version: str,
        speed: float = 4.0,
        clock: Callable[[], float] = time.time,
        tick: float = 0.1,  # the controller's pass; 0.1 s keeps an idle sandbox near 1 % CPU
    ) -> None:
        self.layout = layout
        self._clock = clock
        self.server = FakeKubeApiServer(token=token, speed=speed, timing=Timing(), tick=tick)
        self.journal: list[dict[str, Any]] = []
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._images: dict[str, tuple[str, ...]] = {}
        self._jobs: dict[str, str] = {}
        self._seed_version = seed_version
        self.added: list[tuple[str, str, int]] = []  # workloads added after the start

    @property
    def faults(self) -> Any:
        return self.server.faults

    def start(self) -> str:
        url = self.server.start()
        image = self.layout.image_for(self._seed_version)
        ns = self.layout.namespace
        for kind, name, replicas in self.layout.workloads:
            if kind == "deployment" and name == SIDECAR_WORKLOAD:
                # A database proxy beside the application, as production namespaces have:
                # ship must leave it alone (it runs another repository's image).
                containers = {name: image, SIDECAR: SIDECAR_IMAGE}
                self.server.seed_deployment(
                    ns, name, image, replicas=replicas, containers=containers, fields=_FIELDS
                )
            elif kind == "deployment":
                # a service beyond web and worker (a larger sandbox) is written like them
                fields = _FIELDS if name in _FIELDS else {name: _APP_ENV}
                self.server.seed_deployment(ns, name, image, replicas=replicas, fields=fields)
            elif kind == "statefulset":
                self.server.seed_statefulset(ns, name, image, replicas=replicas)
            else:
                self.server.seed_cronjob(
                    ns, name, image, fields={name: {"resources": _resources("100m", "256Mi")}}
                )
        self._seed_estate(ns)
        for plural in ("deployments", "statefulsets", "cronjobs"):
            for obj in self.server.objects(plural, ns):
                key = f"{plural[:-1]}/{obj['metadata']['name']}"
                self._images[key] = _images(_template_of(plural, obj))
        self.server.store.on_write.append(self._on_write)
        return url

    def stop(self) -> None:
        self.server.stop()

    def _seed_estate(self, ns: str) -> None:
        """What the preflight lessons read beside the workloads: the ConfigMap and Secret
        the application's env comes from, and an autoscaler on the web Deployment."""
        self.server.put(
            "configmaps",
            ns,
            {"metadata": {"name": "shop-config"}, "data": {"REDIS_URL": "redis://r:6379"}},
        )
        self.server.put(
            "secrets",
            ns,
            {"metadata": {"name": "shop-secrets"}, "data": {"SECRET_KEY_BASE": "c2FuZGJveA=="}},
        )
        if any(k == "deployment" and n == SIDECAR_WORKLOAD for k, n, _ in self.layout.workloads):
            self.server.put(
                "horizontalpodautoscalers",
                ns,
                {
                    "metadata": {"name": SIDECAR_WORKLOAD},
                    "spec": {
                        "scaleTargetRef": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": SIDECAR_WORKLOAD,
                        },
                        "minReplicas": 2,
                        "maxReplicas": 6,
                    },
                },
            )

    def add_statefulset(
        self, name: str, replicas: int, update_strategy: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Seed a StatefulSet at the first version into the namespace (rolled out), shown
        in the summary like the layout's workloads; its seeding is not journalled."""
        image = self.layout.image_for(self._seed_version)
        key = f"statefulset/{name}"
        with self._lock:
            if key in self._images:
                raise ValueError(f"{key} exists already")
            self._images[key] = (image,)
        self.server.seed_statefulset(
            self.layout.namespace, name, image, replicas=replicas, update_strategy=update_strategy
        )
        self.added.append(("statefulset", name, replicas))
        return {"added": key, "image": image}

    def write_kubeconfig(self, path: str, token: str) -> None:
        self.server.write_kubeconfig(path, "sandbox", self.layout.namespace, token)

    # --- the journal -------------------------------------------------------------------

    def _on_write(self, plural: str, kind: str, obj: Obj | None) -> None:
        """Record ship's changes; runs under the store lock, so it only reads `obj`."""
        if obj is None:
            return
        meta = obj.get("metadata") or {}
        if meta.get("namespace") != self.layout.namespace:
            return
        name = str(meta.get("name"))
        with self._lock:
            if plural in ("deployments", "statefulsets", "cronjobs") and kind == "MODIFIED":
                key = f"{plural[:-1]}/{name}"
                images = _images(_template_of(plural, obj))
                if images and images != self._images.get(key):
                    self._images[key] = images
                    version = _label(images[0])
                    self._note("image", key, version)
            elif plural == "jobs":
                images = _images(_template_of("jobs", obj))
                version = _label(images[0]) if images else None
                if kind == "ADDED":
                    self._jobs[name] = "running"
                    self._note("job", f"job/{name}", version)
                conditions = (obj.get("status") or {}).get("conditions") or []
                for cond in conditions:
                    done = cond.get("type") in ("Complete", "Failed")
                    if done and cond.get("status") == "True" and self._jobs.get(name) == "running":
                        self._jobs[name] = cond["type"].lower()
                        self._note("job_finished", f"job/{name}", version, result=cond["type"])

    def _note(self, kind: str, target: str, version: str | None, **extra: Any) -> None:
        self.received[f"{kind}:{target}@{version}"] += 1
        self.journal.append(
            {
                "at": self._clock(),
                "sent": arrival.arrived(),  # None for a controller's write
                "side": "kubernetes",
                "kind": kind,
                "target": target,
                "version": version,
            }
            | extra
        )

    # --- what runs ---------------------------------------------------------------------

    def serving_versions(self) -> dict[str, str | None]:
        """Per serving workload, the version of its newest ready pod (None: none ready)."""
        ns = self.layout.namespace
        pods = self.server.objects("pods", ns)
        out: dict[str, str | None] = {}
        for kind, name, _ in self.layout.workloads:
            if kind == "cronjob":
                continue
            mine = [
                p
                for p in pods
                if (p.get("metadata") or {}).get("labels", {}).get("app") == name
                and _owner_kind(p) in ("ReplicaSet", "StatefulSet")
                and _ready(p)
            ]
            mine.sort(key=lambda p: str(p["metadata"].get("creationTimestamp", "")))
            images = _images(mine[-1]) if mine else ()
            out[f"{kind}/{name}"] = _label(images[0]) if images else None
        return out

    def summary(self) -> dict[str, Any]:
        """Per workload the version in its spec and what its ready pods run."""
        ns = self.layout.namespace
        serving = self.serving_versions()
        workloads = {}
        for kind, name, _ in (*self.layout.workloads, *self.added):
            plural = f"{kind}s"
            obj = self.server.get(plural, ns, name) or {}
            images = _images(_template_of(plural, obj))
            key = f"{kind}/{name}"
            workloads[key] = {
                "version": _label(images[0]) if images else None,
                "serving": serving.get(key),
            }
        jobs = {j["metadata"]["name"]: _job_state(j) for j in self.server.objects("jobs", ns)}
        with self._lock:
            return {
                "workloads": workloads,
                "jobs": jobs,
                "received": dict(self.received),
                "journal": list(self.journal),
                "api_calls": {f"{v} {r}": n for (v, r), n in self.server.api_calls.items()},
            }


def _job_state(job: Obj) -> str:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"]).lower()
    return "running"


def _owner_kind(obj: Obj) -> str | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return str(refs[0].get("kind")) if refs else None


def _label(image: str) -> str | None:
    """What a person calls the version of `image`: its tag, else (pinned by digest alone)
    its digest; None when it names neither."""
    return image_tag(image) or image.partition("@")[2] or None
