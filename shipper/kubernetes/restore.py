"""Putting one workload back on the pod template a snapshot recorded.

The recorded template is written back whole (not "the previous ReplicaSet", which may be
ours), with ship's change-cause and release annotations set key by key, then followed
like a deploy. Every write is preceded by `op.intend` (the write-ahead ledger entry and
the lock's fence).

A rollback is in a hurry: when the platform already holds the workload's latest object
(the one the deploy's patch and watch ended on, or the last health listing), the first
write goes out at once, guarded by a JSON Patch `test` of that object's resourceVersion.
The guard makes it exactly the write a fresh read would have led to; when someone wrote
meanwhile it fails and the restore reads the workload and decides again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping

from shipper.core.model import TargetResult, TargetState, Verdict
from shipper.errors import PlatformNotFound, PlatformRejected, ShipError
from shipper.kubernetes.api import JSON_PATCH, KubeApi, Obj
from shipper.kubernetes.awaiting import SIDE_ERRORS, RolloutWaiter, generation_of
from shipper.kubernetes.pods import annotations_of, controlled_by, selector_string, uid
from shipper.kubernetes.retry import RetryPolicy
from shipper.kubernetes.rollout import pod_ready
from shipper.kubernetes.workloads import CHANGE_CAUSE, RELEASE_ANNOTATION, Workload
from shipper.ports import Operation

log = logging.getLogger(__name__)


class Restorer:
    def __init__(
        self,
        api: KubeApi,
        waiter: RolloutWaiter,
        patches: RetryPolicy,
        manual_steps: Callable[[TargetState], str],
    ) -> None:
        self.api = api
        self.waiter = waiter
        self.patches = patches
        self.manual_steps = manual_steps

    def restore(
        self, w: Workload, state: TargetState, op: Operation, live: Obj | None, known: Obj | None
    ) -> TargetResult:
        """Put `w` back on `state`'s template and wait for it. `live` is the object just
        read (by a list); `known` the latest object the platform holds instead, written
        only under a resourceVersion guard; neither: the workload is read first."""
        target = w.target
        recorded = state.detail.get("template")
        if not isinstance(recorded, dict) or not recorded:
            return TargetResult(
                target,
                Verdict.FAILED,
                message=f"no recorded pod template for {w.ref}; {self.manual_steps(state)}",
            )
        images = state.detail.get("images")
        wanted = {str(c): str(i) for c, i in (images.items() if isinstance(images, dict) else [])}
        try:
            if live is None and known is not None and w.template(known) != recorded:
                latest = self._guarded(w, known, recorded, state, op)
                if latest is None:  # written meanwhile: read it and decide again
                    latest = self._restore(w, self.api.read(w.kind, w.name), recorded, state, op)
            else:
                obj = live if live is not None else self.api.read(w.kind, w.name)
                latest = self._restore(w, obj, recorded, state, op)
            result = self.waiter.result(w, generation_of(latest), op, "restored", latest, wanted)
        except SIDE_ERRORS:
            raise
        except ShipError as exc:
            return TargetResult(target, Verdict.FAILED, message=f"{w.ref} not restored: {exc}")
        if result.ok:
            shown = ", ".join(f"{k}={v}" for k, v in wanted.items())
            return TargetResult(
                target,
                Verdict.SUCCEEDED,
                result.state,
                f"{w.ref} is back on {shown or 'the recorded template'}",
            )
        return result

    def _restore(
        self,
        w: Workload,
        obj: Obj,
        recorded: Mapping[str, object],
        state: TargetState,
        op: Operation,
    ) -> Obj:
        """Write `recorded` back unless `obj` (just read) already has it; the object to
        follow from."""
        if w.template(obj) == recorded:
            op.progress(w.target, "restored", f"{w.ref} already runs the recorded template")
            return obj
        self._intend(w, state, op)
        patched = self.write_template(w, obj, recorded, self._notes(state, op))
        if w.kind == "statefulset":
            self._unstick(w, obj, state, op)
        return patched

    def _guarded(
        self,
        w: Workload,
        known: Obj,
        recorded: Mapping[str, object],
        state: TargetState,
        op: Operation,
    ) -> Obj | None:
        """The restore written against `known` with no read before it; None when the
        workload changed since `known` (the guard refused the write)."""
        self._intend(w, state, op)
        body = [
            _test_version(known),
            {"op": "replace", "path": w.template_pointer, "value": recorded},
            *_annotation_ops(known, self._notes(state, op)),
        ]
        try:
            patched = self.api.patch(
                w.kind, w.name, body, content_type=JSON_PATCH, policy=self.patches
            )
        except PlatformRejected as exc:
            log.info("%s changed since ship last saw it (%s); reading it again", w.ref, exc)
            return None
        if w.kind == "statefulset":
            self._unstick(w, known, state, op)
        return patched

    def _intend(self, w: Workload, state: TargetState, op: Operation) -> None:
        images = state.detail.get("images")
        op.intend(
            w.target,
            "restore pod template",
            {
                "images": images if isinstance(images, dict) else {},
                "revision": state.detail.get("revision"),
            },
        )

    @staticmethod
    def _notes(state: TargetState, op: Operation) -> dict[str, str]:
        back_to = state.version or "the snapshot"
        return {
            CHANGE_CAUSE: f"ship {op.pipeline} release {op.release}: back to {back_to}",
            RELEASE_ANNOTATION: str(op.release),
        }

    def write_template(
        self, w: Workload, obj: Obj, template: Mapping[str, object], notes: dict[str, str]
    ) -> Obj:
        """Put `template` back and set each of `notes` as its own annotation key, so a key
        another writer set meanwhile is never lost (the map read earlier is never written
        back whole). Only a workload with no annotations at all needs the map created,
        and that write is guarded by a test of the resourceVersion just read."""
        ops: list[dict[str, object]] = [
            {"op": "replace", "path": w.template_pointer, "value": template}
        ]
        for attempt in range(3):
            if _has_annotations(obj):
                body = ops + _annotation_ops(obj, notes)
            else:
                body = [_test_version(obj), *ops, *_annotation_ops(obj, notes)]
            try:
                return self.api.patch(
                    w.kind, w.name, body, content_type=JSON_PATCH, policy=self.patches
                )
            except PlatformRejected:
                if attempt == 2 or body[0].get("op") != "test":
                    raise
                obj = self.api.read(w.kind, w.name)  # written meanwhile: look again
        raise AssertionError("unreachable")  # pragma: no cover

    def _unstick(self, w: Workload, before: Obj, state: TargetState, op: Operation) -> None:
        """Delete the not-ready pods of the bad revision: with OrderedReady the StatefulSet
        controller waits for them to become ready before replacing them, which a
        crash-looping pod never does (the "forced rollback" of the Kubernetes docs)."""
        bad = (before.get("status") or {}).get("updateRevision")
        if not bad or bad == state.detail.get("updateRevision"):
            return
        selector = selector_string((before.get("spec") or {}).get("selector"))
        pods, _ = self.api.list("pod", label_selector=f"{selector},controller-revision-hash={bad}")
        for pod in pods:
            if pod_ready(pod) or not controlled_by(pod, uid(before)):
                continue
            name = str(pod["metadata"]["name"])
            op.intend(w.target, "delete stuck pod", {"pod": name, "revision": bad})
            with contextlib.suppress(PlatformNotFound):  # gone already: fine
                self.api.delete("pod", name, propagation=None)


def _has_annotations(obj: Obj) -> bool:
    return bool(annotations_of(obj)) or (obj.get("metadata") or {}).get("annotations") == {}


def _test_version(obj: Obj) -> dict[str, object]:
    version = (obj.get("metadata") or {}).get("resourceVersion")
    return {"op": "test", "path": "/metadata/resourceVersion", "value": version}


def _annotation_ops(obj: Obj, notes: Mapping[str, str]) -> list[dict[str, object]]:
    """Each note as its own key when the map exists, else the map created with them."""
    if _has_annotations(obj):
        return [
            {"op": "add", "path": f"/metadata/annotations/{_pointer(k)}", "value": v}
            for k, v in notes.items()
        ]
    return [{"op": "add", "path": "/metadata/annotations", "value": dict(notes)}]


def _pointer(key: str) -> str:
    """A map key as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
