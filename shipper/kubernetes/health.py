"""The Kubernetes side's own health during a bake.

Passing means every workload runs the version, its rollout reads complete, none of the
new pods shows a fatal problem, and no new pod's restart count grew since the previous
reading (a pod that restarts every few minutes is ready most of the time, so readiness
alone would miss it). An unreachable API reads as inconclusive, never as a pass.

One measurement costs one namespace-wide list per kind it needs (the workloads' kinds,
ReplicaSets when a Deployment is watched, pods when a Deployment or StatefulSet is), all
sent at once: a constant number of calls and about one round trip, whatever the number of
workloads. Reading each workload with its own get and lists cost three calls per
Deployment (223 per measurement for 75 workloads, 3 to 4 s at 50 ms a call even 8 at a
time), so a single measurement outlasted the bake's interval many times over. The lists
carry no selector: each workload's new ReplicaSet and pods are picked out of them by
controller ownerReference, as `pods.new_pods` does, so a stray object sharing the labels
is never blamed; the price is that unrelated objects in the namespace are transferred too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from shipper.core.model import Measurement, MeasurementStatus, TargetState, Verdict
from shipper.errors import PlatformUnavailable, ShipError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.pods import annotations_of, controlled_by, uid
from shipper.kubernetes.rollout import (
    Graces,
    pod_problems,
    read_deployment,
    read_statefulset,
    restart_counts,
)
from shipper.kubernetes.workloads import REVISION, Workload, identity_of, version_of

_NO_GRACE = Graces(0, 0, 0)


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


class Listing:
    """One namespace-wide list per kind, taken together: what a measurement reads."""

    def __init__(self, items: dict[str, list[Obj]]) -> None:
        self.items = items
        self._by_name = {kind: {name_of(o): o for o in objs} for kind, objs in items.items()}

    def find(self, kind: str, name: str) -> Obj | None:
        return self._by_name.get(kind, {}).get(name)

    def new_pods(self, w: Workload, obj: Obj) -> list[Obj]:
        """The pods of the new ReplicaSet (Deployment) or update revision (StatefulSet);
        none while the controller has not made them yet (the rule of `pods.new_pods`)."""
        pods = self.items.get("pod", [])
        if w.kind == "statefulset":
            revision = (obj.get("status") or {}).get("updateRevision")
            if not revision:
                return []
            return [
                p
                for p in pods
                if controlled_by(p, uid(obj))
                and labels_of(p).get("controller-revision-hash") == revision
            ]
        wanted = annotations_of(obj).get(REVISION)
        if not wanted:
            return []
        new = next(
            (
                rs
                for rs in self.items.get("replicaset", [])
                if controlled_by(rs, uid(obj)) and annotations_of(rs).get(REVISION) == wanted
            ),
            None,
        )
        template_hash = labels_of(new).get("pod-template-hash") if new is not None else None
        if new is None or not template_hash:
            return []
        return [
            p
            for p in pods
            if controlled_by(p, uid(new)) and labels_of(p).get("pod-template-hash") == template_hash
        ]


class HealthReader:
    """Reads the side's health; remembers restart counts between readings."""

    def __init__(
        self,
        api: KubeApi,
        workloads: Sequence[Workload],
        pattern: re.Pattern[str],
        *,
        on_delete: bool = False,
        seen: Callable[[str, Sequence[Obj]], None] | None = None,
    ):
        self.api = api
        self._seen = seen  # told of every list taken, by kind
        self.on_delete = on_delete  # kubernetes.statefulset_partitioned: OnDelete is allowed
        self.workloads = list(workloads)
        self.pattern = pattern
        self._restarts: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        kinds = list(dict.fromkeys(w.kind for w in self.workloads))
        if "deployment" in kinds:
            kinds.append("replicaset")
        if {"deployment", "statefulset"} & set(kinds):
            kinds.append("pod")
        self.kinds = kinds

    def read(self, expected: Sequence[TargetState]) -> Measurement:
        """Every workload running what `expected` records for it (by its images, never a
        label), rolled out, fully available, no restarts climbing.

        The verdict is the first problem in workload order."""
        wanted = {s.target: s for s in expected}
        try:
            listing = self._list()
        except PlatformUnavailable as exc:
            return Measurement(MeasurementStatus.INCONCLUSIVE, "unreachable", str(exc))
        except ShipError as exc:
            return Measurement(MeasurementStatus.FAILED, "error", str(exc))
        parts: list[str] = []
        for w in self.workloads:
            if w.target not in wanted:
                continue
            outcome = self._read_one(listing, w, wanted[w.target])
            if isinstance(outcome, Measurement):
                return outcome
            parts.append(outcome)
        return Measurement(
            MeasurementStatus.SUCCESSFUL, "; ".join(parts), "all workloads available"
        )

    def _list(self) -> Listing:
        if not self.kinds:
            return Listing({})
        with ThreadPoolExecutor(
            max_workers=len(self.kinds), thread_name_prefix="kube-health"
        ) as pool:
            lists = list(pool.map(lambda kind: self.api.list(kind)[0], self.kinds))
        if self._seen is not None:
            for kind, items in zip(self.kinds, lists, strict=True):
                self._seen(kind, items)
        return Listing(dict(zip(self.kinds, lists, strict=True)))

    def _read_one(self, listing: Listing, w: Workload, expected: TargetState) -> Measurement | str:
        obj = listing.find(w.kind, w.name)
        if obj is None:
            return Measurement(
                MeasurementStatus.FAILED,
                "missing",
                f"{w.ref} not found in namespace {self.api.namespace}",
            )
        chosen, _ = w.selected(obj)
        images = w.images(obj)
        if identity_of(images, chosen) is None or identity_of(images, chosen) != expected.identity:
            running = version_of(images, chosen, self.pattern) or "an unknown version"
            shown = ", ".join(f"{c}={images.get(c, '')}" for c in chosen) or "no container"
            wanted = expected.version or expected.identity or "the recorded template"
            return Measurement(
                MeasurementStatus.FAILED,
                f"{w.ref}={running}",
                f"{w.ref} runs {shown}, not {wanted}",
            )
        if w.kind == "cronjob":
            return f"{w.ref} ok"
        generation = int(obj.get("metadata", {}).get("generation") or 0)
        if w.kind == "deployment":
            reading = read_deployment(obj, generation)
        else:
            reading = read_statefulset(obj, generation, on_delete=self.on_delete)
        if reading.verdict is not Verdict.SUCCEEDED:
            return Measurement(
                MeasurementStatus.FAILED, reading.message, f"{w.ref}: {reading.message}"
            )
        pods = listing.new_pods(w, obj)
        fatal = [p for pod in pods for p in pod_problems(pod, _NO_GRACE)]
        if fatal:
            return Measurement(MeasurementStatus.FAILED, fatal[0].reason, fatal[0].describe())
        climbing = self._climbing(w, pods)
        if climbing:
            return Measurement(MeasurementStatus.FAILED, "restarts", f"{w.ref}: {climbing}")
        return f"{w.ref} {reading.message}{last_condition(obj)}"

    def _climbing(self, w: Workload, pods: list[Obj]) -> str:
        counts = restart_counts(pods)
        with self._lock:
            before = self._restarts.get(w.ref, {})
            self._restarts[w.ref] = counts
        grew = [
            f"{pod} {before[pod]}->{n}"
            for pod, n in counts.items()
            if pod in before and n > before[pod]
        ]
        return f"restarts climbing: {', '.join(grew)}" if grew else ""


def last_condition(obj: Obj) -> str:
    """The workload's most recent status condition, for people beside available/desired:
    ` · Progressing=True NewReplicaSetAvailable`; "" when it reports none. The latest by
    lastUpdateTime (else lastTransitionTime); ties keep the API's order, the last listed."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    best: tuple[str, int] | None = None
    for index, cond in enumerate(conditions):
        if not isinstance(cond, dict) or not cond.get("type"):
            continue
        when = str(cond.get("lastUpdateTime") or cond.get("lastTransitionTime") or "")
        if best is None or (when, index) >= best:
            best = (when, index)
    if best is None:
        return ""
    cond = conditions[best[1]]
    reason = f" {cond['reason']}" if cond.get("reason") else ""
    return f" · {cond['type']}={cond.get('status', 'Unknown')}{reason}"
