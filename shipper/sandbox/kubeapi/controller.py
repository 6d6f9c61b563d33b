"""The fake cluster's controllers: Deployments, ReplicaSets, StatefulSets, Jobs, the pods
they run, and the garbage collector.

They move status forward over simulated time the way the real controllers do (the
fields and reasons of the deployment controller's `calculateStatus`, the StatefulSet
controller's revisions, the Job controller's conditions), so the adapter's rollout
reading is exercised against realistic sequences rather than hand-set end states.
Simulated time runs `speed` times faster than the wall clock, so a rollout that would
take seconds takes a few tens of milliseconds in a test.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from shipper.sandbox.kubeapi import scenarios as sc
from shipper.sandbox.kubeapi.store import Obj, Store, StoreError, now_iso

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
_SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
_HASH_LABELS = ("pod-template-hash", "controller-revision-hash")
_UNSCHEDULABLE = (
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)
_PENDING_REASONS = {
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


def _suffix() -> str:
    return "".join(random.choice(_ALPHABET) for _ in range(5))


def _owner_ref(owner: Obj) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def _nonzero(status: dict[str, Any], *always: str) -> dict[str, Any]:
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
class Controller:
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
        self.logs: dict[tuple[str, str, str], str] = {}  # (ns, pod, container) -> text
        self.previous_logs: dict[tuple[str, str, str], str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.paused = False

    # --- time and lifecycle ------------------------------------------------------------

    def sim_now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kubeapi-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        period = self.tick if self.tick is not None else min(0.05, 0.25 / self.speed)
        while not self._stop.wait(period):
            if not self.paused:
                self.reconcile()

    def make_instant(self, template: Any) -> None:
        """Pods of this template start ready at once (seeded workloads)."""
        self._instant.add(template_hash(template))

    def reconcile(self) -> None:
        """One pass of every controller, under the store lock."""
        with self.store.lock:
            now = self.sim_now()
            self._collect_garbage()
            for d in self.store.list("deployments")[0]:
                self._sync_deployment(d, now)
            for rs in self.store.list("replicasets")[0]:
                self._sync_replicaset_pods(rs, now)
            for sts in self.store.list("statefulsets")[0]:
                self._sync_statefulset(sts, now)
            for job in self.store.list("jobs")[0]:
                self._sync_job(job, now)
            for pod in self.store.list("pods")[0]:
                self._advance_pod(pod, now)
            for rs in self.store.list("replicasets")[0]:
                self._replicaset_status(rs)
            for d in self.store.list("deployments")[0]:
                self._deployment_status(d, now)
            for sts in self.store.list("statefulsets")[0]:
                self._statefulset_status(sts)
            for job in self.store.list("jobs")[0]:
                self._job_status(job, now)

    # --- helpers --------------------------------------------------------------------

    def _owned(self, resource: str, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        ns = owner["metadata"]["namespace"]
        return self.store.list(resource, ns, lambda o: _controller_uid(o) == uid)[0]

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

    def _collect_garbage(self) -> None:
        uids = {
            o["metadata"]["uid"]
            for plural in ("deployments", "replicasets", "statefulsets", "jobs", "cronjobs")
            for o in self.store.list(plural)[0]
        }
        for plural in ("replicasets", "pods", "controllerrevisions", "jobs"):
            for obj in self.store.list(plural)[0]:
                owner = _controller_uid(obj)
                if owner is not None and owner not in uids:
                    self._delete(plural, obj)

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
                "ownerReferences": [_owner_ref(owner)],
            },
            "spec": {**json.loads(json.dumps(template["spec"])), "nodeName": "sandbox-node-1"},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        if owner["kind"] == "Job":
            pod["spec"].pop("nodeName")
        created = self.store.create("pods", namespace, pod)
        containers = template["spec"]["containers"]
        command = tuple(containers[0].get("command") or ()) + tuple(containers[0].get("args") or ())
        self._pods[created["metadata"]["uid"]] = PodSim(
            created=now,
            instant=template_hash(template) in self._instant,
            job=owner["kind"] == "Job",
            command=command,
        )

    # --- Deployments ---------------------------------------------------------------

    def _sync_deployment(self, d: Obj, now: float) -> None:
        meta, spec = d["metadata"], d["spec"]
        key = (meta["namespace"], meta["name"])
        sim = self._deployments.setdefault(key, DeploymentSim(since=now))
        if sim.generation != meta["generation"]:
            sim.generation, sim.since, sim.key = meta["generation"], now, ()
        if spec.get("paused"):
            return
        template = spec["template"]
        h = template_hash(template)
        owned = self._owned("replicasets", d)
        new = next(
            (rs for rs in owned if rs["metadata"]["labels"].get("pod-template-hash") == h), None
        )
        top = max(
            (int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned),
            default=0,
        )
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SKIP_ANNOTATIONS
        }
        desired = int(spec.get("replicas", 1))
        if new is None:
            labels = {**(template["metadata"].get("labels") or {}), "pod-template-hash": h}
            rs_template = json.loads(json.dumps(template))
            rs_template["metadata"]["labels"] = labels
            selector = json.loads(json.dumps(spec["selector"]))
            selector.setdefault("matchLabels", {})["pod-template-hash"] = h
            rs = {
                "metadata": {
                    "name": f"{meta['name']}-{h}",
                    "labels": labels,
                    "annotations": {
                        **annotations,
                        REVISION: str(top + 1),
                        "deployment.kubernetes.io/desired-replicas": str(desired),
                        "deployment.kubernetes.io/max-replicas": str(desired + 1),
                    },
                    "ownerReferences": [_owner_ref(d)],
                },
                "spec": {"replicas": desired, "selector": selector, "template": rs_template},
            }
            self.store.create("replicasets", meta["namespace"], rs)
            sim.created_rs = rs["metadata"]["name"]
            owned = self._owned("replicasets", d)
            new = next(r for r in owned if r["metadata"]["labels"].get("pod-template-hash") == h)
        else:
            updated = json.loads(json.dumps(new))
            rs_ann = updated["metadata"].setdefault("annotations", {})
            old_rev = int(rs_ann.get(REVISION, "0"))
            if old_rev < top:  # an old ReplicaSet becomes the new one again (a rollback)
                history = [h for h in rs_ann.get(REVISION_HISTORY, "").split(",") if h]
                rs_ann[REVISION_HISTORY] = ",".join([*history, str(old_rev)])
                rs_ann[REVISION] = str(top + 1)
            for k in [k for k in rs_ann if k not in _SKIP_ANNOTATIONS and k not in annotations]:
                del rs_ann[k]
            rs_ann.update(annotations)
            updated["spec"]["replicas"] = desired
            self._set_meta_spec("replicasets", new, updated)
        revision = self.store.get("replicasets", meta["namespace"], new["metadata"]["name"])
        if revision is not None:
            number = revision["metadata"]["annotations"].get(REVISION)
            if number and (meta.get("annotations") or {}).get(REVISION) != number:
                updated_d = json.loads(json.dumps(d))
                updated_d["metadata"].setdefault("annotations", {})[REVISION] = number
                self._set_meta_spec("deployments", d, updated_d)
        new_available = int((new.get("status") or {}).get("availableReplicas") or 0)
        allowed = max(0, desired - new_available)
        olds = [rs for rs in owned if rs["metadata"]["name"] != new["metadata"]["name"]]
        olds.sort(key=lambda rs: -int(rs["metadata"].get("annotations", {}).get(REVISION, "0")))
        for rs in olds:
            keep = min(int(rs["spec"].get("replicas", 0)), allowed)
            allowed -= keep
            if keep != rs["spec"].get("replicas"):
                updated = json.loads(json.dumps(rs))
                updated["spec"]["replicas"] = keep
                self._set_meta_spec("replicasets", rs, updated)

    def _sync_replicaset_pods(self, rs: Obj, now: float) -> None:
        pods = self._owned("pods", rs)
        want = int(rs["spec"].get("replicas", 0))
        ns = rs["metadata"]["namespace"]
        for _ in range(want - len(pods)):
            self._create_pod(
                rs, ns, f"{rs['metadata']['name']}-{_suffix()}", rs["spec"]["template"], {}, now
            )
        if len(pods) > want:
            pods.sort(key=lambda p: (_pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in pods[: len(pods) - want]:
                self._delete("pods", pod)

    def _replicaset_status(self, rs: Obj) -> None:
        pods = self._owned("pods", rs)
        ready = sum(1 for p in pods if _pod_ready(p))
        status = _nonzero(
            {
                "replicas": len(pods),
                "fullyLabeledReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"]["generation"],
            },
            "replicas",
        )
        self._set_status("replicasets", rs, status)

    def _deployment_status(self, d: Obj, now: float) -> None:
        meta, spec = d["metadata"], d["spec"]
        sim = self._deployments.setdefault(
            (meta["namespace"], meta["name"]), DeploymentSim(since=now)
        )
        owned = self._owned("replicasets", d)
        h = template_hash(spec["template"])
        new = next(
            (rs for rs in owned if rs["metadata"]["labels"].get("pod-template-hash") == h), None
        )
        old_status = d.get("status") or {}
        if spec.get("paused") or new is None:
            status = {**old_status, "observedGeneration": meta["generation"]}
            self._set_status("deployments", d, status)
            return
        desired = int(spec.get("replicas", 1))

        def total(field_name: str, items: list[Obj]) -> int:
            return sum(int((rs.get("status") or {}).get(field_name) or 0) for rs in items)

        replicas = total("replicas", owned)
        updated = total("replicas", [new])
        ready = total("readyReplicas", owned)
        available = total("availableReplicas", owned)
        specced = sum(int(rs["spec"].get("replicas", 0)) for rs in owned)
        max_unavailable = desired // 4
        conditions = {c["type"]: c for c in old_status.get("conditions") or []}
        stamp = now_iso()

        def condition(kind: str, state: str, reason: str, message: str) -> None:
            prev = conditions.get(kind)
            changed = prev is None or prev["status"] != state
            same = prev is not None and prev["reason"] == reason and not changed
            conditions[kind] = {
                "type": kind,
                "status": state,
                "reason": reason,
                "message": message,
                "lastUpdateTime": prev["lastUpdateTime"] if same and prev else stamp,
                "lastTransitionTime": prev["lastTransitionTime"] if prev and not changed else stamp,
            }

        if available >= desired - max_unavailable:
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        rs_name = new["metadata"]["name"]
        key = (rs_name, replicas, updated, ready, available)
        complete = updated == desired and replicas == desired and available == desired
        prev_reason = (conditions.get("Progressing") or {}).get("reason")
        if complete:
            condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
            sim.key, sim.since = key, now
        elif sim.created_rs == rs_name and prev_reason not in (
            "NewReplicaSetCreated",
            "ReplicaSetUpdated",
            "ProgressDeadlineExceeded",
        ):
            condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{rs_name}"',
            )
            sim.key, sim.since = key, now
        elif key != sim.key:
            condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
            )
            if prev_reason == "ReplicaSetUpdated":
                conditions["Progressing"]["lastUpdateTime"] = stamp
            sim.key, sim.since = key, now
        else:
            deadline = spec.get("progressDeadlineSeconds")
            if (
                deadline is not None
                and now - sim.since > float(deadline)
                and prev_reason != "NewReplicaSetAvailable"
            ):
                condition(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                )
        status = _nonzero(
            {
                "observedGeneration": meta["generation"],
                "replicas": replicas,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": available,
                "unavailableReplicas": max(0, specced - available),
                "conditions": [
                    conditions[k] for k in ("Available", "Progressing") if k in conditions
                ],
            }
        )
        self._set_status("deployments", d, status)

    # --- StatefulSets --------------------------------------------------------------

    def _sync_statefulset(self, sts: Obj, now: float) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        ns, name = meta["namespace"], meta["name"]
        template = spec["template"]
        h = template_hash(template)
        revision_name = f"{name}-{h}"
        revisions = self._owned("controllerrevisions", sts)
        top = max((int(r["revision"]) for r in revisions), default=0)
        mine = next((r for r in revisions if r["metadata"]["name"] == revision_name), None)
        if mine is None:
            self.store.create(
                "controllerrevisions",
                ns,
                {
                    "metadata": {
                        "name": revision_name,
                        "labels": {
                            **(template["metadata"].get("labels") or {}),
                            "controller.kubernetes.io/hash": h,
                        },
                        "ownerReferences": [_owner_ref(sts)],
                    },
                    "data": {
                        "spec": {
                            "template": {**json.loads(json.dumps(template)), "$patch": "replace"}
                        }
                    },
                    "revision": top + 1,
                },
            )
        elif int(mine["revision"]) < top:
            self.store.update(
                "controllerrevisions",
                ns,
                revision_name,
                lambda cur: {
                    **cur,
                    "revision": top + 1,
                    "metadata": {**cur["metadata"], "resourceVersion": None},
                },
            )
        pods = {p["metadata"]["name"]: p for p in self._owned("pods", sts)}
        want = int(spec.get("replicas", 1))
        for pod_name, pod in pods.items():
            ordinal = int(pod_name.rsplit("-", 1)[1])
            if ordinal >= want:
                self._delete("pods", pod)
        live = [pods.get(f"{name}-{i}") for i in range(want)]
        for i, slot in enumerate(live):
            if slot is None:
                if all(p is not None and _pod_ready(p) for p in live[:i]):
                    labels = {
                        "controller-revision-hash": revision_name,
                        "statefulset.kubernetes.io/pod-name": f"{name}-{i}",
                    }
                    self._create_pod(sts, ns, f"{name}-{i}", template, labels, now)
                return  # OrderedReady: one pod at a time
        if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            return
        # Rolling update, highest ordinal first, and only while every pod is ready: a pod
        # stuck on a bad revision blocks the rollout, even after the template is reverted.
        if not all(p is not None and _pod_ready(p) for p in live):
            return
        partition = int(
            ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0
        )
        for i in reversed(range(partition, want)):
            current = live[i]
            if (
                current is not None
                and current["metadata"]["labels"].get("controller-revision-hash") != revision_name
            ):
                self._delete("pods", current)
                return

    def _statefulset_status(self, sts: Obj) -> None:
        spec = sts["spec"]
        name = sts["metadata"]["name"]
        update_revision = f"{name}-{template_hash(spec['template'])}"
        pods = self._owned("pods", sts)
        ready = sum(1 for p in pods if _pod_ready(p))
        old = sts.get("status") or {}
        current_revision = old.get("currentRevision") or update_revision
        updated = sum(
            1
            for p in pods
            if p["metadata"]["labels"].get("controller-revision-hash") == update_revision
        )
        want = int(spec.get("replicas", 1))
        if updated == want and ready == want:
            current_revision = update_revision
        current = sum(
            1
            for p in pods
            if p["metadata"]["labels"].get("controller-revision-hash") == current_revision
        )
        status = _nonzero(
            {
                "observedGeneration": sts["metadata"]["generation"],
                "replicas": len(pods),
                "readyReplicas": ready,
                "currentReplicas": current,
                "updatedReplicas": updated,
                "availableReplicas": ready,
                "currentRevision": current_revision,
                "updateRevision": update_revision,
                "collisionCount": 0,
            },
            "replicas",
            "availableReplicas",
        )
        self._set_status("statefulsets", sts, status)

    # --- Jobs ----------------------------------------------------------------------

    def _sync_job(self, job: Obj, now: float) -> None:
        meta, spec = job["metadata"], job["spec"]
        uid = meta["uid"]
        if uid in self._job_finished:
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None and now - self._job_finished[uid] >= float(ttl):
                self._delete("jobs", job)
            return
        if spec.get("suspend"):
            return
        self._job_started.setdefault(uid, now)
        pods = self._owned("pods", job)
        active = [p for p in pods if p["status"].get("phase") not in ("Succeeded", "Failed")]
        failed = sum(1 for p in pods if p["status"].get("phase") == "Failed")
        succeeded = sum(1 for p in pods if p["status"].get("phase") == "Succeeded")
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and now - self._job_started[uid] > float(deadline):
            for pod in active:
                self._delete("pods", pod)
            return
        if (
            not active
            and succeeded < int(spec.get("completions") or 1)
            and failed <= int(spec.get("backoffLimit", 6))
        ):
            labels = {
                "batch.kubernetes.io/job-name": meta["name"],
                "job-name": meta["name"],
                "batch.kubernetes.io/controller-uid": uid,
                "controller-uid": uid,
            }
            self._create_pod(
                job, meta["namespace"], f"{meta['name']}-{_suffix()}", spec["template"], labels, now
            )

    def _job_status(self, job: Obj, now: float) -> None:
        meta, spec = job["metadata"], job["spec"]
        uid = meta["uid"]
        old = job.get("status") or {}
        if uid in self._job_finished or uid not in self._job_started:
            return
        pods = self._owned("pods", job)
        active = [p for p in pods if p["status"].get("phase") not in ("Succeeded", "Failed")]
        failed = sum(1 for p in pods if p["status"].get("phase") == "Failed")
        succeeded = sum(1 for p in pods if p["status"].get("phase") == "Succeeded")
        stamp = now_iso()
        conditions: list[dict[str, Any]] = []

        def finish(kind: str, reason: str, message: str) -> None:
            interim = "SuccessCriteriaMet" if kind == "Complete" else "FailureTarget"
            for t in (interim, kind):
                conditions.append(
                    {
                        "type": t,
                        "status": "True",
                        "reason": reason,
                        "message": message,
                        "lastProbeTime": stamp,
                        "lastTransitionTime": stamp,
                    }
                )
            self._job_finished[uid] = now

        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and now - self._job_started[uid] > float(deadline):
            finish("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
            active = []
        elif succeeded >= int(spec.get("completions") or 1):
            finish("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        elif failed > int(spec.get("backoffLimit", 6)):
            finish("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        status = _nonzero(
            {
                "startTime": old.get("startTime") or stamp,
                "active": len(active),
                "ready": sum(1 for p in active if _pod_ready(p)),
                "succeeded": succeeded,
                "failed": failed,
                "conditions": conditions,
                "uncountedTerminatedPods": {},
            },
            "uncountedTerminatedPods",
        )
        if conditions and conditions[-1]["type"] == "Complete":
            status["completionTime"] = stamp
        self._set_status("jobs", job, status)

    # --- Pods ----------------------------------------------------------------------

    def _advance_pod(self, pod: Obj, now: float) -> None:
        meta = pod["metadata"]
        sim = self._pods.get(meta["uid"])
        if sim is None or pod["status"].get("phase") in ("Succeeded", "Failed"):
            return
        elapsed = now - sim.created
        start = 0.0 if sim.instant else self.timing.pod_start
        status = self._pod_status(pod, sim, elapsed, start)
        self._set_status("pods", pod, status)

    def _pod_status(self, pod: Obj, sim: PodSim, elapsed: float, start: float) -> dict[str, Any]:
        _meta, spec = pod["metadata"], pod["spec"]
        stamp = now_iso()
        containers = spec["containers"]
        kinds = {c["name"]: sc.scenario(c["image"]) for c in containers}

        def cond(kind: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
            out: dict[str, Any] = {
                "type": kind,
                "status": "True" if ok else "False",
                "lastTransitionTime": stamp,
            }
            if reason:
                out["reason"] = reason
            if message:
                out["message"] = message
            return out

        if sc.UNSCHEDULABLE in kinds.values():
            return {
                "phase": "Pending",
                "qosClass": "BestEffort",
                "conditions": [
                    cond(
                        "PodScheduled",
                        False,
                        "Unschedulable",
                        _UNSCHEDULABLE,
                    )
                ],
            }
        statuses = []
        for c in containers:
            statuses.append(self._container_status(pod, sim, c, kinds[c["name"]], elapsed, start))
        states = [next(iter(s["state"])) for s in statuses]
        if sim.job and all(state == "terminated" for state in states):
            failed = any(s["state"]["terminated"]["exitCode"] for s in statuses)
            pod_phase = "Failed" if failed else "Succeeded"
        elif any(s["state"].get("waiting", {}).get("reason") in _PENDING_REASONS for s in statuses):
            pod_phase = "Pending"
        else:
            pod_phase = "Running"
        ready = all(s["ready"] for s in statuses) and pod_phase == "Running"
        for s in statuses:  # a previous run that was the same container: keep the start time stable
            old = next(
                (
                    o
                    for o in (pod["status"].get("containerStatuses") or [])
                    if o["name"] == s["name"]
                ),
                None,
            )
            if old is not None:
                _keep_times(old, s)
        old_conditions = {c["type"]: c for c in pod["status"].get("conditions") or []}
        unready = " ".join(s["name"] for s in statuses if not s["ready"])
        why = "" if ready else f"containers with unready status: [{unready}]"
        not_ready = "" if ready else "ContainersNotReady"
        conditions = [
            cond("PodScheduled", True),
            cond("Initialized", True),
            cond("ContainersReady", ready, not_ready, why),
            cond("Ready", ready, not_ready, why),
        ]
        for c in conditions:
            old_c = old_conditions.get(c["type"])
            if old_c is not None and old_c.get("status") == c["status"]:
                c["lastTransitionTime"] = old_c["lastTransitionTime"]
        return {
            "phase": pod_phase,
            "qosClass": "BestEffort",
            "hostIP": "10.0.0.1",
            "podIP": f"10.1.{random.randint(0, 250)}.{random.randint(1, 250)}"
            if not pod["status"].get("podIP")
            else pod["status"]["podIP"],
            "startTime": pod["status"].get("startTime") or stamp,
            "conditions": conditions,
            "containerStatuses": statuses,
        }

    def _container_status(
        self, pod: Obj, sim: PodSim, c: dict[str, Any], kind: str, elapsed: float, start: float
    ) -> dict[str, Any]:
        meta = pod["metadata"]
        name, image = c["name"], c["image"]
        stamp = now_iso()
        st: dict[str, Any] = {
            "name": name,
            "image": image,
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": False,
        }
        log_key = (meta["namespace"], meta["name"], name)
        if elapsed < start:
            st["state"] = {"waiting": {"reason": "ContainerCreating"}}
            return st
        if kind == sc.NOPULL:
            if elapsed < start * 2:
                st["state"] = {
                    "waiting": {
                        "reason": "ErrImagePull",
                        "message": "rpc error: code = NotFound desc = failed to pull and "
                        f'unpack image "{image}": failed to resolve reference "{image}": '
                        f"{image}: not found",
                    }
                }
            else:
                st["state"] = {
                    "waiting": {
                        "reason": "ImagePullBackOff",
                        "message": f'Back-off pulling image "{image}"',
                    }
                }
            return st
        if kind == sc.CONFIG_ERROR:
            st["state"] = {
                "waiting": {
                    "reason": "CreateContainerConfigError",
                    "message": 'configmap "app-config" not found',
                }
            }
            return st
        digest = hashlib.sha256(image.encode()).hexdigest()
        st["imageID"] = f"{image.rsplit(':', 1)[0]}@sha256:{digest}"
        run = elapsed - start
        running = {"running": {"startedAt": stamp}}
        if sim.job:
            duration = self.timing.slow_job if kind == sc.SLOW_MIGRATE else self.timing.job_run
            failing = kind in (sc.BAD_MIGRATE, sc.CRASHLOOP, sc.OOM)
            full = _job_log(image, sim.command, kind).splitlines(keepends=True)
            shown = len(full) if run >= duration else max(2, int(len(full) * run / duration))
            self.logs[log_key] = "".join(full[:shown])
            if run < duration:
                st.update(ready=True, started=True, state=running)
                return st
            code = 137 if kind == sc.OOM else (1 if failing else 0)
            reason = "OOMKilled" if kind == sc.OOM else ("Error" if failing else "Completed")
            st["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": reason,
                    "startedAt": stamp,
                    "finishedAt": stamp,
                }
            }
            return st
        if kind in (sc.CRASHLOOP, sc.OOM):
            restarts = int(run / max(start, 0.5)) + 1
            reason, code = ("OOMKilled", 137) if kind == sc.OOM else ("Error", 1)
            backoff = min(10 * 2**restarts, 300)
            st.update(
                restartCount=restarts,
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {backoff}s restarting failed container={name} "
                        f"pod={meta['name']}_{meta['namespace']}({meta['uid']})",
                    }
                },
                lastState={
                    "terminated": {
                        "exitCode": code,
                        "reason": reason,
                        "startedAt": stamp,
                        "finishedAt": stamp,
                    }
                },
            )
            crash = "Killed" if kind == sc.OOM else "panic: cannot reach the database (scripted)"
            self.previous_logs[log_key] = f"starting {image}\n{crash}\n"
            self.logs[log_key] = f"starting {image}\n"
            return st
        if kind == sc.NOT_READY:
            st.update(started=True, state=running)
            self.logs.setdefault(log_key, f"starting {image}\nwaiting for the database\n")
            return st
        st.update(ready=True, started=True, state=running)
        self.logs.setdefault(log_key, f"starting {image}\nlistening on :8080\n")
        return st


def _keep_times(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Timestamps of an unchanged state stay as they were, so an unchanged pod is not
    rewritten (and does not bump the resourceVersion) on every controller pass."""
    for which in ("state", "lastState"):
        for key, value in (new.get(which) or {}).items():
            prev = (old.get(which) or {}).get(key)
            if isinstance(prev, dict) and isinstance(value, dict):
                for t in ("startedAt", "finishedAt"):
                    if t in prev and t in value:
                        value[t] = prev[t]


def _pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _job_log(image: str, command: tuple[str, ...], kind: str) -> str:
    lines = [f"$ {' '.join(command) or '(image entrypoint)'}", f"using {image}"]
    lines += [
        "== 20261126090000 AddReleaseNotesToWidgets: migrating ======================",
        "-- add_column(:widgets, :release_notes, :text)",
        "   -> 0.0042s",
    ]
    if kind == sc.BIG_LOG:
        lines += [f"-- backfill batch {i:06d}: 1000 rows updated" for i in range(10000)]
    if kind in (sc.BAD_MIGRATE, sc.CRASHLOOP, sc.OOM):
        lines += [
            "rake aborted!",
            "StandardError: An error has occurred, this and all later migrations canceled:",
            'PG::DuplicateColumn: ERROR:  column "release_notes" of relation "widgets" '
            "already exists",
        ]
    else:
        lines.append("== 20261126090000 AddReleaseNotesToWidgets: migrated (0.0051s) =============")
    return "\n".join(lines) + "\n"
