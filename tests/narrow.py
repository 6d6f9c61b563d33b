"""Narrowing for tests: a value the test expects to be there, typed as what it is.

The `kubernetes` client types every model field as optional, and ship's JSON details
(`JSON`) are a union of every JSON value. A test that reads `deployment.status.replicas`
states with `present(deployment.status)` that the server filled it in, and one that reads
deep into a JSON detail names the path with `at(detail, "spec", "containers", 0)`; both
fail the test right there when the value is not what the test expects.
"""

from __future__ import annotations

from typing import TypeVar

from shipper.core.model import JSON

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value` itself; fails the test when it is None."""
    assert value is not None, "expected a value, found None"
    return value


def at(value: JSON, *path: str | int) -> JSON:
    """The value at `path` inside `value`: a key for an object, an index for a list."""
    for step in path:
        if isinstance(step, str):
            assert isinstance(value, dict), f"expected an object for {step!r}, found {value!r}"
            value = value[step]
        else:
            assert isinstance(value, list), f"expected a list for [{step}], found {value!r}"
            value = value[step]
    return value
