"""Holding the pipeline lock for the length of a command: wait, take, renew, fence, let go."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shipper.core.emitter import Emitter
from shipper.core.events import LockReleased, LockTaken, LockWaiting, Notice
from shipper.core.model import Holder, LockInfo, LockLease
from shipper.core.ports import Clock, Lock
from shipper.errors import LockHeld, LockLost, ShipError


class Hold:
    """Our hold on the lock. `fence()` raises LockLost once somebody else has it; the
    renewer thread notices a loss between calls and sets `stop` so waits end early."""

    def __init__(self, lock: Lock, lease: LockLease, stop: threading.Event) -> None:
        self._lock = lock
        self.lease = lease
        self._stop = stop
        self.lost: LockLost | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def fence(self) -> None:
        if self.lost is not None:
            raise self.lost
        try:
            self._lock.verify(self.lease)
        except LockLost as exc:
            self._lose(exc)
            raise

    def _lose(self, exc: LockLost) -> None:
        self.lost = exc
        self._stop.set()

    def start_renewing(self) -> None:
        ttl = self.lease.info.ttl_seconds
        if not ttl:
            return
        self._thread = threading.Thread(
            target=self._renew_every, args=(ttl / 3,), name="lock-renewer", daemon=True
        )
        self._thread.start()

    def _renew_every(self, seconds: float) -> None:
        while not self._done.wait(seconds):
            try:
                self.lease = self._lock.renew(self.lease)
            except LockLost as exc:
                self._lose(exc)
                return
            except ShipError:
                continue  # transient; the next renewal tries again before the TTL runs out

    def end(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.lost is None:
            # a failed release of the lock leaves it to expire; the command's outcome matters more
            with contextlib.suppress(ShipError):
                self._lock.release(self.lease)


@contextmanager
def held(
    lock: Lock,
    *,
    holder: Holder,
    reason: str,
    ttl_seconds: float,
    force: bool,
    wait_seconds: float,
    clock: Clock,
    emitter: Emitter,
    stop: threading.Event,
) -> Iterator[Hold]:
    """Take the lock (waiting up to `wait_seconds` for its holder, as Kamal's lock wait
    does), keep it renewed while the block runs, and let go at the end."""
    deadline = clock.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            lease = lock.acquire(holder, reason, ttl_seconds, force=force)
            break
        except LockHeld:
            left = deadline - clock.monotonic()
            if left <= 0 or stop.is_set():
                raise
            if not announced:
                current = lock.show()
                emitter.emit(
                    LockWaiting(
                        holder=str(current.holder) if current else "",
                        reason=current.reason if current else "",
                        wait_seconds=round(left, 1),
                    )
                )
                announced = True
            clock.sleep(min(2.0, left))
    emitter.emit(
        LockTaken(
            holder=str(holder),
            took_over_from=str(lease.took_over.holder) if lease.took_over else None,
            takeover_reason=lease.takeover_reason,
        )
    )
    hold = Hold(lock, lease, stop)
    hold.start_renewing()
    try:
        yield hold
    finally:
        hold.end()
        if hold.lost is None:
            emitter.emit(LockReleased(holder=str(holder)))
            frozen = lease.took_over
            if frozen is not None and frozen.manual:
                _refreeze(lock, frozen, emitter)


def _refreeze(lock: Lock, frozen: LockInfo, emitter: Emitter) -> None:
    """A deploy freeze taken over with --force-lock is put back as it was (same holder,
    same reason) once the forced command is done: the override is for one command."""
    try:
        lock.acquire(frozen.holder, frozen.reason, None, manual=True)
    except ShipError as exc:
        emitter.emit(
            Notice(
                level="error",
                message=f'could not put back the freeze by {frozen.holder} ("{frozen.reason}"): '
                f"{exc}; `ship lock acquire --reason ...` puts it back",
            )
        )
        return
    emitter.emit(
        Notice(
            level="warning",
            message=f'the freeze by {frozen.holder} ("{frozen.reason}") is back in place',
        )
    )
