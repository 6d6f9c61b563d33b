"""What the fake API server lets its one user do: everything, unless a test denies it.

A denied request is answered as the real authorizer answers it, a 403 `Status` with
reason `Forbidden` naming the user, the verb, the resource and its group, and a
SelfSubjectAccessReview asked about the same verb and resource says `allowed: false`,
so ship's preflight and its later calls see one consistent set of rights.
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
