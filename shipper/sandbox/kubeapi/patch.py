"""The three PATCH flavours the API server accepts, applied to plain JSON objects.

JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and the strategic merge patch, which
is a merge patch that merges some lists element by element (containers by `name`,
conditions by `type`, ...) instead of replacing them. Getting this right matters: a
client that sends an image-only body as a merge patch would silently drop every other
container, and the tests must see that happen as it would on a real cluster.
"""

from __future__ import annotations

import copy
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# Lists that a strategic merge patch merges by a key, as the built-in types declare it
# (`patchMergeKey` in k8s.io/api). Any other list is replaced whole.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "tolerations": "key",
}


class PatchError(ValueError):
    """The patch cannot be applied; `status` is the HTTP code the server answers."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def apply_patch(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Return `target` with `patch` applied; `target` itself is left untouched."""
    kind = content_type.split(";")[0].strip()
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError("json patch body must be a list of operations", 400)
        return json_patch(target, patch)
    if not isinstance(patch, dict):
        raise PatchError("patch body must be a JSON object", 400)
    if kind == MERGE_PATCH:
        result = merge_patch(target, patch)
    elif kind == STRATEGIC_MERGE_PATCH:
        result = strategic_merge(target, patch)
    else:
        raise PatchError(f"the body of the request was in an unknown format - {kind}", 415)
    if not isinstance(result, dict):
        raise PatchError("patch turned the object into something else", 400)
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, `null` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
    """A strategic merge patch: merge patch plus keyed lists and `$patch` directives."""
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        clean = {k: v for k, v in patch.items() if not k.startswith("$")}
        if directive == "replace":
            return _strip_directives(clean)
        if directive == "delete":
            return None
        out = copy.deepcopy(target) if isinstance(target, dict) else {}
        for key, value in clean.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = strategic_merge(out.get(key), value, key)
        return out
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(target, list):
        return _merge_keyed_list(target, patch, MERGE_KEYS[field])
    return _strip_directives(copy.deepcopy(patch))


def _merge_keyed_list(target: list[Any], patch: list[Any], key: str) -> list[Any]:
    out = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            # A list of scalars or unkeyed entries cannot be merged: the patch wins.
            return list(_strip_directives(copy.deepcopy(patch)))
        index = next(
            (i for i, old in enumerate(out) if isinstance(old, dict) and old.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
            continue
        if index is None:
            out.append(_strip_directives(copy.deepcopy(item)))
        else:
            out[index] = strategic_merge(out[index], item)
    return out


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def json_patch(target: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    """RFC 6902: add, remove, replace, move, copy and test, all or nothing."""
    doc: Any = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("each json patch operation needs op and path", 400)
        name, path = op["op"], op["path"]
        if name == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif name == "remove":
            doc = _remove(doc, path)[0]
        elif name == "replace":  # remove (the path must exist), then add
            doc = _add(_remove(doc, path)[0], path, copy.deepcopy(op.get("value")))
        elif name == "move":
            doc, value = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif name == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif name == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed", 422)
        else:
            raise PatchError(f'unknown json patch operation "{name}"', 400)
    if not isinstance(doc, dict):
        raise PatchError("json patch turned the object into something else", 422)
    return doc


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'json pointer "{path}" must start with /', 400)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for token in _tokens(path):
        node = _child(node, token, path)
    return node


def _child(node: Any, token: str, path: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise PatchError(f"doc is missing path: {path}", 422)
        return node[token]
    if isinstance(node, list):
        if not token.isdigit() or int(token) >= len(node):
            raise PatchError(f"doc is missing path: {path}", 422)
        return node[int(token)]
    raise PatchError(f"doc is missing path: {path}", 422)


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return value
    parent = doc
    for token in tokens[:-1]:
        parent = _child(parent, token, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"doc is missing path: {path}", 422)
    else:
        raise PatchError(f"doc is missing path: {path}", 422)
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _tokens(path)
    if not tokens:
        return None, doc
    parent = doc
    for token in tokens[:-1]:
        parent = _child(parent, token, path)
    last = tokens[-1]
    value = _child(parent, last, path)
    if isinstance(parent, dict):
        del parent[last]
    else:
        parent.pop(int(last))
    return doc, value
