"""`present(value)`: an optional value a test expects to be set, narrowed for the type checker.

The `kubernetes` client types every model field as optional, and so do some of ship's own
records (a release's slug before it is built). A test that reads such a field states with
`present(...)` that it is filled in, and fails right there when it is not.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value` itself; fails the test when it is None."""
    assert value is not None, "expected a value, found None"
    return value
