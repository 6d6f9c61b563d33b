"""Adapters built on first use, in the thread that first needs them.

Building the Kubernetes side imports the `kubernetes` package (its config loader brings
requests and oauthlib) and reads the kubeconfig: CPU work that, done while wiring, would
sit between the start of `ship deploy` and the lock with nothing to overlap it. Built on
first use, it happens in the snapshot's Kubernetes thread while the Heroku threads and
the status page wait on the network. A bad kubeconfig is still refused before any
change: the first use is that read-only snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from shipper.core.model import (
    Finding,
    Measurement,
    Side,
    Target,
    TargetResult,
    TargetState,
    Version,
)
from shipper.ports import MigrationResult, MigrationRunner, Operation, Platform

T = TypeVar("T")


class Once(Generic[T]):
    """`build()`'s value, built by the first caller (in its thread), then shared."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._built: list[T] = []
        self._guard = threading.Lock()

    def get(self) -> T:
        with self._guard:
            if not self._built:
                self._built.append(self._build())
            return self._built[0]


class DeferredPlatform:
    """A `Platform` whose adapter is built by `build` on the first call that needs it."""

    def __init__(self, side: Side, build: Callable[[], Platform]) -> None:
        self._side = side
        self._real = Once(build)

    @property
    def side(self) -> Side:
        return self._side

    def targets(self) -> Sequence[Target]:
        return self._real.get().targets()

    def snapshot(self, *, deploying: Version | None = None) -> Sequence[TargetState]:
        return self._real.get().snapshot(deploying=deploying)

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        return self._real.get().deploy(version, op)

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        return self._real.get().roll_back(to, op)

    def preflight(self, version: Version) -> Sequence[Finding]:
        return self._real.get().preflight(version)

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        return self._real.get().health(expected)

    def manual_steps(self, to: TargetState) -> str:
        return self._real.get().manual_steps(to)


class DeferredRunner:
    """A `MigrationRunner` built on its first run."""

    def __init__(self, build: Callable[[], MigrationRunner]) -> None:
        self._real = Once(build)

    def run(self, version: Version, command: Sequence[str], op: Operation) -> MigrationResult:
        return self._real.get().run(version, command, op)
