"""A whole release world made of fakes: two sides, a ledger, a lock, a gate, checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from shipper import __version__
from shipper.core.config import MigrationPolicy, ReleasePolicy, VerifyPolicy
from shipper.core.model import LedgerEntry, Release, ReleaseNo, Side, Version
from shipper.core.ports import Ports
from shipper.core.run import DeployRequest, Outcome, Releaser, RollbackRequest
from shipper.ports import PreflightCheck
from tests.fakes.clock import FakeClock
from tests.fakes.ports import (
    FakeCheck,
    FakeGate,
    FakeHistory,
    FakeLedger,
    FakeLock,
    FakePlatform,
    FakeRunner,
    RecordingSink,
    holder,
    make_emitter,
)
from tests.narrow import present


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    sink: RecordingSink = field(default_factory=RecordingSink)
    heroku: FakePlatform = field(
        default_factory=lambda: FakePlatform(Side.HEROKU, ["acme-web", "acme-worker"])
    )
    kube: FakePlatform = field(
        default_factory=lambda: FakePlatform(
            Side.KUBERNETES, ["deployment/web", "deployment/worker", "cronjob/report"]
        )
    )
    ledger: FakeLedger = field(default_factory=FakeLedger)
    gate: FakeGate = field(default_factory=FakeGate)
    runner: FakeRunner = field(default_factory=FakeRunner)
    history: FakeHistory = field(default_factory=FakeHistory)
    checks: list[FakeCheck] = field(default_factory=list)
    preflight: list[PreflightCheck] = field(default_factory=list)  # configured checks
    policy: ReleasePolicy = field(
        default_factory=lambda: ReleasePolicy(
            pipeline="web",
            verify=VerifyPolicy(
                bake_seconds=300, interval_seconds=15, failure_limit=2, inconclusive_limit=3
            ),
            migrations=MigrationPolicy(
                paths=("db/migrate/**",),
                command=("bin/rails", "db:migrate"),
                timeout_seconds=900,
                bake_seconds=60,
            ),
            lock_ttl_seconds=900,
            rollout_timeout_seconds=600,
            rollback_timeout_seconds=600,
        )
    )
    lock: FakeLock = field(init=False)
    releaser: Releaser | None = None

    def __post_init__(self) -> None:
        self.lock = FakeLock(self.clock)
        self.checks = [
            FakeCheck("heroku-http", Side.HEROKU),
            FakeCheck("kube-errors", Side.KUBERNETES),
        ]
        for c in self.checks:
            c.clock = self.clock

    def ports(self) -> Ports:
        return Ports(
            platforms={Side.HEROKU: self.heroku, Side.KUBERNETES: self.kube},
            ledger=self.ledger,
            lock=self.lock,
            clock=self.clock,
            emitter=make_emitter(self.clock, self.sink),
            gate=self.gate,
            checks=self.checks,
            migrations=self.runner,
            history=self.history,
            preflight_checks=self.preflight,
        )

    def make(self) -> Releaser:
        self.releaser = Releaser(self.policy, self.ports(), ship_version=__version__)
        return self.releaser

    def deploy(self, version: str = "v2", **kw: Any) -> Outcome:
        """Deploy `version`; `kw` are DeployRequest's other fields (no migrations unless said)."""
        kw.setdefault("migrations", False)
        req = DeployRequest(version=Version(version), holder=holder(), **kw)
        return (self.releaser or self.make()).deploy(req)

    def rollback(self, **kw: Any) -> Outcome:
        """Roll back as bob on call; `kw` are RollbackRequest's other fields."""
        req = RollbackRequest(holder=holder("bob@oncall:7", 7), **kw)
        return (self.releaser or self.make()).rollback(req)

    def release(self, number: int | None) -> Release:
        """The ledger's record of release `number` (an outcome's), which the test expects."""
        return present(self.ledger.get(ReleaseNo(present(number))))

    def entries(self, number: int | None) -> list[LedgerEntry]:
        """The ledger entries of release `number` (an outcome's), which the test expects."""
        return self.ledger.entries(ReleaseNo(present(number)))

    def versions(self) -> dict[str, str]:
        out = {f"heroku:{k}": str(v) for k, v in self.heroku.running.items()}
        out.update({f"kubernetes:{k}": str(v) for k, v in self.kube.running.items()})
        return out

    def everywhere(self, version: str) -> bool:
        return set(self.versions().values()) == {version}


@pytest.fixture
def world() -> World:
    return World()
