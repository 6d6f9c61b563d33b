"""The bake: counting, the window, concurrency and the detection-latency bound."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from shipper.core.clock import SystemClock
from shipper.core.config import VerifyPolicy
from shipper.core.events import CheckFailed, CheckMeasured, Event, Notice
from shipper.core.model import Measurement, MeasurementStatus, Side, Target, TargetState, Version
from shipper.core.verify import BakeResult, PlatformHealthCheck, bake
from shipper.errors import PlatformUnavailable
from shipper.ports import Check
from tests.checks.scripted import ScriptedCheck
from tests.fakes.clock import FakeClock

V42 = Version("v42")
POLICY = VerifyPolicy(bake_seconds=60, interval_seconds=15, failure_limit=2, inconclusive_limit=3)


class Run:
    """One bake on a FakeClock, with its events and a cancel switch."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.events: list[Event] = []
        self.stop = threading.Event()
        self.pauses: list[float] = []
        self.on_pause: Callable[[], None] | None = None

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.on_pause is not None:
            self.on_pause()
        if not self.stop.is_set():
            self.clock.sleep(seconds)

    def __call__(
        self,
        checks: Sequence[Check],
        policy: VerifyPolicy = POLICY,
        seconds: float | None = None,
        rounds: int | None = None,
    ) -> BakeResult:
        return bake(
            checks,
            policy,
            version=V42,
            seconds=policy.bake_seconds if seconds is None else seconds,
            clock=self.clock,
            emit=self.events.append,
            cancelled=self.stop.is_set,
            pause=self.pause,
            rounds=rounds,
        )

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


def test_healthy_checks_pass_after_the_window() -> None:
    """Checks that always pass are measured at 0, 15, ..., 60 s and the bake passes."""
    run = Run()
    check = ScriptedCheck(clock=run.clock)
    result = run([check])
    assert result.passed and result.rounds == 5
    assert [t for _, t in check.calls] == [1000.0, 1015.0, 1030.0, 1045.0, 1060.0]


def test_a_check_result_event_every_interval_for_every_check() -> None:
    """Each round emits one check_result event per check, with running counts."""
    run = Run()
    run([ScriptedCheck(name="a"), ScriptedCheck(name="b", script="SF")])
    measured = run.of(CheckMeasured)
    assert len(measured) == 10
    b = [e for e in measured if isinstance(e, CheckMeasured) and e.check == "b"]
    assert [(e.status, e.failures, e.consecutive_failures) for e in b[:3]] == [
        ("successful", 0, 0),
        ("failed", 1, 1),
        ("successful", 1, 0),
    ]


def test_checks_are_measured_with_the_version_under_test() -> None:
    """Every measurement is asked about the version being baked."""
    check = ScriptedCheck()
    Run()([check], rounds=1, seconds=0)
    assert check.calls[0][0] == V42


def test_flapping_check_under_the_limit_passes() -> None:
    """Failed streaks no longer than failure_limit, broken by successes, do not fail."""
    check = ScriptedCheck(script="SFFSFSFFS")
    result = Run()([check], seconds=120)
    assert result.passed


def test_fails_on_the_measurement_past_the_limit() -> None:
    """With failure_limit 2 the third failed measurement in a row fails the check."""
    result = Run()([ScriptedCheck(script="SFFF")])
    assert not result.passed
    assert result.rounds == 4
    assert result.reason.startswith("3 failed measurements in a row (failure_limit 2)")


def test_failure_limit_zero_fails_on_the_first_failure() -> None:
    """failure_limit 0 means the first failed measurement fails the check."""
    policy = VerifyPolicy(bake_seconds=60, interval_seconds=15, failure_limit=0)
    result = Run()([ScriptedCheck(script="F")], policy)
    assert (result.passed, result.rounds) == (False, 1)


def test_inconclusive_past_its_limit_fails() -> None:
    """More inconclusive measurements in a row than inconclusive_limit fail the release."""
    result = Run()([ScriptedCheck(script="IIII", then="I")], seconds=300)
    assert not result.passed
    assert result.rounds == 4
    assert "no data is not a pass" in result.reason


def test_inconclusive_does_not_reset_a_failure_streak() -> None:
    """A missing reading between failed ones is no recovery: F I F I F fails."""
    result = Run()([ScriptedCheck(script="FIFIF")], seconds=300)
    assert (result.passed, result.rounds) == (False, 5)


def test_only_inconclusive_readings_never_pass() -> None:
    """A check that never gave a successful reading fails, however short the window."""
    policy = VerifyPolicy(bake_seconds=15, interval_seconds=15, inconclusive_limit=3)
    result = Run()([ScriptedCheck(then="I")], policy)
    assert not result.passed and "inconclusive" in result.reason


def test_regression_in_the_last_interval_is_caught() -> None:
    """A check first failing at the window's last measurement is measured on until it fails."""
    run = Run()
    check = ScriptedCheck(script="SSSSFFF")
    result = run([check])
    assert not result.passed
    assert result.rounds == 7
    assert any(isinstance(e, Notice) and "probe" in e.message for e in run.events)


def test_trailing_failure_that_recovers_passes() -> None:
    """A check failing at the end of the window passes once it measures successful again."""
    result = Run()([ScriptedCheck(script="SSSSFS")])
    assert result.passed and result.rounds == 6


def test_checks_done_after_the_window_are_not_measured_again() -> None:
    """After the window, only the checks still lagging are measured."""
    steady, lagging = ScriptedCheck(name="steady"), ScriptedCheck(name="lag", script="SSSSFFS")
    assert Run()([steady, lagging]).passed
    assert (len(steady.calls), len(lagging.calls)) == (5, 7)


def test_first_failure_ends_the_bake_at_once() -> None:
    """The first check to fail ends the bake in that round; the window is not waited out."""
    run = Run()
    good, bad = ScriptedCheck(name="good"), ScriptedCheck(name="bad", script="SFFF")
    result = run([good, bad], seconds=300)
    assert (result.passed, result.check, result.rounds) == (False, "bad", 4)
    assert run.clock.monotonic() - 1000.0 == 45.0
    assert len(good.calls) == 4


def test_a_failure_does_not_wait_for_slower_checks() -> None:
    """A failing measurement ends the bake while another check's measurement is still running."""
    in_flight = threading.Event()
    slow = ScriptedCheck(name="slow", gate=in_flight)
    bad = ScriptedCheck(name="bad", script="F")
    policy = VerifyPolicy(bake_seconds=60, interval_seconds=15, failure_limit=0)
    try:
        result = Run()([slow, bad], policy)
        assert result.check == "bad"
        assert slow.completed == 0  # the slow measurement was still running
    finally:
        in_flight.set()


def test_detection_latency_is_bounded_by_interval_times_limit_plus_a_timeout() -> None:
    """From the start of the first failed measurement to the end of the bake takes at most
    interval x failure_limit plus one request timeout (a check that hangs until its timeout)."""
    clock = FakeClock()
    timeout = 10.0
    failing = ScriptedCheck(name="hangs", script="SSSFFF", clock=clock, duration=timeout)
    run = Run(clock)
    result = run([failing, ScriptedCheck(name="fine")], seconds=300)
    assert not result.passed and result.check == "hangs"
    first_bad = failing.started_at(3)
    latency = clock.monotonic() - first_bad
    bound = POLICY.interval_seconds * POLICY.failure_limit + timeout
    assert latency <= bound
    assert latency == 40.0  # the bound is reached: 15 x 2 + 10


def test_rounds_keep_a_fixed_cadence_when_measurements_take_time() -> None:
    """A round whose measurements take 10 s still starts the next one 15 s after its own
    start; only the window's last reading starts early (here as soon as the one before it
    has ended), so that it lands near the window's end."""
    clock = FakeClock()
    check = ScriptedCheck(clock=clock, duration=10.0)
    Run(clock)([check])
    assert [t - 1000.0 for _, t in check.calls] == [0.0, 15.0, 30.0, 45.0, 55.0]


def test_the_last_reading_of_the_window_lands_at_its_end() -> None:
    """Readings that take 2 s: the last one starts 2 s before the 60 s window closes, so
    the bake lasts 60 s, not 60 s plus one reading."""
    clock = FakeClock()
    check = ScriptedCheck(clock=clock, duration=2.0)
    result = Run(clock)([check], seconds=60)
    assert result.passed
    assert [t - 1000.0 for _, t in check.calls] == [0.0, 15.0, 30.0, 45.0, 58.0]
    assert result.seconds == 60.0


def test_check_failed_event_names_threshold_and_last_measurements() -> None:
    """The check_failed event carries the side, the threshold and the last readings."""
    run = Run()
    result = run([ScriptedCheck(name="p99", side=Side.HEROKU, script="SFFF")])
    [failed] = run.of(CheckFailed)
    assert isinstance(failed, CheckFailed)
    assert (failed.check, failed.side, failed.threshold) == ("p99", "heroku", "p99 <= 0.5")
    assert failed.last == [
        "successful: #1 scripted S",
        "failed: #2 scripted F",
        "failed: #3 scripted F",
        "failed: #4 scripted F",
    ]
    assert result.side is Side.HEROKU and len(result.last) == 4


def test_rollback_verification_round_passes_without_pausing() -> None:
    """One round with no window (a rollback's verification) passes at once when all is well."""
    run = Run()
    result = run([ScriptedCheck(), ScriptedCheck(name="b")], seconds=0, rounds=1)
    assert (result.passed, result.rounds, run.pauses) == (True, 1, [])


def test_rollback_verification_waits_for_a_check_to_recover() -> None:
    """A check still failing in the first round after a rollback gets until its limit to recover."""
    result = Run()([ScriptedCheck(script="FS")], seconds=0, rounds=1)
    assert result.passed and result.rounds == 2


def test_rollback_verification_fails_when_health_does_not_return() -> None:
    """A check failing past its limit after a rollback fails the verification."""
    result = Run()([ScriptedCheck(then="F")], seconds=0, rounds=1)
    assert not result.passed and result.rounds == 3


class Raising:
    name, side, threshold, uses_version = "buggy", Side.HEROKU, "never", False

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def measure(self, version: Version) -> Measurement:
        raise self.exc


def test_platform_error_in_a_check_is_inconclusive() -> None:
    """A ShipError from a check is an inconclusive measurement with its message."""
    run = Run()
    run([Raising(PlatformUnavailable("Heroku answered 503"))], seconds=0, rounds=1)
    first = run.of(CheckMeasured)[0]
    assert isinstance(first, CheckMeasured)
    assert (first.status, first.message) == ("inconclusive", "Heroku answered 503")


def test_a_bug_in_a_check_fails_the_bake_instead_of_crashing_it() -> None:
    """An unexpected exception is inconclusive, so it ends in a failed bake (and a rollback)."""
    run = Run()
    result = run([Raising(KeyError("https://user:pw@host"))], seconds=0, rounds=1)
    assert not result.passed
    assert "KeyError" in result.reason and "pw@host" not in result.reason


def test_cancel_before_a_round_interrupts() -> None:
    """A bake asked to stop returns interrupted, not passed."""
    run = Run()
    run.stop.set()
    result = run([ScriptedCheck()])
    assert (result.passed, result.interrupted) == (False, True)


def test_cancel_during_the_pause_interrupts() -> None:
    """Stopping while the bake waits between rounds ends it as interrupted."""
    run = Run()
    run.on_pause = run.stop.set
    check = ScriptedCheck()
    result = run([check])
    assert result.interrupted and len(check.calls) == 1


def test_no_checks_pass_at_once() -> None:
    """With nothing to measure, the bake returns passed without waiting."""
    run = Run()
    assert run([]).passed and run.pauses == []


class FakePlatform:
    side = Side.KUBERNETES

    def __init__(self) -> None:
        self.asked: list[tuple[TargetState, ...]] = []

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        self.asked.append(tuple(expected))
        return Measurement(
            MeasurementStatus.FAILED, "1/3 available", "deployment/web: 2 pods crashing"
        )


def test_platform_health_check_wraps_platform_health() -> None:
    """PlatformHealthCheck is named after its side and reports the platform's health,
    measured against the states it was given, whatever version the bake is for."""
    platform = FakePlatform()
    expected = [TargetState(Target(Side.KUBERNETES, "deployment/web"), None, identity="x")]
    check = PlatformHealthCheck(platform, expected)
    m = check.measure(V42)
    assert (check.name, check.side, m.value) == (
        "kubernetes-platform",
        Side.KUBERNETES,
        "1/3 available",
    )
    assert platform.asked == [tuple(expected)]


def test_verify_imports_no_vendor() -> None:
    """The bake is core: importing it loads neither httpx nor kubernetes."""
    code = (
        "import sys, shipper.core.verify; "
        "sys.exit(bool({'httpx', 'kubernetes'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


class Sleepy:
    """A check whose every measurement takes `seconds` of real time (a slow platform read)."""

    side, threshold, uses_version = Side.KUBERNETES, "healthy", False

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self.calls = 0

    def measure(self, version: Version) -> Measurement:
        self.calls += 1
        time.sleep(self.seconds)
        return Measurement(MeasurementStatus.SUCCESSFUL, "ok")


def real_bake(checks: Sequence[Check], policy: VerifyPolicy, seconds: float) -> BakeResult:
    return bake(
        checks,
        policy,
        version=V42,
        seconds=seconds,
        clock=SystemClock(),
        emit=lambda _: None,
        cancelled=lambda: False,
        pause=time.sleep,
    )


def test_a_slow_check_does_not_stretch_the_window() -> None:
    """A check whose measurement takes 4 intervals ends the bake at most one measurement
    after the window; the other checks stay on their cadence meanwhile."""
    policy = VerifyPolicy(bake_seconds=0.75, interval_seconds=0.125, failure_limit=2)
    slow, fast = Sleepy("slow", 0.5), ScriptedCheck(name="fast")
    began = time.monotonic()
    result = real_bake([slow, fast], policy, seconds=0.75)
    took = time.monotonic() - began
    assert result.passed
    assert took < 0.75 + 0.5 + 0.3  # counted in rounds that each wait for it: 7 x 0.5 = 3.5 s
    assert len(fast.calls) == 7  # 0, 0.125, ..., 0.75 s
    assert slow.calls <= 3


def test_detection_is_not_delayed_by_a_slow_check() -> None:
    """A failing check is caught within interval x failure_limit of its first failed
    measurement while another check's measurements each take several intervals."""
    policy = VerifyPolicy(bake_seconds=5, interval_seconds=0.1, failure_limit=2)
    clock = SystemClock()
    failing = ScriptedCheck(name="errors", script="SFFF", clock=clock)
    began = time.monotonic()
    result = real_bake([Sleepy("slow", 0.5), failing], policy, seconds=5)
    assert result.check == "errors"
    ended = time.monotonic()
    assert ended - failing.started_at(1) < 0.2 + 0.15  # interval x failure_limit, and slack
    assert ended - began < 0.5  # rounds waiting for the slow check: about 2 s
