"""Running the Kubernetes preflight: read every workload once, apply the pure rules of
`preflight.py`, and ask the cluster about ship's rights, all before any change.

Read-only. The workload lists and the rights review go out together, so the preflight
costs about one round trip. A workload still finishing someone else's rollout is looked
at again for up to `kubernetes.rollout_wait`; past that it is refused.

A configured container name the pod spec doesn't have is the pipeline file's mistake, not
the namespace's: it is raised as a `PipelineError` (exit 2) naming the file, line and key
of every such workload, before any wait and before any change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from shipper.core.model import Finding, Severity
from shipper.errors import PipelineError, PlatformAuthError, ShipError
from shipper.kubernetes.access import Access, findings, granted
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.preflight import Rules, check_workload
from shipper.kubernetes.workloads import Workload

log = logging.getLogger(__name__)

WAIT_STEP = 2.0  # seconds between looks at a rollout the preflight waits for


class Preflight:
    def __init__(
        self,
        api: KubeApi,
        workloads: Sequence[Workload],
        rules: Rules,
        *,
        rights: Sequence[Access] = (),
        rollout_wait: float = 0.0,
        sources: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.workloads = list(workloads)
        self.rules = rules
        self.rights = list(rights)
        self.rollout_wait = rollout_wait
        # workload ref -> where the pipeline names it: "pipelines/web.yaml:14: key"
        self.sources = dict(sources or {})

    def run(self, image: str) -> list[Finding]:
        """Every finding: per workload in pipeline order, then the rights."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kube-preflight") as pool:
            denied = pool.submit(self._denied)
            found = self._workloads(image)
            self._raise_wrong_names(found)
            deadline = self.api.clock.monotonic() + self.rollout_wait
            while _waiting(found) and self.api.clock.monotonic() + WAIT_STEP <= deadline:
                self.api.clock.sleep(WAIT_STEP)
                found = self._workloads(image)
            return found + denied.result()

    def _raise_wrong_names(self, found: Sequence[Finding]) -> None:
        wrong = [f for f in found if f.check == "container-name"]
        if not wrong:
            return
        shown = []
        for f in wrong:
            ref = f.target.name if f.target else ""
            shown.append(f"{self.sources.get(ref, 'kubernetes.workloads')}: {f.message}")
        raise PipelineError("; ".join(shown) + "; nothing was changed")

    def _workloads(self, image: str) -> list[Finding]:
        kinds = list(dict.fromkeys(w.kind for w in self.workloads))
        listed: dict[tuple[str, str], Obj] = {}
        with ThreadPoolExecutor(
            max_workers=max(1, len(kinds)), thread_name_prefix="kube-preflight-list"
        ) as pool:
            lists = list(pool.map(lambda kind: self.api.list(kind)[0], kinds))
        for kind, items in zip(kinds, lists, strict=True):
            listed |= {(kind, str((o.get("metadata") or {}).get("name"))): o for o in items}
        out: list[Finding] = []
        for w in self.workloads:
            obj = listed.get((w.kind, w.name))
            if obj is None:
                out.append(
                    Finding(
                        w.target,
                        "exists",
                        Severity.BLOCK,
                        f"{w.ref} not found in namespace {self.api.namespace}; check "
                        "kubernetes.workloads and kubernetes.namespace in the pipeline",
                    )
                )
                continue
            out += check_workload(w, obj, self.rules, image)
        return out

    def _denied(self) -> list[Finding]:
        if not self.rights:
            return []
        try:
            missing = self._missing()
        except PlatformAuthError as exc:
            return [Finding(None, "permissions", Severity.WARN, f"could not check rights: {exc}")]
        except ShipError as exc:
            log.info("access reviews failed: %s", exc)
            return [
                Finding(
                    None,
                    "permissions",
                    Severity.WARN,
                    f"could not check ship's rights (SelfSubjectAccessReview): {exc}",
                )
            ]
        who = f"the kubeconfig user of context {self.api.where.context}"
        return findings(missing, self.api.namespace, who)

    def _missing(self) -> list[Access]:
        """The rights the user lacks: one rules review, then an access review for each
        right the rules don't grant (or for every right when the rules can't be read)."""
        unsure = list(self.rights)
        try:
            rules, incomplete = self.api.rules()
        except PlatformAuthError:
            raise
        except ShipError as exc:
            log.info("rules review failed (%s); asking right by right", exc)
        else:
            if incomplete:
                log.info("the rules review is incomplete; rights it lacks are asked one by one")
            unsure = [r for r in unsure if not granted(r, rules)]
        if not unsure:
            return []
        with ThreadPoolExecutor(
            max_workers=min(8, len(unsure)), thread_name_prefix="kube-access"
        ) as pool:
            answers = list(pool.map(self.api.may, unsure))
        return [r for r, ok in zip(unsure, answers, strict=True) if not ok]


def _waiting(found: Sequence[Finding]) -> bool:
    return any(f.check == "rollout-in-progress" for f in found)
