"""`metadata.managedFields` on writes, as the API server keeps them.

Each write through the REST API records its field manager (the `fieldManager` query
parameter, else the client's User-Agent product, as the real server derives it), the
operation, the time, and which top-level fields it set, so a client can tell who last
changed a workload's spec. Field sets are kept to the first level under `spec` and
`metadata`: enough to say who wrote the spec, without the full structured-merge sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipper.sandbox.kubeapi.store import Obj, now_iso

_SKIP_META = {"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"}


def manager_of(query: Mapping[str, str], user_agent: str | None) -> str:
    """The field manager of a request: `fieldManager`, else the User-Agent's product."""
    if query.get("fieldManager"):
        return str(query["fieldManager"])[:128]
    product = (user_agent or "unknown").split("/", 1)[0].strip()
    return product or "unknown"


def _changed(old: Any, new: Any) -> dict[str, Any]:
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return {}
    return {f"f:{k}": {} for k in new if old.get(k) != new.get(k)}


def record(
    before: Obj | None, after: Obj, manager: str, operation: str, subresource: str = ""
) -> Obj:
    """`after` with its managedFields updated for this write; unchanged when the write
    changes nothing (a no-op write gets no new resourceVersion either)."""
    old = before or {}
    fields: dict[str, Any] = {}
    if subresource == "status":
        if old.get("status") != after.get("status"):
            fields["f:status"] = _changed(old.get("status") or {}, after.get("status") or {})
    else:
        if old.get("spec") != after.get("spec"):
            fields["f:spec"] = _changed(old.get("spec") or {}, after.get("spec") or {})
        if old.get("data") != after.get("data") and "data" in after:
            fields["f:data"] = {}
        old_meta = {k: v for k, v in (old.get("metadata") or {}).items() if k not in _SKIP_META}
        new_meta = {k: v for k, v in (after.get("metadata") or {}).items() if k not in _SKIP_META}
        if old_meta != new_meta:
            fields["f:metadata"] = _changed(old_meta, new_meta)
    if not fields:
        return after
    entries = [
        dict(e)
        for e in (after.get("metadata") or {}).get("managedFields") or []
        if not (
            e.get("manager") == manager
            and e.get("operation") == operation
            and (e.get("subresource") or "") == subresource
        )
    ]
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": after.get("apiVersion") or "v1",
        "time": now_iso(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if subresource:
        entry["subresource"] = subresource
    entries.append(entry)  # newest last: equal whole-second times still order correctly
    after.setdefault("metadata", {})["managedFields"] = entries
    return after
