"""The migration release on Kubernetes: one Job from the target image, run once.

The Job is named after the pipeline and the release number and labelled with both, so a
resumed release finds the Job it already created and follows it instead of running the
migration twice. `backoffLimit: 0` means one attempt: a migration that failed halfway
must be looked at by a person, not retried blindly. `activeDeadlineSeconds` comes from
`migrations.timeout`, so the cluster stops a hung migration even if ship is gone, and
`ttlSecondsAfterFinished` keeps the finished Job (and its pod's log) around for a while.

The pod spec borrows the environment of the first configured workload (env, envFrom,
volumes, service account, pull secrets), because a migration needs the same database
credentials as the application it migrates; probes, ports and lifecycle hooks are left
out. Native sidecars (init containers with `restartPolicy: Always`, such as a database
proxy the application reaches its database through) come along with the volumes, since
the migration needs them just as much, and the kubelet stops them when the migration
ends (one on the application's own image runs the target version, like the migration;
its startup probe stays, so the migration starts once the proxy is up). A classic sidecar
(a second regular container, often injected by a webhook) would keep the pod running
after the migration finished: that is named as the failure rather than waited out. The
argv is the container's `command`, exactly as the pipeline writes it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shipper.core.model import Side, Target, Verdict, Version
from shipper.errors import Interrupted, LockLost, PlatformAuthError, ShipError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.errors import KubeConflict
from shipper.kubernetes.follow import Tuning, follow
from shipper.kubernetes.rollout import (
    PodProblem,
    ProblemClock,
    Reading,
    pod_problems,
    read_job,
)
from shipper.kubernetes.workloads import CHANGE_CAUSE, Workload
from shipper.pipeline import render
from shipper.ports import MigrationResult, Operation

CONTAINER = "migrate"
LOG_CAP = 256 * 1024
_CONTAINER_KEYS = ("env", "envFrom", "volumeMounts", "resources", "securityContext", "workingDir")
_POD_KEYS = (
    "volumes",
    "serviceAccountName",
    "imagePullSecrets",
    "securityContext",
    "nodeSelector",
    "tolerations",
    "affinity",
)


def job_name(pipeline: str, release: int) -> str:
    """`ship-web-r42-migrate`: unique per pipeline and release, a valid DNS label."""
    return f"ship-{pipeline}-r{release}-migrate"[:63]


class LogTail:
    """The pod log as it grows: new lines go to `op.log`, the whole is kept up to a cap
    (the end is what explains a failure, so the start is what gets cut)."""

    def __init__(self, cap: int = LOG_CAP) -> None:
        self.cap = cap
        self._seen = 0
        self._kept = ""
        self._cut = 0
        self._partial = ""

    def feed(self, full: str) -> list[str]:
        """Take the pod's whole log so far; return its complete new lines."""
        if len(full) < self._seen:  # a different pod (or a restart): start over
            self._seen = 0
        new = full[self._seen :]
        self._seen = len(full)
        self._kept += new
        if len(self._kept.encode()) > self.cap:
            overflow = len(self._kept) - self.cap
            self._cut += overflow
            self._kept = self._kept[overflow:]
        text = self._partial + new
        lines = text.split("\n")
        self._partial = lines.pop()
        return lines

    def finish(self) -> list[str]:
        rest, self._partial = self._partial, ""
        return [rest] if rest else []

    @property
    def text(self) -> str:
        return (f"[... {self._cut} earlier characters cut ...]\n" if self._cut else "") + self._kept

    def tail(self, n: int = 5) -> str:
        lines = [line for line in self._kept.splitlines() if line.strip()]
        return " | ".join(line.strip() for line in lines[-n:])


class KubernetesMigrationRunner:
    """The `MigrationRunner` port: a Job per release, followed to Complete or Failed."""

    def __init__(
        self,
        api: KubeApi,
        *,
        pipeline: str,
        image_template: str,
        timeout: float,
        template_from: Workload | None = None,
        tuning: Tuning | None = None,
        log_cap: int = LOG_CAP,
        recent: Callable[[str, str], Obj | None] | None = None,
    ) -> None:
        self.api = api
        # the workload as the Kubernetes side saw it moments ago (`KubernetesPlatform.recent`)
        self.recent = recent
        self.pipeline = pipeline
        self.image_template = image_template
        self.timeout = timeout
        self.template_from = template_from
        self.tuning = tuning or Tuning()
        self.log_cap = log_cap

    def run(self, version: Version, command: Sequence[str], op: Operation) -> MigrationResult:
        image = render(self.image_template, version)
        name = job_name(self.pipeline, op.release)
        target = Target(Side.KUBERNETES, f"job/{name}")
        try:
            seen = self._recent_pod_spec()
            if seen is not None:
                # The pod spec is the one the snapshot listed moments ago: the create is
                # the first call, and the API server's own uniqueness of the Job's name is
                # the check that it is not there yet (409: adopt it, below).
                existing, (base_spec, chosen) = None, seen
            else:
                # The two reads a new Job needs go out together: is it there already (a
                # resumed run), and the workload whose pod spec it borrows.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-spec") as pool:
                    base = pool.submit(self._base_pod_spec)
                    existing = self.api.find("job", name)
                    base_spec, chosen = base.result() if existing is None else ({}, [])
            if existing is None:
                body = self._job(name, image, command, version, op, base_spec, chosen)
                op.intend(
                    target,
                    "create migration job",
                    {"job": name, "image": image, "command": list(command)},
                )
                try:
                    created = self.api.create("job", body, subject=f"job/{name}")
                except KubeConflict:  # there already (a resumed run, a retry, a twin)
                    existing = self.api.read("job", name)
                else:
                    op.progress(target, "running", f"Job {name} created")
                    return self._wait(name, target, op, False, created)
            running = _job_image(existing)
            if running != image:
                return MigrationResult(
                    False,
                    f"Job {name} already exists for release {op.release} but runs {running}, "
                    f"not {image}; delete it (kubectl -n {self.api.namespace} delete job "
                    f"{name}) and run again",
                )
            op.progress(target, "adopted", f"following the Job {name} created earlier")
            return self._wait(name, target, op, True)
        except (Interrupted, LockLost, PlatformAuthError):
            raise
        except ShipError as exc:
            return MigrationResult(False, f"migration Job {name}: {exc}")

    # --- building the Job ------------------------------------------------------------

    def _job(
        self,
        name: str,
        image: str,
        command: Sequence[str],
        version: Version,
        op: Operation,
        base: dict[str, Any],
        chosen: Collection[str] = (),
    ) -> Obj:
        labels = {
            "app.kubernetes.io/managed-by": "ship",
            "ship.dev/pipeline": self.pipeline,
            "ship.dev/release": str(op.release),
            "ship.dev/role": "migration",
        }
        container: dict[str, Any] = {"name": CONTAINER, "image": image, "command": list(command)}
        pod: dict[str, Any] = {"restartPolicy": "Never"}
        if base:
            first = (base.get("containers") or [{}])[0]
            container.update({k: first[k] for k in _CONTAINER_KEYS if k in first})
            pod.update({k: base[k] for k in _POD_KEYS if k in base})
            sidecars = native_sidecars(base, image, chosen)
            if sidecars:
                pod["initContainers"] = sidecars
        pod["containers"] = [container]
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    CHANGE_CAUSE: f"ship {self.pipeline} release {op.release}: migrate {version}",
                    "ship.dev/version": str(version),
                },
            },
            "spec": {
                "backoffLimit": 0,
                "activeDeadlineSeconds": max(1, math.ceil(self.timeout)),
                "ttlSecondsAfterFinished": self.tuning.job_ttl_seconds,
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        }

    def _recent_pod_spec(self) -> tuple[dict[str, Any], list[str]] | None:
        """`_base_pod_spec` from the object the Kubernetes side saw moments ago, or None
        when it saw none (then the workload is read)."""
        w = self.template_from
        if w is None or self.recent is None:
            return None
        obj = self.recent(w.kind, w.name)
        return None if obj is None else self._pod_spec_of(w, obj)

    def _base_pod_spec(self) -> tuple[dict[str, Any], list[str]]:
        """The pod spec of the workload the Job borrows from, with only the containers
        ship changes on it, and the names of those (init containers included)."""
        w = self.template_from
        if w is None:
            return {}, []
        return self._pod_spec_of(w, self.api.read(w.kind, w.name))

    @staticmethod
    def _pod_spec_of(w: Workload, obj: Obj) -> tuple[dict[str, Any], list[str]]:
        spec = dict(w.template(obj).get("spec") or {})
        chosen, _ = w.selected(obj)
        containers = [c for c in spec.get("containers") or [] if c.get("name") in chosen]
        spec["containers"] = containers or spec.get("containers") or []
        return spec, chosen

    # --- waiting ---------------------------------------------------------------------

    def _read_log_of(self, seen: list[str], logs: LogTail, op: Operation) -> bool:
        """The whole log of the pod already found, without listing pods again; False when
        there is none yet or it cannot be read (the caller then looks the pods up)."""
        if not seen:
            return False
        try:
            text = self.api.pod_log(seen[0], CONTAINER)
        except ShipError:
            return False
        for line in logs.feed(text):
            op.log(line)
        return True

    def _wait(
        self, name: str, target: Target, op: Operation, adopted: bool, created: Obj | None = None
    ) -> MigrationResult:
        clock = op.clock
        before = self.api.calls
        # The Job's own deadline stops it; ship waits a little longer to see it say so.
        deadline = min(op.deadline, clock.monotonic() + self.timeout + 30.0)
        logs = LogTail(self.log_cap)
        problems = ProblemClock()

        seen: list[str] = []  # the Job's pod, once a look at its pods has found it

        def collect() -> list[Obj]:
            pods, _ = self.api.list("pod", label_selector=f"batch.kubernetes.io/job-name={name}")
            if not pods:
                pods, _ = self.api.list("pod", label_selector=f"job-name={name}")
            pods.sort(key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp") or ""))
            seen[:] = [str(p["metadata"]["name"]) for p in pods[-1:]]
            for pod in pods[-1:]:
                statuses = (pod.get("status") or {}).get("containerStatuses") or []
                if not any("waiting" not in (s.get("state") or {"waiting": 1}) for s in statuses):
                    continue  # nothing has run yet: there is no log to read
                try:
                    text = self.api.pod_log(str(pod["metadata"]["name"]), CONTAINER)
                except ShipError:
                    continue
                for line in logs.feed(text):
                    op.log(line)
            return pods

        def tick(job: Obj) -> Reading | None:
            pods = collect()
            found = [
                p for pod in pods for p in pod_problems(pod, self.tuning.graces, managed=False)
            ]
            found += [p for pod in pods for p in held_open(pod, self.tuning.graces.persistent)]
            fatal = problems.fatal(found, clock.monotonic())
            return Reading(Verdict.FAILED, fatal.describe()) if fatal is not None else None

        def decide(job: Obj) -> Reading:
            """`read_job`; and the first time the Job says its pod runs, that pod is looked
            up meanwhile, so its log can be read straight away at the end. (backoffLimit 0:
            the Job has that one pod.)"""
            reading = read_job(job)
            active = int((job.get("status") or {}).get("active") or 0)
            if active and not seen and not reading.verdict.is_final:
                with contextlib.suppress(ShipError):
                    collect()
            return reading

        outcome = follow(
            self.api,
            "job",
            name,
            decide=decide,
            tick=tick,
            deadline=deadline,
            cancelled=lambda: op.cancelled,
            tuning=self.tuning,
            pause=op.pause,
            created=created,
        )
        if not self._read_log_of(seen, logs, op):
            with contextlib.suppress(ShipError):
                collect()
        for line in logs.finish():
            op.log(line)
        op.metric("kubernetes_api_calls", float(self.api.calls - before))
        reading = outcome.reading
        tail = logs.tail()
        said = f"; last lines: {tail}" if tail else ""
        if outcome.cancelled:
            return MigrationResult(
                False,
                f"stopped waiting for migration Job {name}; it may still be running",
                logs.text,
                adopted,
            )
        if reading.verdict is Verdict.SUCCEEDED:
            op.progress(target, "succeeded", f"Job {name} completed")
            return MigrationResult(True, f"migration Job {name} completed", logs.text, adopted)
        if reading.verdict is Verdict.TIMED_OUT:
            return MigrationResult(
                False,
                f"migration Job {name} did not finish within {self.timeout:g}s "
                f"(migrations.timeout){said}",
                logs.text,
                adopted,
            )
        op.progress(target, "failed", reading.message)
        return MigrationResult(
            False, f"migration Job {name} failed: {reading.message}{said}", logs.text, adopted
        )


def _job_image(job: Obj) -> str:
    containers = (
        (((job.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")
    ) or []
    for c in containers:
        if c.get("name") == CONTAINER:
            return str(c.get("image"))
    return str(containers[0].get("image")) if containers else ""


def native_sidecars(
    spec: dict[str, Any], image: str = "", chosen: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The init containers of `spec` that run beside the others (`restartPolicy: Always`),
    without their readiness probe (a Job's pod has no Service to be ready for). Their
    startup probe and lifecycle hooks stay: the kubelet starts the migration only once a
    sidecar has started by them, which is how a database proxy is up before the migration
    connects. Those among `chosen` (ship changes them with the app) run `image`."""
    out = []
    for c in spec.get("initContainers") or []:
        if c.get("restartPolicy") != "Always":
            continue
        copied = {k: v for k, v in c.items() if k != "readinessProbe"}
        if image and c.get("name") in chosen:
            copied["image"] = image
        out.append(copied)
    return out


def held_open(pod: Obj, grace: float) -> list[PodProblem]:
    """A classic sidecar keeping the Job's pod alive after the migration container
    finished: the Job never completes, so it is named instead of waited out."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    mine = next((s for s in statuses if s.get("name") == CONTAINER), None)
    if mine is None or "terminated" not in (mine.get("state") or {}):
        return []
    name = str((pod.get("metadata") or {}).get("name") or "?")
    return [
        PodProblem(
            name,
            str(s.get("name")),
            "SidecarKeepsPodRunning",
            f"the migration container finished (exit code "
            f"{mine['state']['terminated'].get('exitCode')}) but sidecar {s.get('name')} "
            "still runs, so the Job can't complete; make it a native sidecar "
            "(an init container with restartPolicy: Always) or stop it from the migration",
            grace,
        )
        for s in statuses
        if s.get("name") != CONTAINER and "running" in (s.get("state") or {})
    ]
