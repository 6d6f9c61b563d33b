"""The fake cluster's Job controller: one pod at a time up to `backoffLimit`, the
Complete/Failed conditions (with SuccessCriteriaMet/FailureTarget before them),
`activeDeadlineSeconds` and `ttlSecondsAfterFinished`.
"""

from __future__ import annotations

from typing import Any

from shipper.sandbox.kubeapi.base import ControllerBase, nonzero, pod_ready, suffix
from shipper.sandbox.kubeapi.store import Obj, now_iso


class JobController(ControllerBase):
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
                job, meta["namespace"], f"{meta['name']}-{suffix()}", spec["template"], labels, now
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
        status = nonzero(
            {
                "startTime": old.get("startTime") or stamp,
                "active": len(active),
                "ready": sum(1 for p in active if pod_ready(p)),
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
