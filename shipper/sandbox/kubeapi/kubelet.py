"""The fake cluster's kubelet: pod and container statuses over simulated time, with the
scripted failures of `scenarios`, and the logs the log endpoint serves (written through
`write_log`, so a request following a log hears of each write).

In a Job's pod the first container runs the Job's work and then exits; any other
container (a classic sidecar, such as one a webhook injected) runs like a server and
never exits, so it holds the pod, as a real one does. Native sidecars (init containers
with `restartPolicy: Always`) run beside the work and are stopped by the kubelet once
every regular container has exited; they do not decide the pod's phase.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from shipper.sandbox.kubeapi import scenarios as sc
from shipper.sandbox.kubeapi.base import PENDING_REASONS, UNSCHEDULABLE, ControllerBase, PodSim
from shipper.sandbox.kubeapi.store import Obj, now_iso


class Kubelet(ControllerBase):
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
                        UNSCHEDULABLE,
                    )
                ],
            }
        statuses = []
        for i, c in enumerate(containers):
            serves = sim.job and i > 0  # a classic sidecar in a Job's pod: never exits
            statuses.append(
                self._container_status(pod, sim, c, kinds[c["name"]], elapsed, start, serves)
            )
        work_done = sim.job and all("terminated" in s["state"] for s in statuses)
        inits = self._init_statuses(pod, sim, elapsed, start, stopped=work_done)
        init_ok = all(s["ready"] for s in inits)
        states = [next(iter(s["state"])) for s in statuses]
        if sim.job and all(state == "terminated" for state in states):
            failed = any(s["state"]["terminated"]["exitCode"] for s in statuses)
            pod_phase = "Failed" if failed else "Succeeded"
        elif not init_ok or any(
            s["state"].get("waiting", {}).get("reason") in PENDING_REASONS for s in statuses
        ):
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
            **({"initContainerStatuses": inits} if inits else {}),
        }

    def _init_statuses(
        self, pod: Obj, sim: PodSim, elapsed: float, start: float, stopped: bool = False
    ) -> list[dict[str, Any]]:
        """Init containers run the same scripts as the others (in a Job's pod, a server's:
        the Job's work is its first container's): a native sidecar (`restartPolicy:
        Always`) keeps running beside them until `stopped` (every regular container of a
        Job's pod has exited), when the kubelet stops it; a classic one has completed once
        it started well. One that fails keeps the pod Pending, as Init:... does."""
        out = []
        for c in pod["spec"].get("initContainers") or []:
            st = self._container_status(
                pod, sim, c, sc.scenario(c["image"]), elapsed, start, serves=sim.job
            )
            native = c.get("restartPolicy") == "Always"
            if native and stopped and "running" in st["state"]:
                stamp = now_iso()
                st["ready"] = False
                st["state"] = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": stamp,
                        "finishedAt": stamp,
                    }
                }
            elif not native and "running" in st["state"] and st["ready"]:
                stamp = now_iso()
                st["state"] = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": stamp,
                        "finishedAt": stamp,
                    }
                }
            previous = next(
                (
                    o
                    for o in (pod["status"].get("initContainerStatuses") or [])
                    if o["name"] == st["name"]
                ),
                None,
            )
            if previous is not None:
                _keep_times(previous, st)
            out.append(st)
        return out

    def _container_status(
        self,
        pod: Obj,
        sim: PodSim,
        c: dict[str, Any],
        kind: str,
        elapsed: float,
        start: float,
        serves: bool = False,
    ) -> dict[str, Any]:
        """One container's status; `serves`: it runs like a server even in a Job's pod."""
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
            if elapsed < start * 2 or not _pull_failed_before(pod, name):
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
        if sim.job and not serves:
            duration = self.timing.slow_job if kind == sc.SLOW_MIGRATE else self.timing.job_run
            failing = kind in (sc.BAD_MIGRATE, sc.CRASHLOOP, sc.OOM)
            full = _job_log(image, sim.command, kind).splitlines(keepends=True)
            shown = len(full) if run >= duration else max(2, int(len(full) * run / duration))
            self.write_log(log_key, "".join(full[:shown]))
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
            self.write_log(log_key, f"starting {image}\n")
            return st
        if kind == sc.NOT_READY:
            st.update(started=True, state=running)
            if log_key not in self.logs:
                self.write_log(log_key, f"starting {image}\nwaiting for the database\n")
            return st
        st.update(ready=True, started=True, state=running)
        if log_key not in self.logs:
            self.write_log(log_key, f"starting {image}\nlistening on :8080\n")
        return st


def _pull_failed_before(pod: Obj, name: str) -> bool:
    """The container's status already says a pull failed. A real kubelet reports
    ErrImagePull for the failed pull before it backs off, so that report is never skipped,
    even when a busy machine left a gap between two passes of the controller."""
    status = pod.get("status") or {}
    for old in (status.get("containerStatuses") or []) + (
        status.get("initContainerStatuses") or []
    ):
        if old.get("name") == name:
            reason = ((old.get("state") or {}).get("waiting") or {}).get("reason")
            return reason in ("ErrImagePull", "ImagePullBackOff")
    return False


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
