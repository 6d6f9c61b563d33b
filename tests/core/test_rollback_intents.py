"""The rollback path writes ahead once per side: every target's intent is durable before
the side's first platform call, in one ledger write behind one fence check."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipper.core import machine as m
from shipper.core.model import (
    LedgerEntry,
    MeasurementStatus,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Side,
    Target,
    TargetResult,
    TargetState,
    Version,
)
from shipper.core.operation import ReleaseOperation
from shipper.core.ports import Operation
from shipper.core.record import Record
from shipper.errors import Interrupted, LedgerError
from shipper.state.sqlite_ledger import SqliteLedger
from tests.core.conftest import World
from tests.fakes.clock import FakeClock
from tests.fakes.ports import FakeLedger, FakePlatform, RecordingSink, make_emitter


def _intents(world: World, number: int) -> list[str]:
    return [
        str(e.fields["target"])
        for e in world.ledger.entries(ReleaseNo(number))
        if e.event == "intent"
    ]


def _watch(world: World, platform: FakePlatform, seen: dict[Side, list[str]]) -> None:
    """Note, when the core calls `platform.roll_back`, which rollback intents it finds."""
    real = platform.roll_back

    def roll_back(to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        entries = world.ledger.entries(op.release)
        seen[platform.side] = [
            str(e.fields["target"])
            for e in entries
            if e.event == "intent"
            and e.fields["action"] == "roll back"
            and str(e.fields["target"]).startswith(f"{platform.side.value}:")
        ]
        return real(to, op)

    platform.roll_back = roll_back  # type: ignore[method-assign]  # a spy around the fake's own


def test_a_regression_writes_every_targets_intent_before_the_sides_first_call(
    world: World,
) -> None:
    """Each side finds the rollback intent of every one of its targets already in the
    ledger when the core hands it the rollback; the adapter's own intend adds none."""
    world.checks[0].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    seen: dict[Side, list[str]] = {}
    _watch(world, world.heroku, seen)
    _watch(world, world.kube, seen)
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.everywhere("v1")
    assert sorted(seen[Side.HEROKU]) == ["heroku:acme-web", "heroku:acme-worker"]
    assert sorted(seen[Side.KUBERNETES]) == [
        "kubernetes:cronjob/report",
        "kubernetes:deployment/web",
        "kubernetes:deployment/worker",
    ]
    # one deploy intent and one rollback intent per target: nothing written twice
    assert sorted(_intents(world, outcome.release or 0)) == sorted(2 * list(world.versions()))
    assert world.release(outcome.release).state is ReleaseState.ROLLED_BACK


def test_ship_rollback_writes_intents_only_for_targets_not_back_already(world: World) -> None:
    """`ship rollback` knows what runs: a target already at the snapshot gets no intent."""
    assert world.deploy("v2").exit_code == 0
    world.kube.running["deployment/worker"] = Version("v1")  # put back by hand
    seen: dict[Side, list[str]] = {}
    _watch(world, world.kube, seen)
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert sorted(seen[Side.KUBERNETES]) == [
        "kubernetes:cronjob/report",
        "kubernetes:deployment/web",
    ]
    assert world.everywhere("v1")


class _CountingLedger(FakeLedger):
    """A ledger that stores a release and its log lines in one write, and counts writes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.appends = 0

    def save_with(self, release: Release, entries: Sequence[LedgerEntry]) -> None:
        self.save(release)
        self.log.setdefault(release.number, []).extend(entries)
        self.batches.append(len(entries))

    def append(self, number: ReleaseNo, entry: LedgerEntry) -> None:
        self.appends += 1
        super().append(number, entry)


def _record(ledger: FakeLedger, fences: list[int]) -> Record:
    clock = FakeClock()
    return Record.open(
        ledger,
        make_emitter(clock, RecordingSink()),
        clock,
        lambda: fences.append(1),
        pipeline="web",
        kind=ReleaseKind.ROLLBACK,
        version=Version("v1"),
        actor="bob",
        reason="test",
    )


def test_a_sides_intents_are_one_write_behind_one_fence_check() -> None:
    """Three targets' intents: one fence check and one write, and the release is changed."""
    ledger, fences = _CountingLedger(), list[int]()
    record = _record(ledger, fences)
    record.step(m.Enter(Phase.SNAPSHOT))
    record.step(m.Enter(Phase.ROLLBACK))
    fences.clear()
    saves = ledger.saves
    targets = [Target(Side.KUBERNETES, f"deployment/w{i}") for i in range(3)]
    record.write_intents([(t, "roll back", {"to": "sha"}) for t in targets])
    assert len(fences) == 1
    assert ledger.batches == [3] and ledger.saves == saves + 1 and ledger.appends == 0
    stored = ledger.get(record.number)
    assert stored is not None and stored.changed
    assert set(stored.targets) == {t.key for t in targets}


def test_a_ledger_without_batches_gets_the_same_records() -> None:
    """The fallback writes the release, then each intent: the same records."""
    ledger, fences = FakeLedger(), list[int]()
    record = _record(ledger, fences)
    record.step(m.Enter(Phase.ROLLBACK))
    target = Target(Side.HEROKU, "acme-web")
    record.write_intents([(target, "roll back", {})])
    assert [e.event for e in ledger.entries(record.number)][-1] == "intent"
    stored = ledger.get(record.number)
    assert stored is not None and stored.changed and stored.targets == {target.key: "roll back"}


def _operation(written: list[tuple[str, str]], stop: threading.Event) -> ReleaseOperation:
    return ReleaseOperation(
        release=ReleaseNo(1),
        pipeline="web",
        version=Version("v1"),
        clock=FakeClock(),
        budget_seconds=60,
        stop=stop,
        abort=threading.Event(),
        write_ahead=lambda t, action, _detail: written.append((t.key, action)),
        fence=lambda: None,
        emit=lambda _e: None,
        written_ahead=["heroku:acme-web"],
    )


def test_a_target_written_ahead_has_its_first_intend_covered_and_later_ones_written() -> None:
    """The first intend of a written-ahead target writes nothing; any further one does,
    and a target not written ahead is written as always."""
    written: list[tuple[str, str]] = []
    op = _operation(written, threading.Event())
    web, worker = Target(Side.HEROKU, "acme-web"), Target(Side.HEROKU, "acme-worker")
    op.intend(web, "roll back")
    op.intend(web, "cancel build")
    op.intend(worker, "roll back")
    assert written == [("heroku:acme-web", "cancel build"), ("heroku:acme-worker", "roll back")]


def test_a_stopping_command_refuses_even_a_written_ahead_target() -> None:
    """Written ahead or not, once the operator asked to stop no platform call is made."""
    stop = threading.Event()
    stop.set()
    op = _operation([], stop)
    with pytest.raises(Interrupted):
        op.intend(Target(Side.HEROKU, "acme-web"), "roll back")


def test_sqlite_ledger_stores_the_release_and_its_intents_together(tmp_path: Path) -> None:
    """One transaction: a release that is not in the ledger leaves no log line behind."""

    ledger = SqliteLedger.at(tmp_path / "ship.sqlite3", "web")
    now = datetime(2026, 12, 4, tzinfo=UTC)
    release = Release(
        number=ReleaseNo(1),
        pipeline="web",
        kind=ReleaseKind.ROLLBACK,
        version=Version("v1"),
        state=ReleaseState.RUNNING,
        phase=Phase.ROLLBACK,
        actor="bob",
        reason="test",
        started_at=now,
    )
    ledger.create(release)
    entry = LedgerEntry(now, "intent", {"target": "heroku:acme-web", "action": "roll back"})
    ledger.save_with(replace_targets(release), [entry, entry])
    stored = ledger.get(ReleaseNo(1))
    assert stored is not None and stored.targets == {"heroku:acme-web": "roll back"}
    assert [e.event for e in ledger.entries(ReleaseNo(1))] == ["intent", "intent"]
    missing = replace_targets(release, number=ReleaseNo(2))
    with pytest.raises(LedgerError):
        ledger.save_with(missing, [entry])
    assert ledger.entries(ReleaseNo(2)) == []


def replace_targets(release: Release, number: ReleaseNo | None = None) -> Release:
    return replace(
        release,
        number=number or release.number,
        changed=True,
        targets={"heroku:acme-web": "roll back"},
    )


def test_a_rollback_whose_every_target_reported_its_state_reads_no_snapshot_again(
    world: World,
) -> None:
    """Every target back and saying what it runs: that is what runs, and the verify
    round reads each side's health; no further read of every target first."""
    world.checks[0].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    reads: list[int] = []
    real = world.heroku.snapshot

    def snapshot(*, deploying: Version | None = None) -> Sequence[TargetState]:
        reads.append(len(world.heroku.rollbacks))
        return real(deploying=deploying)

    world.heroku.snapshot = snapshot  # type: ignore[method-assign]  # a spy around the fake's own
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.heroku.rollbacks and all(n == 0 for n in reads)


def test_a_target_left_behind_is_read_again_and_named(world: World) -> None:
    """A target whose rollback failed: what runs is read afresh, and exit 4 names it."""
    world.checks[0].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    world.kube.fail_rollback["deployment/web"] = "patch refused"
    reads: list[int] = []
    real = world.heroku.snapshot

    def snapshot(*, deploying: Version | None = None) -> Sequence[TargetState]:
        reads.append(len(world.heroku.rollbacks))
        return real(deploying=deploying)

    world.heroku.snapshot = snapshot  # type: ignore[method-assign]  # a spy around the fake's own
    outcome = world.deploy("v2")
    assert outcome.exit_code == 4
    assert "deployment/web" in outcome.message
    assert any(n > 0 for n in reads)


def test_both_sides_are_handed_their_rollback_before_either_returns(world: World) -> None:
    """The two sides' rollbacks run at once: each waits at a barrier only the other can
    open, which a rollback of one side after the other would never reach."""
    world.checks[0].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    barrier = threading.Barrier(2, timeout=5.0)
    met: list[Side] = []

    def meeting(platform: FakePlatform) -> None:
        real = platform.roll_back

        def roll_back(to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
            barrier.wait()
            met.append(platform.side)
            return real(to, op)

        platform.roll_back = roll_back  # type: ignore[method-assign]  # a spy around the fake's own

    meeting(world.heroku)
    meeting(world.kube)
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert sorted(met) == sorted([Side.HEROKU, Side.KUBERNETES])
    assert world.everywhere("v1")
