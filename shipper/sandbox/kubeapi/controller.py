"""The fake cluster's control loop: every controller, one pass at a time, on a thread.

The controllers move status forward over simulated time the way the real ones do (the
fields and reasons of the deployment controller's `calculateStatus`, the StatefulSet
controller's revisions, the Job controller's conditions), so the adapter's rollout
reading is exercised against realistic sequences rather than hand-set end states.
Simulated time runs `speed` times faster than the wall clock, so a rollout that would
take seconds takes a few tens of milliseconds in a test.
"""

from __future__ import annotations

import threading
from typing import Any

from shipper.sandbox.kubeapi.apps import AppsControllers
from shipper.sandbox.kubeapi.base import Timing, template_hash
from shipper.sandbox.kubeapi.batch import JobController
from shipper.sandbox.kubeapi.kubelet import Kubelet

__all__ = ["Controller", "Timing", "template_hash"]


class Controller(AppsControllers, JobController, Kubelet):
    """Deployments, ReplicaSets, StatefulSets, Jobs, pods, and the garbage collector."""

    # --- time and lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kubeapi-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        period = self.tick if self.tick is not None else min(0.05, 0.25 / self.speed)
        while not self._stop.wait(period):
            if not self.paused:
                self.reconcile()

    def make_instant(self, template: Any) -> None:
        """Pods of this template start ready at once (seeded workloads)."""
        self._instant.add(template_hash(template))

    def reconcile(self) -> None:
        """One pass of every controller, under the store lock."""
        with self.store.lock:
            now = self.sim_now()
            self._collect_garbage()
            for d in self.store.list("deployments")[0]:
                self._sync_deployment(d, now)
            for rs in self.store.list("replicasets")[0]:
                self._sync_replicaset_pods(rs, now)
            for sts in self.store.list("statefulsets")[0]:
                self._sync_statefulset(sts, now)
            for job in self.store.list("jobs")[0]:
                self._sync_job(job, now)
            for pod in self.store.list("pods")[0]:
                self._advance_pod(pod, now)
            for rs in self.store.list("replicasets")[0]:
                self._replicaset_status(rs)
            for d in self.store.list("deployments")[0]:
                self._deployment_status(d, now)
            for sts in self.store.list("statefulsets")[0]:
                self._statefulset_status(sts)
            for job in self.store.list("jobs")[0]:
                self._job_status(job, now)

    def _collect_garbage(self) -> None:
        uids = self.store.uids(("deployments", "replicasets", "statefulsets", "jobs", "cronjobs"))
        for plural in ("replicasets", "pods", "controllerrevisions", "jobs"):
            for obj in self.store.orphans(plural, uids):
                self._delete(plural, obj)
