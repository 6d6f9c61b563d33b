"""Finding the pods a rollout created, and reading them for early failure.

A Deployment's new pods are those of the ReplicaSet whose revision annotation equals the
Deployment's (krane's "latest ReplicaSet"); a StatefulSet's are those labelled with its
`updateRevision`. Both are filtered by controller ownerReference, so a stray pod that
happens to share the labels is never blamed.
"""

from __future__ import annotations

from typing import Any

from shipper.core.model import Verdict
from shipper.errors import ShipError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.rollout import (
    Graces,
    PodProblem,
    ProblemClock,
    Reading,
    pod_problems,
    replica_failure,
)
from shipper.kubernetes.workloads import REVISION, Workload
from shipper.ports import Clock

_WITH_LOG = {"CrashLoopBackOff", "OOMKilled", "PodFailed", "ContainerCannotRun"}


def selector_string(selector: Any) -> str:
    """A LabelSelector (`matchLabels`, `matchExpressions`) as `?labelSelector=` text."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def controlled_by(obj: Obj, owner_uid: Any) -> bool:
    return any(
        ref.get("controller") and ref.get("uid") == owner_uid
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


def annotations_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def uid(obj: Obj) -> Any:
    return (obj.get("metadata") or {}).get("uid")


def new_pods(
    api: KubeApi, w: Workload, obj: Obj, known: dict[str, str] | None = None
) -> list[Obj] | None:
    """The pods of the new ReplicaSet (Deployment) or update revision (StatefulSet);
    None while the controller has not made them yet.

    `known` caches the new ReplicaSet for one rollout, saving a list call per look."""
    selector = selector_string((obj.get("spec") or {}).get("selector"))
    if w.kind == "statefulset":
        revision = (obj.get("status") or {}).get("updateRevision")
        if not revision:
            return None
        pods, _ = api.list("pod", label_selector=f"{selector},controller-revision-hash={revision}")
        return [p for p in pods if controlled_by(p, uid(obj))]
    wanted = annotations_of(obj).get(REVISION)
    if not wanted:
        return None
    cache = known if known is not None else {}
    if cache.get("revision") != wanted:
        sets, _ = api.list("replicaset", label_selector=selector)
        new = next(
            (
                rs
                for rs in sets
                if controlled_by(rs, uid(obj)) and annotations_of(rs).get(REVISION) == wanted
            ),
            None,
        )
        labels = ((new or {}).get("metadata") or {}).get("labels") or {}
        if new is None or not labels.get("pod-template-hash"):
            return None
        cache.update(revision=wanted, hash=labels["pod-template-hash"], uid=str(uid(new)))
    pods, _ = api.list("pod", label_selector=f"{selector},pod-template-hash={cache['hash']}")
    return [p for p in pods if controlled_by(p, cache["uid"])]


class PodWatch:
    """One rollout's look at its new pods, called between watch events.

    Returns a FAILED reading once a problem has outlasted its grace; for a container
    that crashed, the last lines of its previous run's log are added, since "exit code
    1" alone rarely tells on-call what broke.
    """

    def __init__(
        self, api: KubeApi, w: Workload, generation: int, graces: Graces, clock: Clock
    ) -> None:
        self.api = api
        self.w = w
        self.generation = generation
        self.graces = graces
        self.clock = clock
        self._problems = ProblemClock()
        self._known: dict[str, str] = {}

    def __call__(self, obj: Obj) -> Reading | None:
        if int((obj.get("status") or {}).get("observedGeneration") or 0) < self.generation:
            return None
        found: list[PodProblem] = []
        failure = replica_failure(obj) if self.w.kind == "deployment" else None
        if failure:  # quota or admission refusing the pods: it will not fix itself
            found.append(
                PodProblem(self.w.ref, "", "ReplicaFailure", failure, self.graces.persistent)
            )
        pods = new_pods(self.api, self.w, obj, self._known) or []
        found += [p for pod in pods for p in pod_problems(pod, self.graces)]
        fatal = self._problems.fatal(found, self.clock.monotonic())
        if fatal is None:
            return None
        return Reading(Verdict.FAILED, fatal.describe() + self._last_log(fatal))

    def _last_log(self, problem: PodProblem) -> str:
        if problem.reason not in _WITH_LOG or not problem.container:
            return ""
        try:
            text = self.api.pod_log(problem.pod, problem.container, tail=3, previous=True)
        except ShipError:
            return ""  # the log is a courtesy: never let it hide the failure itself
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        return f"; last log: {' | '.join(lines)[:300]}" if lines else ""
