"""The REST semantics behind each request: list, create, replace, patch, delete and pod
logs, on top of the store (which enforces resourceVersion and generation rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipper.sandbox.kubeapi.controller import Controller
from shipper.sandbox.kubeapi.patch import PATCH_TYPES, PatchError, apply_patch
from shipper.sandbox.kubeapi.resources import BadRequest, Resource
from shipper.sandbox.kubeapi.selectors import field_matcher, label_matcher
from shipper.sandbox.kubeapi.store import Obj, Store, StoreError


class RestSemantics:
    """Mixed into FakeKubeApiServer; the wire handler calls these."""

    store: Store
    controller: Controller

    def rest_list(self, res: Resource, ns: str, query: Mapping[str, str]) -> Obj:
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        items, rv = self.store.list(
            res.plural,
            ns,
            lambda o: labels((o.get("metadata") or {}).get("labels") or {}) and fields(o),
        )
        return {
            "apiVersion": res.api_version,
            "kind": f"{res.kind}List",
            "metadata": {"resourceVersion": str(rv)},
            "items": items,
        }

    def rest_create(self, res: Resource, ns: str, body: Any, dry_run: bool) -> Obj:
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        meta = body.get("metadata") or {}
        if meta.get("namespace") not in (None, "", ns):
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent "
                "on the request"
            )
        if body.get("kind") not in (None, res.kind):
            raise BadRequest(f"a {body.get('kind')} cannot be created as {res.plural}")
        return self.store.create(res.plural, ns, body, dry_run=dry_run)

    def rest_replace(
        self, res: Resource, ns: str, name: str, body: Any, sub: str, dry_run: bool
    ) -> Obj:
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        return self.store.update(
            res.plural, ns, name, lambda _cur: body, subresource=sub, dry_run=dry_run
        )

    def rest_patch(
        self,
        res: Resource,
        ns: str,
        name: str,
        content_type: str,
        body: Any,
        sub: str,
        dry_run: bool,
    ) -> Obj:
        kind = content_type.split(";")[0].strip()
        if kind not in PATCH_TYPES:
            raise PatchError(f"the body of the request was in an unknown format - {kind}", 415)
        return self.store.update(
            res.plural,
            ns,
            name,
            lambda cur: apply_patch(kind, cur, body),
            subresource=sub,
            dry_run=dry_run,
        )

    def rest_delete(
        self, res: Resource, ns: str, name: str, body: Any, query: Mapping[str, str]
    ) -> Obj:
        precondition = None
        if isinstance(body, dict):
            precondition = (body.get("preconditions") or {}).get("resourceVersion")
        gone = self.store.delete(res.plural, ns, name, precondition_rv=precondition)
        if res.plural == "pods":  # a graceful delete answers with the pod itself
            gone["metadata"]["deletionTimestamp"] = gone["metadata"]["creationTimestamp"]
            gone["metadata"]["deletionGracePeriodSeconds"] = 0
            return gone
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": res.group,
                "kind": res.plural,
                "uid": gone["metadata"]["uid"],
            },
        }

    def rest_pod_log(self, ns: str, name: str, query: Mapping[str, str]) -> str:
        pod = self.store.get("pods", ns, name)
        if pod is None:
            raise StoreError(404, "NotFound", f'pods "{name}" not found')
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container")
        if container is None:
            if len(names) > 1:
                raise BadRequest(
                    f"a container name must be specified for pod {name}, "
                    f"choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise BadRequest(f"container {container} is not valid for pod {name}")
        key = (ns, name, container)
        logs = (
            self.controller.previous_logs
            if query.get("previous") == "true"
            else self.controller.logs
        )
        if key not in logs:
            if query.get("previous") == "true":
                raise BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            raise BadRequest(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        text = logs[key]
        tail = query.get("tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) > 0 else ""
        return text
