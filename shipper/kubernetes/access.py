"""The API rights ship uses, and asking the cluster whether its user has them.

The list is exactly what the adapter calls, per kind it will touch, so a missing right is
found before the first change instead of halfway through a release. Rights that only
feed diagnostics (listing pods and ReplicaSets to name a crash-looping pod, reading its
log) are marked `required=False`: the rollout is judged by the workload's own status, so
their absence is a warning.

The rights are asked about with one SelfSubjectRulesReview for the namespace; a right its
rules don't grant (a denial, a rule limited to some names, an authorizer that can't list
its rules and answers `incomplete`, as `kubectl auth can-i --list` warns) is asked about
again with its own SelfSubjectAccessReview, which decides. Any authenticated user may
create both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shipper.core.model import Finding, Severity

_GROUPS = {
    "deployment": ("apps", "deployments"),
    "statefulset": ("apps", "statefulsets"),
    "cronjob": ("batch", "cronjobs"),
    "replicaset": ("apps", "replicasets"),
    "job": ("batch", "jobs"),
    "pod": ("", "pods"),
    "configmap": ("", "configmaps"),
    "lease": ("coordination.k8s.io", "leases"),
}


@dataclass(frozen=True)
class Access:
    verb: str
    group: str
    resource: str
    subresource: str = ""
    why: str = ""
    required: bool = True

    @property
    def shown(self) -> str:
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        group = f".{self.group}" if self.group else ""
        return f"{self.verb} {what}{group}"

    def attributes(self, namespace: str) -> dict[str, str]:
        attrs = {
            "namespace": namespace,
            "verb": self.verb,
            "group": self.group,
            "resource": self.resource,
        }
        if self.subresource:
            attrs["subresource"] = self.subresource
        return attrs


def granted(right: Access, rules: Iterable[Mapping[str, object]]) -> bool:
    """Whether one of `rules` (a SelfSubjectRulesReview's resourceRules) grants `right`
    on every object of its resource. A rule naming objects (`resourceNames`) grants it on
    those only, so it does not count here."""
    shown = f"{right.resource}/{right.subresource}" if right.subresource else right.resource
    names = {"*", shown}
    if right.subresource:
        names |= {f"{right.resource}/*", f"*/{right.subresource}"}
    for rule in rules:
        if rule.get("resourceNames"):
            continue
        verbs, groups, resources = (
            _strings(rule.get(k)) for k in ("verbs", "apiGroups", "resources")
        )
        if verbs & {"*", right.verb} and groups & {"*", right.group} and resources & names:
            return True
    return False


def _strings(value: object) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _rights(kind: str, verbs: Iterable[str], why: str, required: bool = True) -> list[Access]:
    group, resource = _GROUPS[kind]
    return [Access(v, group, resource, "", why, required) for v in verbs]


def needed(
    kinds: Iterable[str],
    *,
    migration_jobs: bool = False,
    lease_lock: bool = False,
    configmap_ledger: bool = False,
) -> list[Access]:
    """The rights a release of workloads of `kinds` uses, with the backends that are on."""
    present = set(kinds)
    rights: list[Access] = []
    for kind in ("deployment", "statefulset", "cronjob"):
        if kind in present:
            rights += _rights(kind, ("get", "list", "watch", "patch"), f"to change {kind}s")
    if "deployment" in present:
        rights += _rights("replicaset", ("list",), "to find a rollout's pods", required=False)
    if present & {"deployment", "statefulset"}:
        rights += _rights("pod", ("list",), "to name a failing pod", required=False)
        rights.append(Access("get", "", "pods", "log", "to show a crashed pod's log", False))
    if "statefulset" in present:
        rights += _rights("pod", ("delete",), "to unstick a StatefulSet rollback")
    if migration_jobs:
        rights += _rights("job", ("create", "get", "list", "watch"), "to run the migration Job")
        if not present & {"deployment", "statefulset"}:
            rights += _rights("pod", ("list",), "to read the migration's log", required=False)
            rights.append(Access("get", "", "pods", "log", "to read the migration's log", False))
    if lease_lock:
        rights += _rights("lease", ("get", "create", "update"), "for the deploy lock")
    if configmap_ledger:
        rights += _rights("configmap", ("get", "list", "create", "update"), "for the ledger")
    return rights


def findings(denied: Sequence[Access], namespace: str, user_hint: str) -> list[Finding]:
    """One finding per missing right: BLOCK for a right a release needs, WARN for one that
    only feeds diagnostics."""
    out = []
    for right in denied:
        severity = Severity.BLOCK if right.required else Severity.WARN
        effect = "" if right.required else " (diagnostics only: ship goes on without it)"
        out.append(
            Finding(
                None,
                "permissions",
                severity,
                f"{user_hint} may not {right.shown} in namespace {namespace} "
                f"({right.why}){effect}; grant it in the user's Role",
            )
        )
    return out
