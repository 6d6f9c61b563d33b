"""Reading a rollout from the objects the API returns. Pure: dicts in, verdicts out.

The rules are kubectl's `rollout status` and the deployment controller's own predicates,
with krane's lessons on pods (see the Kubernetes reference, sections a and b):

- Nothing is trusted until `status.observedGeneration` reaches the generation our own
  patch produced: before that, every count and condition may describe the old spec,
  including a stale ProgressDeadlineExceeded from an earlier failed rollout.
- Missing counters are 0 (the API omits zeros).
- Anything this module does not recognise reads as PENDING, never as success: the
  overall timeout then decides, which fails safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shipper.core.model import Verdict

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Reading:
    """One look at a workload: the verdict so far and a line for the live view."""

    verdict: Verdict
    message: str
    ready: int = 0
    desired: int = 0


def _n(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _condition(obj: Obj, kind: str) -> Mapping[str, Any]:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


def observed(obj: Obj, generation: int) -> bool:
    return _n((obj.get("status") or {}).get("observedGeneration")) >= generation


def read_deployment(obj: Obj, generation: int) -> Reading:
    """kubectl's rule, plus the controller's own failure reasons.

    COMPLETE needs updated == desired, no old replicas left, and all updated available.
    """
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = _n(spec.get("replicas", 1))
    updated = _n(status.get("updatedReplicas"))
    replicas = _n(status.get("replicas"))
    available = _n(status.get("availableReplicas"))
    if not observed(obj, generation):
        return Reading(Verdict.PENDING, "waiting for the new spec to be observed", 0, desired)
    if spec.get("paused"):
        return Reading(
            Verdict.FAILED, "the Deployment is paused (spec.paused): nothing will roll out"
        )
    progressing = _condition(obj, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return Reading(
            Verdict.FAILED,
            f"ProgressDeadlineExceeded: {progressing.get('message') or 'no progress'} "
            f"({available}/{desired} available)",
            available,
            desired,
        )
    if progressing.get("reason") == "ReplicaSetCreateError":
        return Reading(
            Verdict.FAILED, f"ReplicaSetCreateError: {progressing.get('message') or ''}".strip()
        )
    if updated < desired:
        return Reading(
            Verdict.PENDING, f"{updated} of {desired} new replicas updated", available, desired
        )
    if replicas > updated:
        return Reading(
            Verdict.PENDING,
            f"{replicas - updated} old replicas pending termination",
            available,
            desired,
        )
    if available < updated:
        return Reading(
            Verdict.PENDING,
            f"{available} of {updated} updated replicas available",
            available,
            desired,
        )
    return Reading(Verdict.SUCCEEDED, f"{available}/{desired} available", available, desired)


def replica_failure(obj: Obj) -> str | None:
    """The message of a True ReplicaFailure condition (quota, admission), if any."""
    c = _condition(obj, "ReplicaFailure")
    if c.get("status") == "True":
        return f"{c.get('reason') or 'ReplicaFailure'}: {c.get('message') or ''}".strip()
    return None


def read_statefulset(obj: Obj, generation: int, *, on_delete: bool = False) -> Reading:
    """kubectl's rule with Helm's revision check: ready == desired, all updated past the
    partition, and (partition 0) currentRevision == updateRevision.

    `updateStrategy: OnDelete` fails unless `on_delete` (the pipeline opted in with
    `kubernetes.statefulset_partitioned`): then the template observed and every pod
    ready, on whichever revision, is done; the pods change when someone deletes them."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = _n(spec.get("replicas", 1))
    ready = _n(status.get("readyReplicas"))
    updated = _n(status.get("updatedReplicas"))
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete" and not on_delete:
        return Reading(
            Verdict.FAILED,
            "updateStrategy OnDelete: pods change only when deleted; ship will not wait on it",
        )
    if _n(status.get("observedGeneration")) == 0 or not observed(obj, generation):
        return Reading(Verdict.PENDING, "waiting for the new spec to be observed", 0, desired)
    if ready < desired:
        return Reading(Verdict.PENDING, f"{ready} of {desired} pods ready", ready, desired)
    if strategy.get("type") == "OnDelete":
        return Reading(
            Verdict.SUCCEEDED,
            f"template updated (OnDelete: pods change when deleted), {ready}/{desired} ready",
            ready,
            desired,
        )
    partition = _n((strategy.get("rollingUpdate") or {}).get("partition"))
    if updated < desired - partition:
        return Reading(
            Verdict.PENDING, f"{updated} of {desired - partition} pods updated", ready, desired
        )
    if partition == 0 and status.get("currentRevision") != status.get("updateRevision"):
        return Reading(
            Verdict.PENDING, "waiting for the update revision to become current", ready, desired
        )
    return Reading(Verdict.SUCCEEDED, f"{ready}/{desired} ready", ready, desired)


def read_job(obj: Obj) -> Reading:
    """A migration Job: Complete or Failed conditions decide; counters are a fallback."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    for kind in ("Failed", "FailureTarget"):
        c = _condition(obj, kind)
        if c.get("status") == "True":
            return Reading(
                Verdict.FAILED, f"{c.get('reason') or kind}: {c.get('message') or ''}".strip()
            )
    for kind in ("Complete", "SuccessCriteriaMet"):
        if _condition(obj, kind).get("status") == "True":
            return Reading(Verdict.SUCCEEDED, "completed")
    if _n(status.get("failed")) > _n(spec.get("backoffLimit", 6)):
        return Reading(Verdict.FAILED, f"{_n(status.get('failed'))} pods failed")
    if _n(status.get("succeeded")) >= max(1, _n(spec.get("completions") or 1)):
        return Reading(Verdict.SUCCEEDED, "completed")
    return Reading(Verdict.PENDING, "running" if _n(status.get("active")) else "starting")


# --- pods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodProblem:
    """Why a pod will not become ready by itself; `grace` is how long ship waits for it
    to clear before calling it fatal (0: at once)."""

    pod: str
    container: str
    reason: str
    message: str
    grace: float

    def describe(self) -> str:
        where = f"pod {self.pod}" + (f" container {self.container}" if self.container else "")
        return f"{where}: {self.reason}" + (f": {self.message}" if self.message else "")


@dataclass(frozen=True)
class Graces:
    """Seconds a transient-looking problem may last before it counts as fatal.

    Image pull back-offs start within seconds and often clear (krane stopped failing on
    them at once for that reason); an unschedulable pod may be waiting for a node.
    """

    image_pull: float = 60.0
    unschedulable: float = 60.0
    persistent: float = 60.0


_FATAL_AT_ONCE = {"CrashLoopBackOff", "InvalidImageName", "ErrImageNeverPull"}
_IMAGE_PULL = {"ErrImagePull", "ImagePullBackOff"}
_PERSISTENT = {
    "ImageInspectError",
    "RegistryUnavailable",
    "SignatureValidationFailed",
    "CreateContainerError",
    "PreCreateHookError",
    "PreStartHookError",
    "PostStartHookError",
    "RunContainerError",
    "CreatePodSandboxError",
    "ConfigPodSandboxError",
}
_CACHE_SYNC = re.compile(r"failed to sync .* cache", re.IGNORECASE)


def _one_line(text: Any, limit: int = 240) -> str:
    return " ".join(str(text or "").split())[:limit]


def pod_problems(pod: Obj, graces: Graces, *, managed: bool = True) -> list[PodProblem]:
    """Every sign in one pod's status that it will not become ready by itself."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    name = str(meta.get("name") or "?")
    found: list[PodProblem] = []
    if (
        managed
        and status.get("phase") == "Failed"
        and status.get("reason")
        not in (
            "Evicted",
            "Preempting",
        )
    ):
        found.append(
            PodProblem(
                name, "", "PodFailed", _one_line(status.get("message") or status.get("reason")), 0
            )
        )
    for c in status.get("conditions") or []:
        if (
            c.get("type") == "PodScheduled"
            and c.get("status") == "False"
            and (c.get("reason") == "Unschedulable")
        ):
            found.append(
                PodProblem(
                    name, "", "Unschedulable", _one_line(c.get("message")), graces.unschedulable
                )
            )
    statuses = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    for cs in statuses:
        container = str(cs.get("name") or "")
        state = cs.get("state") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        waiting = state.get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        message = _one_line(waiting.get("message"))
        if reason == "CrashLoopBackOff":
            if last.get("reason") == "OOMKilled":
                found.append(
                    PodProblem(
                        name,
                        container,
                        "OOMKilled",
                        "out of memory (exit code 137), restarting in a loop",
                        0,
                    )
                )
            else:
                code = last.get("exitCode")
                why = f"exit code {code}" if code is not None else message
                found.append(PodProblem(name, container, reason, _one_line(why), 0))
        elif reason in _FATAL_AT_ONCE:
            found.append(PodProblem(name, container, reason, message, 0))
        elif reason in _IMAGE_PULL:
            found.append(PodProblem(name, container, reason, message, graces.image_pull))
        elif reason == "CreateContainerConfigError" and not _CACHE_SYNC.search(message):
            found.append(PodProblem(name, container, reason, message, 0))
        elif reason in _PERSISTENT:
            found.append(PodProblem(name, container, reason, message, graces.persistent))
        terminated = state.get("terminated") or {}
        for term in (terminated, last):
            if term.get("reason") == "ContainerCannotRun" and _n(term.get("exitCode")) != 128:
                found.append(
                    PodProblem(
                        name, container, "ContainerCannotRun", _one_line(term.get("message")), 0
                    )
                )
                break
        if terminated.get("reason") == "OOMKilled" and managed:
            found.append(
                PodProblem(name, container, "OOMKilled", "out of memory (exit code 137)", 0)
            )
    return found


class ProblemClock:
    """Remembers when each problem was first seen, so a grace period can run out.

    Problems are keyed by pod, container and reason; one that disappears is forgotten,
    so a back-off that clears and comes back starts its grace again.
    """

    def __init__(self) -> None:
        self._first_seen: dict[tuple[str, str, str], float] = {}

    def fatal(self, problems: Iterable[PodProblem], now: float) -> PodProblem | None:
        """The first problem whose grace has run out at `now`, if any."""
        current = {(p.pod, p.container, p.reason): p for p in problems}
        for key in list(self._first_seen):
            if key not in current:
                del self._first_seen[key]
        for key, problem in current.items():
            first = self._first_seen.setdefault(key, now)
            if now - first >= problem.grace:
                return problem
        return None


def restart_counts(pods: Iterable[Obj]) -> dict[str, int]:
    """Restarts per pod (all containers summed), for the health check's "climbing" test."""
    out: dict[str, int] = {}
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name") or "?")
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        out[name] = sum(_n(cs.get("restartCount")) for cs in statuses)
    return out


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )
