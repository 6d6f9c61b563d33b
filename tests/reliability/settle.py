"""How a reliability test judges the end of a release against the sandbox."""

from __future__ import annotations

from tests.reliability.stage import Run, Stage
from tests.reliability.tally import Tally

# What every target must run after each exit code: the new version, or the old one.
EXPECTED = {0: "new", 1: "old", 3: "old"}


def settled(stage: Stage, tally: Tally, run: Run, version: str, *codes: int) -> None:
    """The release ended with one of `codes`, and every target runs what that code promises:
    `version` after 0, v1 (the snapshot) after 1 or 3. Counts one attempt and, when the
    targets agree, one converged release."""
    tally.attempted += 1
    assert run.returncode in codes, f"exit {run.returncode}: {run.stderr[-1500:]}"
    assert "Traceback" not in run.stderr
    outcome = stage.outcome(version)
    assert outcome == EXPECTED[run.returncode], f"after exit {run.returncode}: {stage.running()}"
    tally.converged += 1
