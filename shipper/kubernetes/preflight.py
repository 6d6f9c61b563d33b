"""What ship refuses to change on a workload, read from the live object. Pure.

Each rule looks at one workload as the API returned it and says why a deploy could not
be done safely, or proved, before anything is written anywhere:

- a paused Deployment never rolls out, and a StatefulSet with `OnDelete` (or a partition
  above 0) changes only some pods or none: ship would patch, wait, and then find its own
  rollback stuck the same way;
- a configured container the pod spec lacks would be added by the patch, not changed
  (check `container-name`: the pipeline file is wrong, which the adapter reports as a
  pipeline error, exit 2, naming the file, line and key);
- a workload still rolling out someone else's change would have that change recorded as
  the way back (a crash-looping hotfix restored by the next rollback);
- a GitOps controller reverts ship's patch and may well win the race.

Every rule runs for every workload and every finding is returned: a person fixing a
namespace wants the whole list at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipper.core.model import Finding, Severity, Verdict
from shipper.kubernetes.images import repository_of
from shipper.kubernetes.rollout import read_deployment, read_statefulset
from shipper.kubernetes.workloads import CHANGE_CAUSE, Workload

Obj = Mapping[str, Any]

ARGO_TRACKING = "argocd.argoproj.io/tracking-id"
ARGO_INSTANCE_LABEL = "argocd.argoproj.io/instance"
INSTANCE_LABEL = "app.kubernetes.io/instance"
FLUX_KINDS = {
    "kustomize.toolkit.fluxcd.io": "Kustomization",
    "helm.toolkit.fluxcd.io": "HelmRelease",
}
FLUX_RECONCILE = "kustomize.toolkit.fluxcd.io/reconcile"


@dataclass(frozen=True)
class Rules:
    """The pipeline's opt-ins (`kubernetes.allow_gitops`,
    `kubernetes.statefulset_partitioned`): what they allow becomes a warning."""

    allow_gitops: bool = False
    statefulset_partitioned: bool = False


def check_workload(w: Workload, obj: Obj, rules: Rules, image: str = "") -> list[Finding]:
    """Every finding about one workload: container names, paused, update strategy, an
    unfinished rollout, GitOps ownership. `image` is the image the deploy will set."""
    found = [*_containers(w, obj, image), *_strategy(w, obj, rules)]
    blocked_by_strategy = any(f.check in ("paused", "update-strategy") for f in found)
    if not blocked_by_strategy:  # a paused workload's "rollout" is the pause itself
        found += _unfinished(w, obj, rules)
    found += _gitops(w, obj, rules)
    return found


def _finding(w: Workload, check: str, message: str, severity: Severity = Severity.BLOCK) -> Finding:
    return Finding(w.target, check, severity, message)


def _containers(w: Workload, obj: Obj, image: str) -> list[Finding]:
    chosen, missing = w.selected(obj)
    have = ", ".join(c.name for c in w.pod_containers(obj)) or "none"
    if missing:
        return [
            _finding(
                w,
                "container-name",
                f"{w.ref} has no container named {', '.join(missing)} (it has: {have}); "
                "fix the container list in kubernetes.workloads",
            )
        ]
    if not chosen:
        repo = w.repository or (repository_of(image) if image else "the pipeline's image")
        return [
            _finding(
                w,
                "containers",
                f"{w.ref} has no container running an image from {repo} (it has: {have}); "
                f"name the containers to change, as {w.ref}:CONTAINER in kubernetes.workloads",
            )
        ]
    return []


def _strategy(w: Workload, obj: Obj, rules: Rules) -> list[Finding]:
    spec = obj.get("spec") or {}
    if w.kind == "deployment" and spec.get("paused"):
        return [
            _finding(
                w,
                "paused",
                f"{w.ref} is paused (spec.paused): nothing would roll out; resume it "
                f"(kubectl rollout resume {w.ref}) or take it out of kubernetes.workloads",
            )
        ]
    if w.kind != "statefulset":
        return []
    strategy = spec.get("updateStrategy") or {}
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    if strategy.get("type") == "OnDelete":
        shape = "updateStrategy OnDelete: its pods change only when deleted"
    elif partition > 0:
        shape = f"partition {partition}: pods below ordinal {partition} keep the old revision"
    else:
        return []
    if rules.statefulset_partitioned:
        return [
            _finding(
                w,
                "update-strategy",
                f"{w.ref} has {shape}; allowed by kubernetes.statefulset_partitioned, so ship "
                "reports per pod what still runs the old revision",
                Severity.WARN,
            )
        ]
    return [
        _finding(
            w,
            "update-strategy",
            f"{w.ref} has {shape}, so ship can't roll it out or back by itself; set "
            "kubernetes.statefulset_partitioned: true to change its template anyway",
        )
    ]


def unfinished_rollout(w: Workload, obj: Obj, rules: Rules = Rules()) -> str | None:
    """Why `obj`'s last rollout has not finished by kubectl's `rollout status` rules
    (None: it has). A failed rollout (ProgressDeadlineExceeded) has not finished either:
    its template is not one to record as the way back."""
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    if w.kind == "deployment":
        reading = read_deployment(obj, generation)
    elif w.kind == "statefulset":
        strategy = (obj.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete" and rules.statefulset_partitioned:
            return None  # its pods change when someone deletes them; there is no "finished"
        reading = read_statefulset(obj, generation)
    else:
        return None
    return None if reading.verdict is Verdict.SUCCEEDED else reading.message


def _unfinished(w: Workload, obj: Obj, rules: Rules) -> list[Finding]:
    why = unfinished_rollout(w, obj, rules)
    if why is None:
        return []
    return [
        _finding(
            w,
            "rollout-in-progress",
            f"{w.ref} has not finished its last rollout ({why}; {last_change(obj)}); "
            f"wait for it (kubectl rollout status {w.ref}) or set kubernetes.rollout_wait",
        )
    ]


def last_change(obj: Obj) -> str:
    """Who changed the workload last, as far as it says: its change-cause, else the
    manager of the latest spec write in `managedFields`."""
    cause = ((obj.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE)
    if cause:
        return f'change-cause "{" ".join(cause.split())[:120]}"'
    manager = last_spec_manager(obj)
    return f"last changed by {manager}" if manager else "no change-cause recorded"


def last_spec_manager(obj: Obj, excluding: str | None = None) -> str | None:
    """The field manager of the newest write to `spec` (status writes don't count),
    optionally skipping one manager (ship's own)."""
    newest: tuple[str, str] | None = None
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, Mapping) or entry.get("subresource"):
            continue
        fields = entry.get("fieldsV1") or {}
        manager = str(entry.get("manager") or "")
        if "f:spec" not in fields or not manager or manager == excluding:
            continue
        stamp = str(entry.get("time") or "")
        if newest is None or stamp >= newest[0]:
            newest = (stamp, manager)
    return newest[1] if newest else None


def gitops_owner(obj: Obj) -> tuple[str, str, bool] | None:
    """(controller, application, reverts) when a GitOps controller manages `obj`.

    Argo CD: its tracking-id annotation (`app:group/Kind:ns/name`), its own instance
    label, or the common `app.kubernetes.io/instance` label together with any sign of
    Argo CD (an `argocd.argoproj.io/` annotation, an argocd field manager): that label
    alone is Helm's too. Flux: its `<kind>.toolkit.fluxcd.io/name` labels; a Flux object
    marked `reconcile: disabled` is left alone by Flux, so `reverts` is False."""
    meta = obj.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    notes = dict(meta.get("annotations") or {})
    tracking = str(notes.get(ARGO_TRACKING) or "")
    if tracking:
        return "Argo CD", tracking.split(":", 1)[0], True
    if labels.get(ARGO_INSTANCE_LABEL):
        return "Argo CD", str(labels[ARGO_INSTANCE_LABEL]), True
    managers = {str(e.get("manager") or "") for e in meta.get("managedFields") or []}
    argo_signs = any(k.startswith("argocd.argoproj.io/") for k in notes) or any(
        m.startswith("argocd") for m in managers
    )
    if labels.get(INSTANCE_LABEL) and argo_signs:
        return "Argo CD", str(labels[INSTANCE_LABEL]), True
    for group, kind in FLUX_KINDS.items():
        name = labels.get(f"{group}/name")
        if name:
            namespace = labels.get(f"{group}/namespace")
            app = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
            return "Flux", app, notes.get(FLUX_RECONCILE) != "disabled"
    return None


def _gitops(w: Workload, obj: Obj, rules: Rules) -> list[Finding]:
    owner = gitops_owner(obj)
    if owner is None:
        return []
    controller, app, reverts = owner
    if not reverts:
        return [
            _finding(
                w,
                "gitops",
                f"{w.ref} belongs to {controller} ({app}) with reconciliation disabled; ship's "
                "change will differ from Git until Git catches up",
                Severity.WARN,
            )
        ]
    if rules.allow_gitops:
        return [
            _finding(
                w,
                "gitops",
                f"{w.ref} is managed by {controller} ({app}); allowed by "
                "kubernetes.allow_gitops: a revert during the rollout fails the release",
                Severity.WARN,
            )
        ]
    return [
        _finding(
            w,
            "gitops",
            f"{w.ref} is managed by {controller} (application {app}), which reverts changes "
            "made outside Git; release it through Git, or set kubernetes.allow_gitops: true "
            "to let ship lead",
        )
    ]
