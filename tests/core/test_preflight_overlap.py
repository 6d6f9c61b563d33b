"""The preflight's reads start beside the deploy's first snapshot: neither waits for the
other, and what the preflight finds is still said after the plan, as before."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shipper.core.model import Finding, Severity, TargetState, Version
from tests.core.conftest import World

WAIT = 5.0  # a bound on a wait that, in order, never happens


class _Started:
    """A preflight check that says when it started, and finds nothing."""

    def __init__(self) -> None:
        self.started = threading.Event()

    @property
    def name(self) -> str:
        return "started"

    @property
    def severity(self) -> Severity:
        return Severity.BLOCK

    def run(self, version: Version) -> Sequence[Finding]:
        self.started.set()
        return [Finding(None, self.name, Severity.INFO, "looked")]


def test_the_preflight_runs_while_the_snapshot_is_read(world: World) -> None:
    """The first snapshot finds the preflight already started: it waits for it, and
    would wait in vain if the preflight only began after the snapshot."""
    check = _Started()
    world.preflight = [check]
    seen: list[bool] = []
    real = world.kube.snapshot

    def snapshot(*, deploying: Version | None = None) -> Sequence[TargetState]:
        if not seen:
            seen.append(check.started.wait(WAIT))
        return real(deploying=deploying)

    world.kube.snapshot = snapshot  # type: ignore[method-assign]  # a spy around the fake's own
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    assert seen == [True]
    names = world.sink.names()
    assert names.index("plan") < names.index("preflight_finding")
