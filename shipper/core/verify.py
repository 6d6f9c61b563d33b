"""The bake: measure every check each interval and decide, as Argo Rollouts' analysis does.

A check fails when its consecutive failed measurements exceed `failure_limit`, or its
consecutive inconclusive ones exceed `inconclusive_limit` (no data is never a pass). The
first check to fail ends the bake at once, so detection takes at most
`interval * failure_limit` after the first bad reading, plus one request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from shipper.core.config import VerifyPolicy
from shipper.core.events import CheckFailed, CheckMeasured, Event
from shipper.core.model import Measurement, MeasurementStatus, Side, Version
from shipper.errors import ShipError
from shipper.ports import Check, Clock, Platform


@dataclass(frozen=True)
class BakeResult:
    """How a bake ended. `passed` is False for a failed check and for an interruption."""

    passed: bool
    check: str = ""
    side: Side | None = None
    reason: str = ""
    threshold: str = ""
    last: tuple[Measurement, ...] = ()
    interrupted: bool = False
    rounds: int = 0


class PlatformHealthCheck:
    """A side's own health (rolled out, available, not crashing) as a check."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    @property
    def name(self) -> str:
        return f"{self._platform.side.value}-health"

    @property
    def side(self) -> Side:
        return self._platform.side

    @property
    def threshold(self) -> str:
        return "every target on the new version, available, not crashing"

    def measure(self, version: Version) -> Measurement:
        return self._platform.health(version)


@dataclass
class _Tally:
    check: Check
    successes: int = 0
    failures: int = 0
    inconclusives: int = 0
    consecutive_failures: int = 0
    consecutive_inconclusives: int = 0
    last: list[Measurement] = field(default_factory=list)

    def add(self, m: Measurement) -> None:
        self.last = [*self.last[-4:], m]
        match m.status:
            case MeasurementStatus.SUCCESSFUL:
                self.successes += 1
                self.consecutive_failures = self.consecutive_inconclusives = 0
            case MeasurementStatus.FAILED:
                self.failures += 1
                self.consecutive_failures += 1
                self.consecutive_inconclusives = 0
            case MeasurementStatus.INCONCLUSIVE:
                self.inconclusives += 1
                self.consecutive_inconclusives += 1

    def verdict(self, policy: VerifyPolicy) -> str:
        """Why this check has failed, or "" while it has not."""
        if self.consecutive_failures > policy.failure_limit:
            return (
                f"{self.consecutive_failures} failed measurements in a row "
                f"(failure_limit {policy.failure_limit})"
            )
        if self.consecutive_inconclusives > policy.inconclusive_limit:
            return (
                f"{self.consecutive_inconclusives} inconclusive measurements in a row "
                f"(inconclusive_limit {policy.inconclusive_limit}); no data is not a pass"
            )
        return ""


def _measure(check: Check, version: Version) -> Measurement:
    try:
        return check.measure(version)
    except ShipError as exc:  # a platform that cannot be read gives no data, not a pass
        return Measurement(MeasurementStatus.INCONCLUSIVE, message=str(exc))


def bake(
    checks: Sequence[Check],
    policy: VerifyPolicy,
    *,
    version: Version,
    seconds: float,
    clock: Clock,
    emit: Callable[[Event], None],
    cancelled: Callable[[], bool],
    pause: Callable[[float], None],
    rounds: int | None = None,
) -> BakeResult:
    """Measure all `checks` concurrently every interval for `seconds` (or `rounds`)."""
    tallies = [_Tally(c) for c in checks]
    start = clock.monotonic()
    done = 0
    with ThreadPoolExecutor(
        max_workers=max(1, min(16, len(tallies))), thread_name_prefix="check"
    ) as pool:
        while True:
            if cancelled():
                return BakeResult(passed=False, interrupted=True, rounds=done)
            results = list(pool.map(lambda t: _measure(t.check, version), tallies))
            done += 1
            for tally, m in zip(tallies, results, strict=True):
                tally.add(m)
                emit(
                    CheckMeasured(
                        check=tally.check.name,
                        side=tally.check.side.value,
                        status=m.status.value,
                        value=m.value,
                        message=m.message,
                        successes=tally.successes,
                        failures=tally.failures,
                        inconclusives=tally.inconclusives,
                        consecutive_failures=tally.consecutive_failures,
                    )
                )
            for tally in tallies:
                why = tally.verdict(policy)
                if why:
                    last = tuple(tally.last)
                    emit(
                        CheckFailed(
                            check=tally.check.name,
                            side=tally.check.side.value,
                            reason=why,
                            threshold=tally.check.threshold,
                            last=[f"{x.status.value}: {x.value} {x.message}".strip() for x in last],
                        )
                    )
                    return BakeResult(
                        passed=False,
                        check=tally.check.name,
                        side=tally.check.side,
                        reason=why,
                        threshold=tally.check.threshold,
                        last=last,
                        rounds=done,
                    )
            if rounds is not None and done >= rounds:
                break
            if clock.monotonic() - start + policy.interval_seconds > seconds and rounds is None:
                break
            pause(policy.interval_seconds)
    for tally in tallies:
        if tally.successes == 0:  # never passed on missing data, however short the bake
            why = "no successful measurement during the bake"
            emit(
                CheckFailed(
                    check=tally.check.name,
                    side=tally.check.side.value,
                    reason=why,
                    threshold=tally.check.threshold,
                    last=[f"{x.status.value}: {x.value} {x.message}".strip() for x in tally.last],
                )
            )
            return BakeResult(
                passed=False,
                check=tally.check.name,
                side=tally.check.side,
                reason=why,
                threshold=tally.check.threshold,
                last=tuple(tally.last),
                rounds=done,
            )
    return BakeResult(passed=True, rounds=done)
