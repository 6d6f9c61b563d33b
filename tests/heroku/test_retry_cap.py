"""Read-only commands cap every retry budget, so an outage is reported in seconds."""

from __future__ import annotations

import pytest

from shipper.heroku.errors import HerokuUnavailable
from shipper.heroku.retry import READ, Retrier
from tests.fakes.clock import FakeClock


def always_down() -> None:
    raise HerokuUnavailable("Heroku answered 503", status=503, sent=True)


def test_read_retries_stop_at_the_cap() -> None:
    """With a 10 s cap, a read that keeps failing gives up within 10 s of clock time."""
    clock = FakeClock()
    with pytest.raises(HerokuUnavailable):
        Retrier(clock, deadline_cap=10.0).call(READ, always_down)
    assert 0 < sum(clock.sleeps) <= 10.0


def test_without_a_cap_reads_keep_their_own_budget() -> None:
    """Without a cap the read policy retries well past 10 s before giving up."""
    clock = FakeClock()
    with pytest.raises(HerokuUnavailable):
        Retrier(clock).call(READ, always_down)
    assert sum(clock.sleeps) > 10.0
