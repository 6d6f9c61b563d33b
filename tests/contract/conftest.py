"""Backends of the Ledger, Lock and Platform ports, for the contract suites to run over.

Each fixture parameter is one backend; the same tests run over all of them, so the
fakes the core tests use are held to what the real backends do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipper.ports import Ledger, Lock
from shipper.state.sqlite_db import Database
from shipper.state.sqlite_ledger import SqliteLedger
from shipper.state.sqlite_lock import SqliteLock
from tests.contract.platforms import RIGS, PlatformRig
from tests.fakes.clock import FakeClock
from tests.fakes.ports import FakeLedger, FakeLock

LEDGERS: dict[str, Callable[[Path], Ledger]] = {
    "fake": lambda tmp: FakeLedger(),
    "sqlite": lambda tmp: SqliteLedger(Database(tmp / "state.sqlite3"), "web"),
}

# Each lock factory gets (tmp_path, clock, alive_pids) and returns a Lock whose holders on
# host "here" are alive iff their pid is in alive_pids.
LOCKS: dict[str, Callable[[Path, FakeClock, set[int]], Lock]] = {}


_FAKE_LOCKS: dict[Path, FakeLock] = {}


def _fake_lock(tmp: Path, clock: FakeClock, alive: set[int]) -> Lock:
    """One in-memory lock per test directory: every handle shares it, as files do."""
    if tmp not in _FAKE_LOCKS:
        _FAKE_LOCKS[tmp] = FakeLock(clock, "web", host="here")
    lock = _FAKE_LOCKS[tmp]
    lock.alive = alive
    return lock


def _sqlite_lock(tmp: Path, clock: FakeClock, alive: set[int]) -> Lock:
    return SqliteLock(
        Database(tmp / "state.sqlite3"),
        "web",
        clock,
        host="here",
        is_alive=lambda pid: pid in alive,
    )


LOCKS["fake"] = _fake_lock
LOCKS["sqlite"] = _sqlite_lock


@pytest.fixture(params=sorted(LEDGERS))
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    yield LEDGERS[request.param](tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def alive() -> set[int]:
    return {1, 2, 3}


@pytest.fixture(params=sorted(LOCKS))
def lock_factory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, alive: set[int]
) -> Callable[[], Lock]:
    """Makes handles on ONE lock (as two processes would open the same state)."""
    return lambda: LOCKS[request.param](tmp_path, clock, alive)


@pytest.fixture(params=sorted(RIGS))
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PlatformRig]:
    """One backend of the Platform port: the fake, Heroku on respx, Kubernetes on the
    sandbox's API server."""
    with RIGS[request.param](tmp_path) as made:
        yield made
