"""The Kubernetes side of a release: Deployments, StatefulSets and CronJobs.

`deploy` patches each workload once (image, change-cause and release annotations) and
follows its rollout through the watch API; `roll_back` writes back the pod template the
snapshot recorded (not "the previous ReplicaSet", which may be ours) and follows that the
same way (`shipper.kubernetes.restore`, `shipper.kubernetes.awaiting`). Both handle every
workload concurrently and check live state first, so a resumed release does not patch
again what is already patched: deploy reads every workload (one list per kind); a
rollback writes at once against the latest object the platform saw, guarded by its
resourceVersion, and reads only what it never saw. Every patch is preceded by
`op.intend`, which is the write-ahead ledger entry and the lock's fence.
"""

from __future__ import annotations

import logging
import threading
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
from shipper.errors import PlatformNotFound, ShipError
from shipper.kubernetes.access import Access
from shipper.kubernetes.api import STRATEGIC_MERGE_PATCH, KubeApi, Obj
from shipper.kubernetes.awaiting import SIDE_ERRORS, RolloutWaiter, generation_of
from shipper.kubernetes.checks import Preflight
from shipper.kubernetes.errors import KubeConflict
from shipper.kubernetes.follow import Tuning
from shipper.kubernetes.health import HealthReader
from shipper.kubernetes.preflight import Rules
from shipper.kubernetes.restore import Restorer
from shipper.kubernetes.retry import RetryPolicy
from shipper.kubernetes.snapshot import manual_steps, state_of
from shipper.kubernetes.workloads import Workload, version_pattern
from shipper.pipeline import render
from shipper.ports import FRESH_SECONDS, Operation
from shipper.workers import Workers

log = logging.getLogger(__name__)


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
        # The latest object seen of each workload (a list, a patch's answer, the end of a
        # watch): what a rollback writes against, under a resourceVersion guard.
        self._known: dict[tuple[str, str], Obj] = {}
        self._known_at: dict[tuple[str, str], float] = {}  # when each was seen (monotonic)
        self._known_lock = threading.Lock()
        self._health = HealthReader(
            api,
            self.workloads,
            self._pattern,
            on_delete=self.rules.statefulset_partitioned,
            seen=self._saw_list,
        )
        self._waiter = RolloutWaiter(
            api, self.rules, self.tuning, rollout_timeout, self._state, self._saw
        )
        self._restorer = Restorer(api, self._waiter, self.patches, self.manual_steps)
        # one thread per workload, started once and reused by every operation (`_each`)
        self._workers = Workers("kube")

    @property
    def side(self) -> Side:
        return Side.KUBERNETES

    def targets(self) -> Sequence[Target]:
        return [w.target for w in self.workloads]

    # --- snapshot ------------------------------------------------------------------

    def snapshot(self, *, deploying: Version | None = None) -> Sequence[TargetState]:
        """Every workload's state, from one namespace-wide list per kind, sent together.
        (`deploying` changes nothing here: a deploy's first step reads these same lists.)

        A release takes several snapshots; reading workloads one by one cost 6 s per
        snapshot for 75 workloads at 50 ms a call, and still about 0.5 s 8 at a time.
        The threads every operation runs on start meanwhile, so the first one (a
        deploy, or the rollback of `ship rollback`) starts none."""
        self._workers.warm(len(self.workloads))
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
        for kind, items in zip(kinds, lists, strict=True):
            self._saw_list(kind, items)
        return {
            (kind, str((o.get("metadata") or {}).get("name") or "")): o
            for kind, items in zip(kinds, lists, strict=True)
            for o in items
        }

    def _state(self, w: Workload, obj: Obj) -> TargetState:
        return state_of(w, obj, self.api.where, self._pattern)

    def _saw(self, w: Workload, obj: Obj) -> None:
        with self._known_lock:
            self._known[(w.kind, w.name)] = obj
            self._known_at[(w.kind, w.name)] = self.api.clock.monotonic()

    def _saw_list(self, kind: str, items: Sequence[Obj]) -> None:
        mine = {w.name for w in self.workloads if w.kind == kind}
        now = self.api.clock.monotonic()
        with self._known_lock:
            for obj in items:
                name = str((obj.get("metadata") or {}).get("name") or "")
                if name in mine:
                    self._known[(kind, name)] = obj
                    self._known_at[(kind, name)] = now

    def recent(self, kind: str, name: str) -> Obj | None:
        """The workload as this process saw it within the ports' `FRESH_SECONDS` (a
        snapshot's list, a patch's answer, the end of a watch), or None."""
        with self._known_lock:
            seen = self._known_at.get((kind, name))
            if seen is None or self.api.clock.monotonic() - seen > FRESH_SECONDS:
                return None
            return self._known.get((kind, name))

    # --- deploy --------------------------------------------------------------------

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        """Every workload patched at once; one whose latest object the platform holds
        (the snapshot just taken, say) is patched without a read first, under a
        resourceVersion precondition (a conflict reads it and decides again)."""
        image = render(self.image_template, version)
        known = self._known_of(self.workloads)
        return self._each(
            lambda w, live: self._deploy_one(
                w, image, op, live, None if live is not None else known[(w.kind, w.name)]
            ),
            op,
            read=[w for w in self.workloads if known[(w.kind, w.name)] is None],
        )

    def _known_of(self, chosen: Sequence[Workload]) -> dict[tuple[str, str], Obj | None]:
        with self._known_lock:
            return {(w.kind, w.name): self._known.get((w.kind, w.name)) for w in chosen}

    def _each(
        self,
        work: Callable[[Workload, Obj | None], TargetResult],
        op: Operation,
        items: Sequence[Workload] | None = None,
        *,
        read: Sequence[Workload] | None = None,
    ) -> list[TargetResult]:
        """`work(workload, its live object)` for every workload at once. The objects of
        `read` (default: all) come from one list per kind rather than a GET each (75 GETs
        at once slowed the first change of a large release); a workload the lists could
        not give reads itself."""
        chosen = list(self.workloads if items is None else items)
        reading = chosen if read is None else list(read)
        before = self.api.calls
        live: dict[tuple[str, str], Obj] = {}
        if len(reading) > 1:
            try:
                live = self._read_all(reading)
            except SIDE_ERRORS:
                raise
            except ShipError as exc:
                log.info("reading the workloads by list failed (%s); each reads itself", exc)
        results: list[TargetResult] = []
        side_error: BaseException | None = None
        submit = self._workers.submit
        futures = [(w, submit(work, w, live.get((w.kind, w.name)))) for w in chosen]
        for w, future in futures:
            try:
                results.append(future.result())
            except SIDE_ERRORS as exc:
                side_error = side_error or exc
                results.append(TargetResult(w.target, Verdict.FAILED, message=str(exc)))
        op.metric("kubernetes_api_calls", float(self.api.calls - before))
        if side_error is not None:
            raise side_error
        return results

    def _deploy_one(
        self, w: Workload, image: str, op: Operation, live: Obj | None, known: Obj | None = None
    ) -> TargetResult:
        target = w.target
        try:
            guarded = live is None and known is not None
            obj = live or known or self.api.read(w.kind, w.name)
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
                if guarded:  # no write is decided on an object that may be old
                    return self._deploy_one(w, image, op, self.api.read(w.kind, w.name))
                op.progress(target, "patched", f"{w.ref} already runs {image}")
                generation = generation_of(obj)
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
                body = w.image_patch(chosen, image, str(op.release), cause, w.init_names(obj))
                if guarded:
                    body["metadata"]["resourceVersion"] = (obj.get("metadata") or {}).get(
                        "resourceVersion"
                    )
                try:
                    patched = self.api.patch(
                        w.kind,
                        w.name,
                        body,
                        content_type=STRATEGIC_MERGE_PATCH,
                        policy=self.patches,
                    )
                except KubeConflict:
                    if not guarded:
                        raise
                    return self._deploy_one(w, image, op, self.api.read(w.kind, w.name))
                self._saw(w, patched)
                generation, latest = generation_of(patched), patched
                op.progress(target, "patched", f"{w.ref} set to {image}")
            return self._waiter.result(
                w, generation, op, "rolled out", latest, dict.fromkeys(chosen, image)
            )
        except SIDE_ERRORS:
            raise
        except ShipError as exc:
            return TargetResult(target, Verdict.FAILED, message=str(exc))

    # --- rollback ------------------------------------------------------------------

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        """Every workload back on its recorded template at once; one whose latest object
        the platform holds is written without a read first (see `restore`)."""
        by_target = {w.target: w for w in self.workloads}
        states = {s.target: s for s in to if s.target.side is Side.KUBERNETES}
        chosen: list[Workload] = []
        for state in states.values():
            w = by_target.get(state.target)
            if w is None:
                kind, name = str(state.detail.get("kind", "")), str(state.detail.get("name", ""))
                w = Workload.parse(state.target.name) if not kind else Workload(kind, name)
            chosen.append(w)
        known = self._known_of(chosen)
        unknown = [w for w in chosen if known[(w.kind, w.name)] is None]
        return self._each(
            lambda w, live: self._restorer.restore(
                w, states[w.target], op, live, known[(w.kind, w.name)]
            ),
            op,
            chosen,
            read=unknown,
        )

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
