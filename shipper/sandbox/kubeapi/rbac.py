"""What the fake API server lets its one user do: everything, unless a test denies it.

A denied request is answered as the real authorizer answers it, a 403 `Status` with
reason `Forbidden` naming the user, the verb, the resource and its group, and a
SelfSubjectAccessReview asked about the same verb and resource says `allowed: false`,
so ship's preflight and its later calls see one consistent set of rights; a
SelfSubjectRulesReview lists the same rights as rules.
"""

from __future__ import annotations

import threading

USER = "system:serviceaccount:sandbox:ship"


class Rbac:
    """Denied (verb, resource, subresource) triples; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._denied: set[tuple[str, str, str]] = set()

    def deny(self, verb: str, resource: str, subresource: str = "") -> None:
        with self._lock:
            self._denied.add((verb, resource, subresource))

    def allow_all(self) -> None:
        with self._lock:
            self._denied.clear()

    def denies_nothing(self) -> bool:
        with self._lock:
            return not self._denied

    def allowed(self, verb: str, resource: str, subresource: str = "") -> bool:
        with self._lock:
            return (verb, resource, subresource) not in self._denied and (
                verb,
                resource,
                "*",
            ) not in self._denied


def forbidden_message(verb: str, resource: str, subresource: str, group: str, ns: str) -> str:
    shown = f"{resource}/{subresource}" if subresource else resource
    return (
        f'{shown}{"." + group if group else ""} is forbidden: User "{USER}" cannot {verb} '
        f'resource "{shown}" in API group "{group}" in the namespace "{ns}"'
    )


VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


def resource_rules(
    rbac: Rbac, resources: list[tuple[str, str, tuple[str, ...]]]
) -> list[dict[str, list[str]]]:
    """What a SelfSubjectRulesReview lists for this user: one wildcard rule while nothing
    is denied, else per resource (and subresource) the verbs still allowed, in the shape
    the API server gives (`verbs`, `apiGroups`, `resources`). `resources` is
    (group, plural, subresources) for every resource the server serves."""
    if rbac.denies_nothing():
        return [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    rules = []
    for group, plural, subs in resources:
        for sub in ("", *subs):
            verbs = [v for v in VERBS if rbac.allowed(v, plural, sub)]
            if verbs:
                name = f"{plural}/{sub}" if sub else plural
                rules.append({"verbs": verbs, "apiGroups": [group], "resources": [name]})
    return rules
