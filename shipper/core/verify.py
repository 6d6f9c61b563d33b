"""The bake: measure every check each interval and decide, as Argo Rollouts' analysis does.

Counting (see `VerifyPolicy`): a check fails when its consecutive failed measurements
exceed `failure_limit` (Argo's `failed > failureLimit`, strictly greater), or its
consecutive inconclusive ones exceed `inconclusive_limit`. Only a successful measurement
resets a failure streak: an inconclusive reading between two failed ones is no evidence
of recovery. A failed one resets the inconclusive streak, because it is data.

Where ship departs from Argo, and why:
- Argo passes a metric once its count is reached, even if its last readings failed (under
  the limit). Here the window closing is not enough: a check whose latest measurement is
  not successful keeps being measured, each interval, until it succeeds or crosses a
  limit. A regression that starts in the last interval of the bake is therefore caught,
  and no check passes without a successful reading (no data is never a pass).
- Every check keeps its own cadence: its measurements start at start, start + interval,
  ... and each is judged as it arrives, so the first check to fail ends the bake at once;
  measurements still running are abandoned (Argo terminates in-flight measurements the
  same way). A slow check delays only its own next measurement (an overrun delays it,
  never skips it); the others stay on their cadence.
- A check's last measurement of the window starts early by the time its previous one
  took, so it lands at the window's end: the bake lasts what was asked, not that plus one
  request (at 75 workloads a platform reading takes 0.1 to 0.2 s).
- The window is bounded in time, not by a count of rounds: a check's window is over once
  its next slot falls past `seconds`, or once `seconds` have passed when one of its
  measurements ends. So a check whose measurement outlasts the interval makes the bake
  last at most the window plus that one measurement, instead of stretching every round
  (the bake used to count rounds, and each round waited for its slowest check: readings
  of 3 to 4 s made 4 s of bakes last 28.6 s at 75 workloads).

Detection latency: from the start of a check's first failed measurement to the end of the
bake is at most `interval * failure_limit` plus the duration of one of its measurements
(bounded by the check's request timeout), as long as its measurements finish within the
interval; another check's slowness does not add to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Protocol

from shipper.core.config import VerifyPolicy
from shipper.core.events import CheckFailed, CheckMeasured, Event, Notice
from shipper.core.model import Measurement, MeasurementStatus, Side, TargetState, Version
from shipper.core.ports import Check, Clock
from shipper.errors import ShipError

log = logging.getLogger(__name__)

KEEP_LAST = 5  # measurements per check kept for the failure report
POLL_SECONDS = 0.1  # how often a wait for measurements looks at `cancelled` (real time)
MAX_WORKERS = 16


@dataclass(frozen=True)
class BakeResult:
    """How a bake ended. `passed` is False for a failed check and for an interruption.

    For a failed check: its name, side, why (the limit crossed and the last reading), its
    threshold and its last measurements, oldest first. `seconds` is the bake's length on
    the clock and `rounds` the most measurements any one check started.
    """

    passed: bool
    check: str = ""
    side: Side | None = None
    reason: str = ""
    threshold: str = ""
    last: tuple[Measurement, ...] = ()
    interrupted: bool = False
    rounds: int = 0
    seconds: float = 0.0


def platform_check_name(side: Side) -> str:
    """The name of a side's own health check (`heroku-platform`); pipelines may not use it,
    so the events and the live view never merge it with a configured check."""
    return f"{side.value}-platform"


class SideHealth(Protocol):
    """What the platform check needs of a side: which side it is and its health."""

    @property
    def side(self) -> Side: ...

    def health(self, expected: Sequence[TargetState]) -> Measurement: ...


class PlatformHealthCheck:
    """A side's own health (rolled out, available, not crashing) as a check.

    It is measured against `expected`, the states each target must run (by the
    platform's identity), not against the version under test: after a migration the old
    code must still run, after a rollback the restored one, whatever their labels."""

    def __init__(self, platform: SideHealth, expected: Sequence[TargetState]) -> None:
        self._platform = platform
        self._expected = tuple(expected)

    @property
    def name(self) -> str:
        return platform_check_name(self._platform.side)

    @property
    def side(self) -> Side:
        return self._platform.side

    @property
    def threshold(self) -> str:
        return "every target on the expected code, available, not crashing"

    @property
    def uses_version(self) -> bool:
        return False

    def measure(self, version: Version) -> Measurement:
        return self._platform.health(self._expected)


@dataclass
class _Tally:
    """One check's counters (Argo's per-metric counters, errors folded in)."""

    check: Check
    successes: int = 0
    failures: int = 0
    inconclusives: int = 0
    consecutive_failures: int = 0
    consecutive_inconclusives: int = 0
    last: list[Measurement] = field(default_factory=list)
    done: bool = False  # the window closed and its latest measurement was successful
    began: float = 0.0  # when the measurement running now (or the latest) started
    took: float = 0.0  # how long the latest finished measurement took

    def add(self, m: Measurement) -> None:
        self.last = [*self.last[-(KEEP_LAST - 1) :], m]
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

    @property
    def is_passing(self) -> bool:
        return bool(self.last) and self.last[-1].status is MeasurementStatus.SUCCESSFUL

    def verdict(self, policy: VerifyPolicy) -> str:
        """Why this check has failed, or "" while it has not."""
        if self.consecutive_failures > policy.failure_limit:
            why = (
                f"{self.consecutive_failures} failed measurements in a row "
                f"(failure_limit {policy.failure_limit})"
            )
        elif self.consecutive_inconclusives > policy.inconclusive_limit:
            why = (
                f"{self.consecutive_inconclusives} inconclusive measurements in a row "
                f"(inconclusive_limit {policy.inconclusive_limit}); no data is not a pass"
            )
        else:
            return ""
        latest = self.last[-1]
        said = latest.message or latest.value
        return f"{why}; last: {said}" if said else why

    def measured(self, m: Measurement) -> CheckMeasured:
        return CheckMeasured(
            check=self.check.name,
            side=self.check.side.value,
            status=m.status.value,
            value=m.value,
            message=m.message,
            successes=self.successes,
            failures=self.failures,
            inconclusives=self.inconclusives,
            consecutive_failures=self.consecutive_failures,
        )


def _measure(check: Check, version: Version) -> Measurement:
    """One measurement. A check that raises gave no data: inconclusive, never a pass."""
    try:
        return check.measure(version)
    except ShipError as exc:  # a platform that cannot be read: its message is safe to show
        return Measurement(MeasurementStatus.INCONCLUSIVE, message=str(exc))
    except Exception as exc:  # a bug in a check must not stop the rollback it may call for
        # the traceback goes to the debug log only: exception text may quote a URL
        log.debug("check %s raised", check.name, exc_info=True)
        return Measurement(
            MeasurementStatus.INCONCLUSIVE,
            message=f"the check raised {type(exc).__name__} (a bug in the check)",
        )


def _show(m: Measurement) -> str:
    return " ".join(p for p in (f"{m.status.value}:", m.value, m.message) if p)


class _Interrupted(Exception):
    """The operator asked to stop while a round was being measured."""


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
    """Measure all `checks` concurrently every interval for `seconds` and decide.

    Each check keeps its own cadence (see the module docstring). The window is `seconds`
    long and gives each check at least `rounds` measurements (a rollback's verification
    asks for one with no window); after it, checks whose latest measurement is not
    successful are measured on until they pass or fail. Every measurement is emitted as a
    `check_result` event; a failing check is emitted as `check_failed` and ends the bake
    at once. `pause` sleeps while nothing is being measured and returns early once
    `cancelled()` is true, which ends the bake as interrupted.
    """
    start = clock.monotonic()
    tallies = [_Tally(c) for c in checks]
    if not tallies:  # nothing to measure: the caller decided there is nothing to verify
        return BakeResult(passed=True)
    interval = policy.interval_seconds
    if interval <= 0:
        raise ValueError("verify interval must be above zero")
    pool = ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(tallies)), thread_name_prefix="check"
    )
    started = {id(t): 0 for t in tallies}  # measurements started, per check
    order = {id(t): i for i, t in enumerate(tallies)}
    running: dict[Future[Measurement], _Tally] = {}
    noticed = False

    def finish(outcome: BakeResult) -> BakeResult:
        most = max(started.values())
        return replace(outcome, rounds=most, seconds=round(clock.monotonic() - start, 3))

    def due(t: _Tally) -> float:
        """When the check's next measurement starts: its next slot on the cadence, even if
        that slot has passed (an overrun delays a measurement, never skips it).

        The window's last slot starts early by the time the check's previous measurement
        took (never before the slot before it), so that reading lands at the window's end
        instead of one request later: the bake lasts what the pipeline asked for."""
        n = started[id(t)]
        slot = n * interval
        if n >= 1 and slot <= seconds < slot + interval:
            slot = max((n - 1) * interval, slot - t.took)
        return start + slot

    def window_over(t: _Tally) -> bool:
        """The check's window closed: the next slot falls past it, or the window's time
        ran out while it was being measured (a slow check gets no extra measurements)."""
        n = started[id(t)]
        return n >= (rounds or 0) and (
            n * interval > seconds or clock.monotonic() - start >= seconds
        )

    try:
        while True:
            if cancelled():
                return finish(BakeResult(passed=False, interrupted=True))
            busy = {id(t) for t in running.values()}
            for t in tallies:
                if not t.done and id(t) not in busy and due(t) <= clock.monotonic():
                    started[id(t)] += 1
                    t.began = clock.monotonic()
                    running[pool.submit(_measure, t.check, version)] = t
            if running:
                busy = {id(t) for t in running.values()}
                waiting = [
                    due(t) - clock.monotonic() for t in tallies if not t.done and id(t) not in busy
                ]
                timeout = min([POLL_SECONDS, *(max(0.0, d) for d in waiting)])
                finished, _ = wait(set(running), timeout=timeout, return_when=FIRST_COMPLETED)
            else:
                finished = set()
            for future in sorted(finished, key=lambda f: order[id(running[f])]):
                tally = running.pop(future)
                tally.took = clock.monotonic() - tally.began
                tally.add(future.result())
                emit(tally.measured(tally.last[-1]))
                if tally.verdict(policy):
                    emit(
                        CheckFailed(
                            check=tally.check.name,
                            side=tally.check.side.value,
                            reason=tally.verdict(policy),
                            threshold=tally.check.threshold,
                            last=[_show(m) for m in tally.last],
                        )
                    )
                    return finish(
                        BakeResult(
                            passed=False,
                            check=tally.check.name,
                            side=tally.check.side,
                            reason=tally.verdict(policy),
                            threshold=tally.check.threshold,
                            last=tuple(tally.last),
                        )
                    )
                if window_over(tally):
                    tally.done = tally.is_passing
                    if not tally.done and not noticed:
                        noticed = True
                        emit(
                            Notice(
                                level="info",
                                message=f"bake window over; still measuring "
                                f"{tally.check.name} until it passes or crosses its limit",
                            )
                        )
            if all(t.done for t in tallies):
                return finish(BakeResult(passed=True))
            if not running:
                wait_for = min(due(t) for t in tallies if not t.done) - clock.monotonic()
                if wait_for > 0:
                    pause(wait_for)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
