"""Which pods of a partitioned or OnDelete StatefulSet still run the old revision.

Such a StatefulSet (allowed by `kubernetes.statefulset_partitioned`) reads as rolled out
while some pods keep the old template; the result names them, so nobody reads the new
template as the new version everywhere.
"""

from __future__ import annotations

import logging

from shipper.errors import Interrupted, LockLost, ShipError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.pods import controlled_by, selector_string, uid
from shipper.kubernetes.preflight import Rules
from shipper.kubernetes.workloads import Workload

log = logging.getLogger(__name__)


def left_behind(api: KubeApi, w: Workload, obj: Obj, rules: Rules) -> str | None:
    """The pods of `obj` still on the old revision, by name. None when the shape doesn't
    apply or every pod is on the new revision; a count when the pods can't be listed (a
    diagnostics right)."""
    if w.kind != "statefulset" or not rules.statefulset_partitioned:
        return None
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    on_delete = strategy.get("type") == "OnDelete"
    if not on_delete and partition <= 0:
        return None
    why = "until they are deleted (OnDelete)" if on_delete else f"(partition {partition})"
    new = str(status.get("updateRevision") or "")
    try:
        selector = selector_string(spec.get("selector"))
        pods, _ = api.list("pod", label_selector=selector)
    except (Interrupted, LockLost):
        raise
    except ShipError as exc:  # a 403 included: listing pods is a diagnostics right
        log.info("listing the pods of %s failed: %s", w.ref, exc)
        desired = int(spec.get("replicas", 1))
        old = max(0, desired - int(status.get("updatedReplicas") or 0))
        if not old:
            return None
        return f"{old} of {desired} pods still run the old revision {why}"
    mine = [p for p in pods if controlled_by(p, uid(obj))]
    old_pods = sorted(
        (
            str(p["metadata"]["name"])
            for p in mine
            if ((p.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash")
            != new
        ),
        key=_ordinal,
    )
    if not old_pods:
        return None
    revisions = sorted(
        {
            str(((p.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash"))
            for p in mine
            if str(p["metadata"]["name"]) in old_pods
        }
    )
    return (
        f"{len(old_pods)} of {len(mine)} pods still run the old revision "
        f"({', '.join(revisions)}) {why}: {', '.join(old_pods)}"
    )


def _ordinal(pod: str) -> tuple[int, str]:
    """StatefulSet pods in ordinal order: db-2 before db-10."""
    head, _, tail = pod.rpartition("-")
    return (int(tail), head) if tail.isdigit() else (-1, pod)
