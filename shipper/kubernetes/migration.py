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

The pod's log is followed while the migration runs (`PodLog`), so its lines reach the
live view as they are written and nothing is left to read once the Job has finished;
whenever the follow fails, the log is read whole, as it was before.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import math
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shipper.core.model import Side, Target, Verdict, Version
from shipper.errors import Interrupted, LockLost, PlatformAuthError, ShipError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.errors import KubeConflict
from shipper.kubernetes.follow import Outcome, Tuning, follow
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

log = logging.getLogger(__name__)

CONTAINER = "migrate"
LOG_CAP = 256 * 1024
# Once the Job has a final reading, how long the followed log may take to end by itself.
# Its container has exited by then, so the server has closed the stream already or is
# about to; the bound only matters for a stream that hangs, which then costs this much
# before the one full read that replaces it.
FOLLOW_END_WAIT = 2.0
# The longest silence the followed log may keep before its stream is given up, so a
# half-dead connection ends. A migration quiet for longer (a long index build) loses
# nothing: the runner goes back to reading the whole log on every look at the pod.
FOLLOW_READ_TIMEOUT = 120.0
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
        self._size = 0  # bytes of `_kept`, counted as it grows rather than re-encoded
        self._cut = 0
        self._partial = ""

    def feed(self, full: str) -> list[str]:
        """Take the pod's whole log so far; return its complete new lines."""
        if len(full) < self._seen:  # a different pod (or a restart): start over
            self._seen = 0
        return self.append(full[self._seen :])

    def append(self, new: str) -> list[str]:
        """Take what the log grew by (a followed stream's chunk); return its complete
        new lines. A later `feed` of the whole log carries on after it."""
        self._seen += len(new)
        self._kept += new
        self._size += len(new.encode())
        if self._size > 2 * self.cap:
            self._trim()
        text = self._partial + new
        lines = text.split("\n")
        self._partial = lines.pop()
        return lines

    def _trim(self) -> None:
        """Cut the start down to `cap` bytes. Done when twice that has piled up, and
        before the text is read, not on every chunk: a followed log comes in many small
        pieces, and encoding the whole kept text for each was quadratic."""
        if self._size <= self.cap:
            return
        kept = self._kept.encode()[-self.cap :].decode("utf-8", errors="ignore")
        self._cut += len(self._kept) - len(kept)
        self._kept = kept
        self._size = len(kept.encode())

    def finish(self) -> list[str]:
        rest, self._partial = self._partial, ""
        return [rest] if rest else []

    @property
    def text(self) -> str:
        self._trim()
        return (f"[... {self._cut} earlier characters cut ...]\n" if self._cut else "") + self._kept

    def tail(self, n: int = 5) -> str:
        self._trim()
        lines = [line for line in self._kept.splitlines() if line.strip()]
        return " | ".join(line.strip() for line in lines[-n:])


class PodLog:
    """The migration pod's log on its way to `op.log`. While the container runs it is
    followed on one daemon thread, as `kubectl logs -f` follows it: lines go out as they
    are written, and a stream the server ended cleanly (the container exited) leaves
    nothing to read once the Job has finished. When the follow could not start, broke,
    or did not end, the whole log is read instead, as it always was.

    The thread and those whole reads feed one LogTail under one lock, and once the
    follow is given up the thread feeds nothing more, so the two never overlap."""

    def __init__(self, api: KubeApi, tail: LogTail, op: Operation) -> None:
        self.api = api
        self.tail = tail
        self.op = op
        self.pod: str | None = None  # the pod followed, once a follow has started
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._clean = False
        self._given_up = False

    @property
    def ended(self) -> bool:
        """The stream is over, cleanly or not."""
        return self._ended.is_set()

    @property
    def following(self) -> bool:
        """The stream runs: the log needs no other read meanwhile."""
        return self.pod is not None and not self._ended.is_set() and not self._given_up

    @property
    def complete(self) -> bool:
        """The stream ended cleanly: the container has exited and all of its log came."""
        return self._ended.is_set() and self._clean and not self._given_up

    def follow(self, pod: str) -> bool:
        """Start following `pod`'s log, the first time only; whether it started now."""
        with self._lock:
            if self.pod is not None or self._given_up:
                return False
            self.pod = pod
        threading.Thread(target=self._run, args=(pod,), name=f"log-{pod}", daemon=True).start()
        return True

    def read_whole(self, text: str) -> None:
        """Take a plain read of the whole log so far."""
        with self._lock:
            for line in self.tail.feed(text):
                self.op.log(line)

    def settle(self, wait: float) -> bool:
        """Whether the stream brought the whole log, waiting up to `wait` seconds for it
        to end by itself; when it did not, the follow is given up."""
        ended = self.pod is not None and self._ended.wait(wait)
        with self._lock:
            if ended and self._clean and not self._given_up:
                return True
            self._given_up = True
            return False

    def give_up(self) -> None:
        """No follow from now on, and nothing more from one under way: whole reads only."""
        with self._lock:
            self._given_up = True

    def _run(self, pod: str) -> None:
        """The thread: never raises, so a failed stream only means a whole read later."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        clean = False
        try:
            chunks = self.api.follow_pod_log(pod, CONTAINER, read_timeout=FOLLOW_READ_TIMEOUT)
            for chunk in chunks:
                if not self._append(decoder.decode(chunk)):
                    return
            clean = self._append(decoder.decode(b"", final=True))
        except Exception:  # refused, broken, silent too long, or op.log failed
            log.debug("following the log of pod %s ended early", pod, exc_info=True)
        finally:
            self._clean = clean
            self._ended.set()

    def _append(self, text: str) -> bool:
        """Feed what the stream brought; False once the follow was given up."""
        with self._lock:
            if self._given_up:
                return False
            for line in self.tail.append(text):
                self.op.log(line)
            return True


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

    def _read_log_of(self, seen: list[str], podlog: PodLog) -> bool:
        """The whole log of the pod already found, without listing pods again; False when
        there is none yet or it cannot be read (the caller then looks the pods up)."""
        if not seen:
            return False
        try:
            text = self.api.pod_log(seen[0], CONTAINER)
        except ShipError:
            return False
        podlog.read_whole(text)
        return True

    def _look_at_log(self, pod: Obj, podlog: PodLog, ended_before: bool) -> None:
        """Keep the log of the Job's pod coming: follow it once its container has run,
        and read it whole only when no follow is running or has brought all of it.
        `ended_before`: the stream had ended before `pod` was listed, so a container
        still running in it means the server ended the stream early."""
        if not _has_run(pod):
            return  # nothing has run yet: there is no log to read
        name = str(pod["metadata"]["name"])
        if podlog.pod not in (None, name) or (
            ended_before and podlog.complete and _still_running(pod)
        ):
            podlog.give_up()
        if podlog.follow(name) or podlog.following or podlog.complete:
            return
        try:
            text = self.api.pod_log(name, CONTAINER)
        except ShipError:
            return
        podlog.read_whole(text)

    @staticmethod
    def _log_complete(outcome: Outcome, podlog: PodLog) -> bool:
        """Whether the followed stream brought the whole log. It is waited for only when
        the Job has finished: a cancelled or timed-out one may still be writing."""
        if outcome.cancelled or outcome.reading.verdict is Verdict.TIMED_OUT:
            podlog.give_up()
            return False
        return podlog.settle(FOLLOW_END_WAIT)

    def _wait(
        self, name: str, target: Target, op: Operation, adopted: bool, created: Obj | None = None
    ) -> MigrationResult:
        clock = op.clock
        before = self.api.calls
        # The Job's own deadline stops it; ship waits a little longer to see it say so.
        deadline = min(op.deadline, clock.monotonic() + self.timeout + 30.0)
        logs = LogTail(self.log_cap)
        podlog = PodLog(self.api, logs, op)
        problems = ProblemClock()

        seen: list[str] = []  # the Job's pod, once a look at its pods has found it

        def collect() -> list[Obj]:
            ended_before = podlog.ended
            pods, _ = self.api.list("pod", label_selector=f"batch.kubernetes.io/job-name={name}")
            if not pods:
                pods, _ = self.api.list("pod", label_selector=f"job-name={name}")
            pods.sort(key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp") or ""))
            seen[:] = [str(p["metadata"]["name"]) for p in pods[-1:]]
            for pod in pods[-1:]:
                self._look_at_log(pod, podlog, ended_before)
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
            """`read_job`; and the first time the Job says its pod is there, that pod is
            looked up meanwhile, so its log can be followed as soon as the Job says the
            pod is ready (its container runs), without listing pods again. (backoffLimit
            0: the Job has that one pod.)"""
            reading = read_job(job)
            status = job.get("status") or {}
            if int(status.get("active") or 0) and not reading.verdict.is_final:
                if not seen:
                    with contextlib.suppress(ShipError):
                        collect()
                elif int(status.get("ready") or 0):
                    podlog.follow(seen[0])
            return reading

        try:
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
            if not self._log_complete(outcome, podlog) and not self._read_log_of(seen, podlog):
                with contextlib.suppress(ShipError):
                    collect()
        finally:
            podlog.give_up()  # whatever happened, the thread writes to `op` no more
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


def _has_run(pod: Obj) -> bool:
    """Some container of the pod has left its waiting state: there is a log to read."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any("waiting" not in (s.get("state") or {"waiting": 1}) for s in statuses)


def _still_running(pod: Obj) -> bool:
    """The migration container of the pod runs (as this listing saw it)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    mine = next((s for s in statuses if s.get("name") == CONTAINER), None)
    return mine is not None and "running" in (mine.get("state") or {})


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
