"""What a snapshot records per workload, and how a person would put it back by hand.

The record is the whole pod template exactly as the API server returned it (defaults
included), which is what a rollback writes back, plus the images, the revision, the
generation and the resourceVersion, for the ledger and for people reading it.
"""

from __future__ import annotations

import re

from shipper.core.model import JSONDict, TargetState
from shipper.kubernetes.api import Obj
from shipper.kubernetes.errors import Where
from shipper.kubernetes.pods import annotations_of
from shipper.kubernetes.workloads import REVISION, Workload, identity_of, version_of


def state_of(w: Workload, obj: Obj, where: Where, pattern: re.Pattern[str]) -> TargetState:
    """Everything needed to put this exact workload state back, as the API shows it."""
    chosen, _ = w.selected(obj)
    images = w.images(obj)
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    if w.kind == "deployment":
        revision = annotations_of(obj).get(REVISION)
    elif w.kind == "statefulset":
        revision = status.get("currentRevision")
    else:
        revision = None
    detail: JSONDict = {
        "kind": w.kind,
        "name": w.name,
        "namespace": where.namespace,
        "context": where.context,
        "containers": list(chosen),
        "images": dict(images),
        "revision": revision,
        "generation": int(meta.get("generation") or 0),
        "resourceVersion": meta.get("resourceVersion"),
        "template": w.template(obj),
    }
    if w.kind == "statefulset":
        detail["updateRevision"] = status.get("updateRevision")
    return TargetState(
        target=w.target,
        version=version_of(images, chosen, pattern) if chosen else None,
        detail=detail,
        identity=identity_of(images, chosen),
        revision=f"rev {revision if revision is not None else detail['generation']}",
    )


def manual_steps(to: TargetState, where: Where) -> str:
    """The kubectl command that puts the recorded images back (and waits for it)."""
    kind = str(to.detail.get("kind") or to.target.name.split("/")[0])
    name = str(to.detail.get("name") or to.target.name.split("/")[-1])
    images = to.detail.get("images")
    containers = to.detail.get("containers")
    pairs = [
        f"{c}={images[c]}"
        for c in (containers if isinstance(containers, list) else [])
        if isinstance(images, dict) and isinstance(c, str) and c in images
    ]
    context = str(to.detail.get("context") or where.context)
    namespace = str(to.detail.get("namespace") or where.namespace)
    flags = (
        f"--context {context} " if context and context != "in-cluster" else ""
    ) + f"-n {namespace}"
    if not pairs:
        return f"kubectl {flags} rollout undo {kind}/{name} (no recorded images: check first)"
    steps = f"kubectl {flags} set image {kind}/{name} {' '.join(pairs)}"
    if kind != "cronjob":
        steps += f" && kubectl {flags} rollout status {kind}/{name}"
    return steps
