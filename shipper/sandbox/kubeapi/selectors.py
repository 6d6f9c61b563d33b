"""Label and field selectors, parsed the way the API server reads `?labelSelector=`.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, joined
by commas. Field selectors: `path=value`, `path==value`, `path!=value` over dotted paths
(`metadata.name`, `involvedObject.kind`, `status.phase`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, Any]], bool]

_SET = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


class SelectorError(ValueError):
    """The selector cannot be parsed (the server answers 400)."""


def _split(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def label_matcher(selector: str | None) -> Matcher:
    """A predicate over an object's `metadata.labels`."""
    if not selector:
        return lambda labels: True
    tests: list[Matcher] = []
    for part in _split(selector):
        tests.append(_label_term(part))
    return lambda labels: all(t(labels) for t in tests)


def _label_term(part: str) -> Matcher:
    m = _SET.match(part)
    if m:
        key, op, raw = m.group(1), m.group(2), m.group(3)
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in part:
            key, _, value = part.partition(op)
            key, value = key.strip(), value.strip()
            if not key:
                raise SelectorError(f"invalid label selector: {part!r}")
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if part.startswith("!"):
        key = part[1:].strip()
        return lambda labels: key not in labels
    if re.fullmatch(r"[A-Za-z0-9._/-]+", part):
        return lambda labels: part in labels
    raise SelectorError(f"invalid label selector: {part!r}")


def field_matcher(selector: str | None) -> Matcher:
    """A predicate over a whole object, reading dotted paths."""
    if not selector:
        return lambda obj: True
    tests: list[Matcher] = []
    for part in _split(selector):
        for op in ("!=", "==", "="):
            if op in part:
                path, _, value = part.partition(op)
                tests.append(_field_term(path.strip(), value.strip(), negate=op == "!="))
                break
        else:
            raise SelectorError(f"invalid field selector: {part!r}")
    return lambda obj: all(t(obj) for t in tests)


def _field_term(path: str, value: str, *, negate: bool) -> Matcher:
    keys = path.split(".")

    def test(obj: Mapping[str, Any]) -> bool:
        node: Any = obj
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        actual = "" if node is None else str(node)
        return (actual != value) if negate else (actual == value)

    return test


def selector_string(selector: Mapping[str, Any]) -> str:
    """A LabelSelector object (`matchLabels`, `matchExpressions`) as query text."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
