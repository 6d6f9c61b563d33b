"""The Kubernetes side of a release: Deployments, StatefulSets and CronJobs.

`deploy` patches each workload once (image, change-cause and release annotations) and
follows its rollout through the watch API; `roll_back` writes back the pod template the
snapshot recorded (not "the previous ReplicaSet", which may be ours) and follows that the
same way. Both handle every workload concurrently and check live state first, so a
resumed release does not patch again what is already patched. Every patch is preceded by
`op.intend`, which is the write-ahead ledger entry and the lock's fence.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from shipper.core.model import (
    Finding,
    Measurement,
    Side,
    Target,
    TargetResult,
    TargetState,
    Verdict,
    Version,
)
from shipper.errors import (
    Interrupted,
    LockLost,
    PlatformAuthError,
    PlatformNotFound,
    PlatformRejected,
    ShipError,
)
from shipper.kubernetes.access import Access
from shipper.kubernetes.api import JSON_PATCH, STRATEGIC_MERGE_PATCH, KubeApi, Obj
from shipper.kubernetes.checks import Preflight
from shipper.kubernetes.follow import Outcome, Tuning, follow
from shipper.kubernetes.health import HealthReader
from shipper.kubernetes.pods import (
    PodWatch,
    annotations_of,
    controlled_by,
    selector_string,
    uid,
)
from shipper.kubernetes.preflight import Rules
from shipper.kubernetes.proof import changed_by_someone
from shipper.kubernetes.retry import RetryPolicy
from shipper.kubernetes.rollout import (
    Reading,
    pod_ready,
    read_deployment,
    read_statefulset,
)
from shipper.kubernetes.snapshot import manual_steps, state_of
from shipper.kubernetes.workloads import (
    CHANGE_CAUSE,
    RELEASE_ANNOTATION,
    Workload,
    version_pattern,
)
from shipper.pipeline import render
from shipper.ports import Operation

log = logging.getLogger(__name__)

# Errors that concern the whole side, not one workload: they propagate out of deploy and
# roll_back instead of becoming a FAILED result.
_SIDE_ERRORS = (Interrupted, LockLost, PlatformAuthError)


def _generation(obj: Obj) -> int:
    return int((obj.get("metadata") or {}).get("generation") or 0)


class KubernetesPlatform:
    """The `Platform` port over the official client (see `shipper.kubernetes.factory`)."""

    def __init__(
        self,
        api: KubeApi,
        workloads: Sequence[Workload],
        *,
        image_template: str,
        rollout_timeout: float,
        tuning: Tuning | None = None,
        patches: RetryPolicy | None = None,
        rules: Rules | None = None,
        rights: Sequence[Access] = (),
        rollout_wait: float = 0.0,
        sources: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        # Containers are chosen by the pipeline image's repository (see `workloads`).
        self.workloads = [w if w.repository else w.for_image(image_template) for w in workloads]
        self.rules = rules or Rules()
        self._preflight = Preflight(
            api,
            self.workloads,
            self.rules,
            rights=rights,
            rollout_wait=rollout_wait,
            sources=sources,
        )
        self.image_template = image_template
        self.rollout_timeout = rollout_timeout
        self.tuning = tuning or Tuning()
        self.patches = patches or RetryPolicy()
        self._pattern = version_pattern(image_template)
        self._health = HealthReader(
            api, self.workloads, self._pattern, on_delete=self.rules.statefulset_partitioned
        )

    @property
    def side(self) -> Side:
        return Side.KUBERNETES

    def targets(self) -> Sequence[Target]:
        return [w.target for w in self.workloads]

    # --- snapshot ------------------------------------------------------------------

    def snapshot(self) -> Sequence[TargetState]:
        """Every workload's state, from one namespace-wide list per kind, sent together.

        A release takes several snapshots; reading workloads one by one cost 6 s per
        snapshot for 75 workloads at 50 ms a call, and still about 0.5 s 8 at a time."""
        found = self._read_all(self.workloads)
        states = []
        for w in self.workloads:
            obj = found.get((w.kind, w.name))
            if obj is None:
                where = self.api.where
                raise PlatformNotFound(
                    f"{w.ref} not found in namespace {where.namespace} (context "
                    f"{where.context}); check kubernetes.workloads and kubernetes.namespace "
                    "in the pipeline"
                )
            states.append(self._state(w, obj))
        return states

    def _read_all(self, chosen: Sequence[Workload]) -> dict[tuple[str, str], Obj]:
        """The live objects of `chosen` by (kind, name): one namespace-wide list per kind,
        the lists sent together."""
        kinds = list(dict.fromkeys(w.kind for w in chosen))
        if not kinds:
            return {}
        with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="kube-read") as pool:
            lists = list(pool.map(lambda kind: self.api.list(kind)[0], kinds))
        return {
            (kind, str((o.get("metadata") or {}).get("name") or "")): o
            for kind, items in zip(kinds, lists, strict=True)
            for o in items
        }

    def _state(self, w: Workload, obj: Obj) -> TargetState:
        return state_of(w, obj, self.api.where, self._pattern)

    # --- deploy --------------------------------------------------------------------

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        image = render(self.image_template, version)
        return self._each(lambda w, live: self._deploy_one(w, image, op, live), op)

    def _each(
        self,
        work: Callable[[Workload, Obj | None], TargetResult],
        op: Operation,
        items: Sequence[Workload] | None = None,
    ) -> list[TargetResult]:
        """`work(workload, its live object)` for every workload at once. The objects come
        from one list per kind rather than a GET each (75 GETs at once slowed the first
        change of a large release); a workload the lists could not give reads itself."""
        chosen = list(self.workloads if items is None else items)
        before = self.api.calls
        live: dict[tuple[str, str], Obj] = {}
        if len(chosen) > 1:
            try:
                live = self._read_all(chosen)
            except _SIDE_ERRORS:
                raise
            except ShipError as exc:
                log.info("reading the workloads by list failed (%s); each reads itself", exc)
        results: list[TargetResult] = []
        side_error: BaseException | None = None
        with ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix="kube") as pool:
            futures = [(w, pool.submit(work, w, live.get((w.kind, w.name)))) for w in chosen]
            for w, future in futures:
                try:
                    results.append(future.result())
                except _SIDE_ERRORS as exc:
                    side_error = side_error or exc
                    results.append(TargetResult(w.target, Verdict.FAILED, message=str(exc)))
        op.metric("kubernetes_api_calls", float(self.api.calls - before))
        if side_error is not None:
            raise side_error
        return results

    def _deploy_one(self, w: Workload, image: str, op: Operation, live: Obj | None) -> TargetResult:
        target = w.target
        try:
            obj = live if live is not None else self.api.read(w.kind, w.name)
            chosen, missing = w.selected(obj)
            if missing or not chosen:
                have = ", ".join(w.images(obj)) or "none"
                return TargetResult(
                    target,
                    Verdict.FAILED,
                    message=f"{w.ref} has no container named {', '.join(missing) or '?'} "
                    f"(it has: {have}); fix kubernetes.workloads",
                )
            images = w.images(obj)
            latest = obj
            if all(images[c] == image for c in chosen):
                op.progress(target, "patched", f"{w.ref} already runs {image}")
                generation = _generation(obj)
            else:
                cause = f"ship {op.pipeline} release {op.release}: {op.version}"
                op.intend(
                    target,
                    "set image",
                    {
                        "image": image,
                        "containers": list(chosen),
                        "from": {c: images[c] for c in chosen},
                    },
                )
                patched = self.api.patch(
                    w.kind,
                    w.name,
                    w.image_patch(chosen, image, str(op.release), cause, init=w.init_names(obj)),
                    content_type=STRATEGIC_MERGE_PATCH,
                    policy=self.patches,
                )
                generation, latest = _generation(patched), patched
                op.progress(target, "patched", f"{w.ref} set to {image}")
            return self._await(
                w, generation, op, "rolled out", latest, dict.fromkeys(chosen, image)
            )
        except _SIDE_ERRORS:
            raise
        except ShipError as exc:
            return TargetResult(target, Verdict.FAILED, message=str(exc))

    # --- waiting -------------------------------------------------------------------

    def _await(
        self,
        w: Workload,
        generation: int,
        op: Operation,
        done: str,
        latest: Obj,
        expected: dict[str, str],
    ) -> TargetResult:
        """Follow `w` to the end of its rollout, from `latest`: the object as the patch
        (or the read before it) returned it, so no list precedes the first watch.

        `expected` is the image of every container ship set: a template that stops
        carrying them fails the rollout, whatever its status says afterwards."""
        target = w.target
        if w.kind == "cronjob":
            obj = latest  # a CronJob's change is done once its template is stored
            changed = changed_by_someone(w, obj, expected)
            if changed:
                return TargetResult(
                    target, Verdict.FAILED, self._state(w, obj), f"{w.ref}: {changed}"
                )
            suspended = " (suspended)" if (obj.get("spec") or {}).get("suspend") else ""
            return TargetResult(
                target,
                Verdict.SUCCEEDED,
                self._state(w, obj),
                f"{w.ref} job template updated{suspended}",
            )
        own_limit = op.clock.monotonic() + self.rollout_timeout
        deadline = min(op.deadline, own_limit)
        bound = (
            f"{self.rollout_timeout:g}s (kubernetes.rollout_timeout)"
            if own_limit <= op.deadline
            else "the time left for this operation"
        )
        decide = self._decider(w, generation, op, expected)
        tick = PodWatch(self.api, w, generation, self.tuning.graces, op.clock)
        outcome: Outcome = follow(
            self.api,
            w.kind,
            w.name,
            decide=decide,
            tick=tick,
            deadline=deadline,
            cancelled=lambda: op.cancelled,
            tuning=self.tuning,
            pause=op.pause,
            created=latest,
        )
        reading = outcome.reading
        state = self._state(w, outcome.obj) if outcome.obj is not None else None
        if outcome.cancelled:
            return TargetResult(
                target, Verdict.PENDING, state, f"{w.ref}: stopped waiting ({reading.message})"
            )
        if reading.verdict is Verdict.SUCCEEDED:
            op.progress(target, done, reading.message)
            message = f"{w.ref} {done}: {reading.message}"
            behind = self._left_behind(w, outcome.obj) if outcome.obj is not None else None
            if behind:
                op.progress(target, "partitioned", behind)
                message += f"; {behind}"
            return TargetResult(target, Verdict.SUCCEEDED, state, message)
        if reading.verdict is Verdict.TIMED_OUT:
            return TargetResult(
                target,
                Verdict.TIMED_OUT,
                state,
                f"{w.ref} did not finish rolling out within {bound}: {reading.message}",
            )
        op.progress(target, "failed", reading.message)
        return TargetResult(target, Verdict.FAILED, state, f"{w.ref} failed: {reading.message}")

    def _decider(
        self, w: Workload, generation: int, op: Operation, expected: dict[str, str]
    ) -> Callable[[Obj], Reading]:
        target = w.target
        read = read_deployment if w.kind == "deployment" else read_statefulset

        said: list[str] = []

        def decide(obj: Obj) -> Reading:
            changed = changed_by_someone(w, obj, expected)
            if changed:  # a revert's rollout completing is never ship's success
                return Reading(Verdict.FAILED, changed)
            reading = self._read_rollout(w, obj, generation, read)
            if reading.verdict is Verdict.PENDING and said[-1:] != [reading.message]:
                said[:] = [reading.message]  # report changes, not every watch event
                op.progress(target, "rolling out", reading.message)
            return reading

        return decide

    def _read_rollout(
        self, w: Workload, obj: Obj, generation: int, read: Callable[[Obj, int], Reading]
    ) -> Reading:
        """The rollout rule, with the StatefulSet shapes the pipeline opted into: an
        OnDelete template is done once observed with its pods ready (they change when
        someone deletes them; `_left_behind` names those still on the old revision)."""
        if w.kind == "statefulset":
            return read_statefulset(obj, generation, on_delete=self.rules.statefulset_partitioned)
        return read(obj, generation)

    def _left_behind(self, w: Workload, obj: Obj) -> str | None:
        """For a StatefulSet the pipeline lets ship change with OnDelete or a partition
        (`kubernetes.statefulset_partitioned`): which pods still run the old revision, by
        name, so nobody reads the new template as the new version everywhere. None when
        the shape doesn't apply or every pod is on the new revision; a count when the pods
        can't be listed (a diagnostics right)."""
        if w.kind != "statefulset" or not self.rules.statefulset_partitioned:
            return None
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        strategy = spec.get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        on_delete = strategy.get("type") == "OnDelete"
        if not on_delete and partition <= 0:
            return None
        why = "until they are deleted (OnDelete)" if on_delete else f"(partition {partition})"
        new = str(status.get("updateRevision") or "")
        try:
            selector = selector_string(spec.get("selector"))
            pods, _ = self.api.list("pod", label_selector=selector)
        except (Interrupted, LockLost):
            raise
        except ShipError as exc:  # a 403 included: listing pods is a diagnostics right
            log.info("listing the pods of %s failed: %s", w.ref, exc)
            desired = int(spec.get("replicas", 1))
            old = max(0, desired - int(status.get("updatedReplicas") or 0))
            if not old:
                return None
            return f"{old} of {desired} pods still run the old revision {why}"
        mine = [p for p in pods if controlled_by(p, uid(obj))]
        old_pods = sorted(
            (
                str(p["metadata"]["name"])
                for p in mine
                if ((p.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash")
                != new
            ),
            key=_ordinal,
        )
        if not old_pods:
            return None
        revisions = sorted(
            {
                str(((p.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash"))
                for p in mine
                if str(p["metadata"]["name"]) in old_pods
            }
        )
        return (
            f"{len(old_pods)} of {len(mine)} pods still run the old revision "
            f"({', '.join(revisions)}) {why}: {', '.join(old_pods)}"
        )

    # --- rollback ------------------------------------------------------------------

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        by_target = {w.target: w for w in self.workloads}
        states = {s.target: s for s in to if s.target.side is Side.KUBERNETES}
        chosen: list[Workload] = []
        for state in states.values():
            w = by_target.get(state.target)
            if w is None:
                kind, name = str(state.detail.get("kind", "")), str(state.detail.get("name", ""))
                w = Workload.parse(state.target.name) if not kind else Workload(kind, name)
            chosen.append(w)
        return self._each(
            lambda w, live: self._restore_one(w, states[w.target], op, live), op, chosen
        )

    def _restore_one(
        self, w: Workload, state: TargetState, op: Operation, live: Obj | None
    ) -> TargetResult:
        target = w.target
        recorded = state.detail.get("template")
        if not isinstance(recorded, dict) or not recorded:
            return TargetResult(
                target,
                Verdict.FAILED,
                message=f"no recorded pod template for {w.ref}; {self.manual_steps(state)}",
            )
        try:
            obj = live if live is not None else self.api.read(w.kind, w.name)
            latest = obj
            if w.template(obj) == recorded:
                op.progress(target, "restored", f"{w.ref} already runs the recorded template")
                generation = _generation(obj)
            else:
                images = state.detail.get("images")
                op.intend(
                    target,
                    "restore pod template",
                    {
                        "images": images if isinstance(images, dict) else {},
                        "revision": state.detail.get("revision"),
                    },
                )
                back_to = state.version or "the snapshot"
                notes = {
                    CHANGE_CAUSE: f"ship {op.pipeline} release {op.release}: back to {back_to}",
                    RELEASE_ANNOTATION: str(op.release),
                }
                patched = self._write_template(w, obj, recorded, notes)
                generation, latest = _generation(patched), patched
                if w.kind == "statefulset":
                    self._unstick(w, obj, state, op)
            images = state.detail.get("images")
            wanted = {
                str(c): str(i) for c, i in (images.items() if isinstance(images, dict) else [])
            }
            result = self._await(w, generation, op, "restored", latest, wanted)
        except _SIDE_ERRORS:
            raise
        except ShipError as exc:
            return TargetResult(target, Verdict.FAILED, message=f"{w.ref} not restored: {exc}")
        if result.ok:
            images = state.detail.get("images")
            pairs = images.items() if isinstance(images, dict) else []
            shown = ", ".join(f"{k}={v}" for k, v in pairs)
            return TargetResult(
                target,
                Verdict.SUCCEEDED,
                result.state,
                f"{w.ref} is back on {shown or 'the recorded template'}",
            )
        return result

    def _write_template(
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
            if annotations_of(obj) or (obj.get("metadata") or {}).get("annotations") == {}:
                body = ops + [
                    {"op": "add", "path": f"/metadata/annotations/{_pointer(k)}", "value": v}
                    for k, v in notes.items()
                ]
            else:
                version = (obj.get("metadata") or {}).get("resourceVersion")
                body = [
                    {"op": "test", "path": "/metadata/resourceVersion", "value": version},
                    *ops,
                    {"op": "add", "path": "/metadata/annotations", "value": dict(notes)},
                ]
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

    # --- health and manual steps ---------------------------------------------------

    def preflight(self, version: Version) -> Sequence[Finding]:
        """What can't be done safely on this namespace, before any change anywhere: every
        finding of `shipper.kubernetes.preflight` per workload, and the API rights."""
        return self._preflight.run(render(self.image_template, version))

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        """Every workload on the images `expected` records, fully available, no restarts
        climbing."""
        return self._health.read(expected)

    def manual_steps(self, to: TargetState) -> str:
        return manual_steps(to, self.api.where)


def _ordinal(pod: str) -> tuple[int, str]:
    """StatefulSet pods in ordinal order: db-2 before db-10."""
    head, _, tail = pod.rpartition("-")
    return (int(tail), head) if tail.isdigit() else (-1, pod)


def _pointer(key: str) -> str:
    """A map key as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
