"""Retry policies for Kubernetes API calls, in one place.

Only calls that are safe to repeat are retried: reads, lists, and patches whose body
sets absolute values (an image, an annotation, a whole pod template), which land the
same however often they are sent. Creates and deletes are never retried blindly; their
callers read back what happened instead. Only `PlatformUnavailable` (unreachable, 429,
5xx) is retried, with jittered exponential backoff, an honoured `Retry-After`, a cap on
attempts and on total time, and sleeps through the `Clock` port so tests never wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from shipper.errors import PlatformUnavailable
from shipper.ports import Clock


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_wait: float = 0.2
    max_wait: float = 5.0
    total: float = 30.0  # give up once this much time went by since the first attempt


def _retry_after(state: RetryCallState) -> float:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) else 0.0


def retrying(policy: RetryPolicy, clock: Clock) -> Retrying:
    """A tenacity `Retrying` for one idempotent call under `policy`."""
    jitter = wait_random_exponential(multiplier=policy.first_wait, max=policy.max_wait)
    started = clock.monotonic()

    def wait(state: RetryCallState) -> float:
        return max(jitter(state), min(_retry_after(state), policy.max_wait * 4))

    class OutOfTime(stop_base):
        def __call__(self, retry_state: RetryCallState) -> bool:
            return clock.monotonic() - started >= policy.total

    return Retrying(
        retry=retry_if_exception_type(PlatformUnavailable),
        stop=stop_any(stop_after_attempt(policy.attempts), OutOfTime()),
        wait=wait,
        sleep=clock.sleep,
        reraise=True,
    )


NO_RETRY = RetryPolicy(attempts=1)
