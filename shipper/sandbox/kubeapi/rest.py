"""The REST semantics behind each request: list, create, replace, patch, delete and pod
logs, on top of the store (which enforces resourceVersion and generation rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipper.sandbox.kubeapi.controller import Controller
from shipper.sandbox.kubeapi.managed import record
from shipper.sandbox.kubeapi.patch import PATCH_TYPES, PatchError, apply_patch
from shipper.sandbox.kubeapi.resources import BadRequest, Resource
from shipper.sandbox.kubeapi.selectors import field_matcher, label_matcher, selector_string
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

    def rest_create(
        self, res: Resource, ns: str, body: Any, dry_run: bool, manager: str = "unknown"
    ) -> Obj:
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
        if res.plural not in ("pods", "replicasets", "controllerrevisions", "events"):
            body = record(None, dict(body), manager, "Update")
        return self.store.create(res.plural, ns, body, dry_run=dry_run)

    def rest_replace(
        self,
        res: Resource,
        ns: str,
        name: str,
        body: Any,
        sub: str,
        dry_run: bool,
        manager: str = "unknown",
    ) -> Obj:
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        return self.store.update(
            res.plural,
            ns,
            name,
            lambda cur: record(cur, body, manager, "Update", sub),
            subresource=sub,
            dry_run=dry_run,
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
        manager: str = "unknown",
    ) -> Obj:
        kind = content_type.split(";")[0].strip()
        if kind not in PATCH_TYPES:
            raise PatchError(f"the body of the request was in an unknown format - {kind}", 415)
        operation = "Apply" if kind == "application/apply-patch+yaml" else "Update"
        return self.store.update(
            res.plural,
            ns,
            name,
            lambda cur: record(cur, apply_patch(kind, cur, body), manager, operation, sub),
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

    # --- the /scale subresource -------------------------------------------------------

    def rest_scale(self, res: Resource, ns: str, name: str) -> Obj:
        """A workload's autoscaling/v1 Scale, as an HPA reads it."""
        obj = self.store.get(res.plural, ns, name)
        if obj is None:
            raise StoreError(404, "NotFound", f'{res.qualified} "{name}" not found')
        return _scale_of(obj)

    def rest_scale_write(
        self, res: Resource, ns: str, name: str, method: str, content_type: str, body: Any
    ) -> Obj:
        """PUT or PATCH a Scale: only `spec.replicas` reaches the workload."""

        def change(cur: Obj) -> Obj:
            scale = _scale_of(cur)
            if method == "PUT":
                new_scale = body if isinstance(body, dict) else {}
            else:
                kind = content_type.split(";")[0].strip()
                if kind not in PATCH_TYPES:
                    raise PatchError(
                        f"the body of the request was in an unknown format - {kind}", 415
                    )
                new_scale = apply_patch(kind, scale, body)
            replicas = (new_scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise BadRequest("spec.replicas of a Scale must be a non-negative integer")
            cur["spec"]["replicas"] = replicas
            return cur

        return _scale_of(self.store.update(res.plural, ns, name, change))


def _scale_of(obj: Obj) -> Obj:
    meta = obj["metadata"]
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas") or 0),
            "selector": selector_string((obj.get("spec") or {}).get("selector") or {}),
        },
    }
