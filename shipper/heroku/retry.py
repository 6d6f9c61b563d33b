"""One tenacity policy per kind of Heroku call, built in one place.

- `READ` (GET) and `IDEMPOTENT` (PATCH of a formation) retry every retryable failure:
  429, 5xx and transport errors, with jittered exponential backoff.
- `CREATE` (POST of a build, a release or a rollback) retries only failures that
  certainly did not reach Heroku (a 429, a refused connection). After anything else the
  caller looks for what the POST may have created: a blind retry can make a second
  release (reference/heroku.md 1.3).
- `STREAM` reads an output stream, which answers 404 until the command starts.

Every policy honours `Retry-After` when Heroku sends one, and stops at a total deadline
measured on the injected clock, never on the wall clock: a test's FakeClock makes every
wait instant, and no wait outlives the deadline (a retry that could only start after it
is not made).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from shipper.errors import PlatformNotFound
from shipper.heroku.errors import HerokuUnavailable
from shipper.ports import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one kind of call is retried."""

    name: str
    attempts: int
    total_seconds: float
    initial_wait: float
    max_wait: float
    unsent_only: bool = False  # CREATE: retry only what never reached Heroku
    on_not_found: bool = False  # STREAM: 404 means "not started yet"
    max_retry_after: float = 120.0  # a Retry-After above this is capped, not obeyed blindly

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, HerokuUnavailable):
            return not (self.unsent_only and exc.sent)
        return self.on_not_found and isinstance(exc, PlatformNotFound)


READ = RetryPolicy("read", attempts=8, total_seconds=180.0, initial_wait=1.0, max_wait=60.0)
IDEMPOTENT = RetryPolicy(
    "idempotent write", attempts=5, total_seconds=180.0, initial_wait=1.0, max_wait=60.0
)
CREATE = RetryPolicy(
    "create", attempts=5, total_seconds=180.0, initial_wait=2.0, max_wait=60.0, unsent_only=True
)
STREAM = RetryPolicy(
    "stream", attempts=4, total_seconds=20.0, initial_wait=1.0, max_wait=5.0, on_not_found=True
)


class Retrier:
    """Runs a call under a policy, sleeping on the injected clock."""

    def __init__(self, clock: Clock, *, deadline_cap: float | None = None) -> None:
        """`deadline_cap` shortens every policy's total deadline: `ship status` would
        rather say "unreachable" in seconds than retry for minutes at 3 a.m."""
        self._clock = clock
        self._cap = deadline_cap

    def call(self, policy: RetryPolicy, fn: Callable[[], T]) -> T:
        """`fn()`, retried per `policy`; the last error is re-raised as itself."""
        started = self._clock.monotonic()

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, HerokuUnavailable) and exc.retry_after is not None:
                return min(exc.retry_after, policy.max_retry_after)
            # Exponential with full jitter on top, so parallel app threads spread out.
            step = policy.initial_wait * 2 ** (state.attempt_number - 1)
            return float(min(policy.max_wait, step + random.uniform(0, policy.initial_wait)))

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            elapsed = self._clock.monotonic() - started
            total = min(policy.total_seconds, self._cap or policy.total_seconds)
            return elapsed + state.upcoming_sleep > total

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(policy.should_retry),
            wait=wait,
            stop=stop,
            sleep=self._clock.sleep,
            reraise=True,
        )
        return retrying(fn)
