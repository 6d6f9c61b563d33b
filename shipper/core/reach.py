"""Whether every verify check can reach what it measures, tried once before any change.

A check that cannot connect at all would fail every measurement of the bake and roll a
healthy release back (exit 4 if the rollback's own checks fail the same way). Found in
the preflight instead, it refuses the release with exit 3 and nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from shipper.core.model import Finding, Probe, Severity, Version
from shipper.core.ports import Check, PreflightCheck, ProbedCheck

NAME = "check_reachable"


class CheckReach:
    """A preflight check over the pipeline's verify checks: one probe each, concurrently.

    No connection: BLOCK. An answer ship can't use (refused credentials, a bad query):
    WARN. An answer: INFO, with the URL or query and what came back ("no data" included).
    """

    def __init__(self, checks: Sequence[ProbedCheck]) -> None:
        self._checks = list(checks)

    @property
    def name(self) -> str:
        return NAME

    @property
    def severity(self) -> Severity:
        return Severity.BLOCK

    def run(self, version: Version) -> Sequence[Finding]:
        if not self._checks:
            return []
        with ThreadPoolExecutor(max_workers=len(self._checks), thread_name_prefix="probe") as pool:
            probes = list(pool.map(lambda c: c.probe(version), self._checks))
        return [_finding(c, p) for c, p in zip(self._checks, probes, strict=True)]


def _finding(check: Check, probe: Probe) -> Finding:
    what = f"check {check.name} ({check.side.value})"
    if not probe.reached:
        return Finding(
            None,
            NAME,
            Severity.BLOCK,
            f"{what} cannot connect to {probe.where}: {probe.answer}; every measurement "
            "would fail and roll the release back: fix the URL or the network first",
        )
    if not probe.ok:
        return Finding(None, NAME, Severity.WARN, f"{what}: {probe.where}: {probe.answer}")
    return Finding(None, NAME, Severity.INFO, f"{what}: {probe.where}: {probe.answer}")


def reach_checks(checks: Sequence[Check]) -> list[PreflightCheck]:
    """The preflight check over those of `checks` that can be probed (none: nothing)."""
    probed = [c for c in checks if isinstance(c, ProbedCheck)]
    return [CheckReach(probed)] if probed else []
