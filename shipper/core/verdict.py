"""How waiting ends and what a check reads: the one `Verdict` enum, a target's result,
and a check's measurement. Enums for closed sets, so a `match` on them is total."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shipper.core.target import Target, TargetState


class Verdict(enum.StrEnum):
    """The outcome of waiting on one target (or one check). One enum, so `match` is total."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def is_final(self) -> bool:
        return self is not Verdict.PENDING


@dataclass(frozen=True)
class TargetResult:
    """The end of one target's deploy or rollback, as the adapter saw it."""

    target: Target
    verdict: Verdict
    state: TargetState | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.SUCCEEDED


class MeasurementStatus(enum.StrEnum):
    """One measurement of one check (Argo Rollouts' measurement phases, minus Error:
    ship folds an error into FAILED or INCONCLUSIVE per check kind, see verify)."""

    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Measurement:
    """One reading of one check: status, the value read (as text) and why."""

    status: MeasurementStatus
    value: str = ""
    message: str = ""
