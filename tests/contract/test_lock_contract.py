"""What every Lock backend promises (run over each backend in conftest.LOCKS)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shipper.core.model import Holder
from shipper.errors import LockHeld, LockLost
from shipper.ports import Lock
from tests.fakes.clock import FakeClock

ALICE = Holder("alice@here:1", "here", 1)
CI = Holder("ci-run-77", "runner", 2)


def test_second_holder_is_refused_with_the_holder_named(lock_factory: Callable[[], Lock]) -> None:
    """While one process holds the lock, another gets LockHeld naming holder and reason."""
    a, b = lock_factory(), lock_factory()
    a.acquire(ALICE, "deploy v2", 900)
    with pytest.raises(LockHeld, match=r'alice@here:1 \(reason: "deploy v2"'):
        b.acquire(CI, "deploy v3", 900)


def test_release_lets_the_next_holder_in(lock_factory: Callable[[], Lock]) -> None:
    """After release, the lock can be taken again."""
    a, b = lock_factory(), lock_factory()
    lease = a.acquire(ALICE, "deploy", 900)
    a.release(lease)
    assert b.acquire(CI, "deploy", 900).info.holder == CI


def test_force_takes_over_and_fences_the_old_holder(lock_factory: Callable[[], Lock]) -> None:
    """--force-lock takes over, says from whom, and the old lease no longer verifies."""
    a, b = lock_factory(), lock_factory()
    old = a.acquire(ALICE, "deploy", 900)
    new = b.acquire(CI, "rollback", 900, force=True)
    assert new.took_over is not None and new.took_over.holder == ALICE
    assert new.info.token > old.info.token
    with pytest.raises(LockLost):
        a.verify(old)
    with pytest.raises(LockLost):
        a.renew(old)
    b.verify(new)


def test_a_lost_lock_is_not_released_from_under_the_new_holder(
    lock_factory: Callable[[], Lock],
) -> None:
    """release() with an old lease leaves the new holder's lock in place."""
    a, b = lock_factory(), lock_factory()
    old = a.acquire(ALICE, "deploy", 900)
    b.acquire(CI, "rollback", 900, force=True)
    a.release(old)
    shown = b.show()
    assert shown is not None and shown.holder == CI


def test_expired_ttl_is_stale(lock_factory: Callable[[], Lock], clock: FakeClock) -> None:
    """A lock not renewed within its TTL is taken over without force, and says why."""
    a, b = lock_factory(), lock_factory()
    a.acquire(CI, "deploy", 60)
    clock.advance(61)
    lease = b.acquire(ALICE, "deploy", 60)
    assert lease.took_over is not None and "TTL" in lease.takeover_reason


def test_renewal_keeps_the_lock_live(lock_factory: Callable[[], Lock], clock: FakeClock) -> None:
    """A holder that renews in time keeps the lock past its first TTL."""
    a, b = lock_factory(), lock_factory()
    lease = a.acquire(CI, "deploy", 60)
    clock.advance(50)
    a.renew(lease)
    clock.advance(50)
    with pytest.raises(LockHeld):
        b.acquire(ALICE, "deploy", 60)


def test_dead_process_on_this_host_is_stale(
    lock_factory: Callable[[], Lock], alive: set[int]
) -> None:
    """A holder process on this host that no longer exists leaves a stale lock."""
    a, b = lock_factory(), lock_factory()
    a.acquire(Holder("bob@here:3", "here", 3), "deploy", 900)
    alive.discard(3)
    lease = b.acquire(ALICE, "deploy", 900)
    assert lease.took_over is not None and "no longer exists" in lease.takeover_reason


def test_manual_freeze_has_no_expiry(lock_factory: Callable[[], Lock], clock: FakeClock) -> None:
    """A manual lock (deploy freeze) is not stale after a day, and says how to lift it."""
    a, b = lock_factory(), lock_factory()
    a.acquire(Holder("alice@here", "here", None), "freeze for Black Friday", None, manual=True)
    clock.advance(86_400)
    with pytest.raises(LockHeld, match="ship lock release"):
        b.acquire(CI, "deploy", 900)


def test_release_any_lifts_a_freeze(lock_factory: Callable[[], Lock]) -> None:
    """`ship lock release` removes whatever lock there is and returns it."""
    a = lock_factory()
    a.acquire(Holder("alice@here", "here", None), "freeze", None, manual=True)
    lifted = a.release_any()
    assert lifted is not None and lifted.reason == "freeze"
    assert a.show() is None
