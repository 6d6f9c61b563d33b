"""The fake cluster's apps controllers: Deployments (through ReplicaSets) and StatefulSets
(through ControllerRevisions), with the status fields, conditions and reasons of the
real deployment and StatefulSet controllers.
"""

from __future__ import annotations

import json

from shipper.sandbox.kubeapi.base import (
    REVISION,
    REVISION_HISTORY,
    SKIP_ANNOTATIONS,
    ControllerBase,
    DeploymentSim,
    nonzero,
    owner_ref,
    pod_ready,
    suffix,
    template_hash,
)
from shipper.sandbox.kubeapi.store import Obj, now_iso


class AppsControllers(ControllerBase):
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
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in SKIP_ANNOTATIONS
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
                    "ownerReferences": [owner_ref(d)],
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
            for k in [k for k in rs_ann if k not in SKIP_ANNOTATIONS and k not in annotations]:
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
                rs, ns, f"{rs['metadata']['name']}-{suffix()}", rs["spec"]["template"], {}, now
            )
        if len(pods) > want:
            pods.sort(key=lambda p: (pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in pods[: len(pods) - want]:
                self._delete("pods", pod)

    def _replicaset_status(self, rs: Obj) -> None:
        pods = self._owned("pods", rs)
        ready = sum(1 for p in pods if pod_ready(p))
        status = nonzero(
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
        if spec.get("paused"):
            # The controller's own bookkeeping: Progressing goes Unknown/DeploymentPaused
            # and no progress deadline counts while paused.
            kept = [c for c in old_status.get("conditions") or [] if c["type"] != "Progressing"]
            prev = next(
                (c for c in old_status.get("conditions") or [] if c["type"] == "Progressing"), None
            )
            stamp = now_iso()
            paused = {
                "type": "Progressing",
                "status": "Unknown",
                "reason": "DeploymentPaused",
                "message": "Deployment is paused",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
            }
            if prev is not None and prev.get("reason") == "DeploymentPaused":
                paused = prev
            status = {
                **old_status,
                "observedGeneration": meta["generation"],
                "conditions": [*kept, paused],
            }
            self._set_status("deployments", d, status)
            sim.key, sim.since = (), now
            return
        if new is None:
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
        status = nonzero(
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
                        "ownerReferences": [owner_ref(sts)],
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
                if all(p is not None and pod_ready(p) for p in live[:i]):
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
        if not all(p is not None and pod_ready(p) for p in live):
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
        ready = sum(1 for p in pods if pod_ready(p))
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
        status = nonzero(
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
