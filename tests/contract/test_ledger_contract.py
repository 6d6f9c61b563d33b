"""What every Ledger backend promises (run over each backend in conftest.LEDGERS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shipper.core.model import (
    LedgerEntry,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Side,
    Snapshot,
    Target,
    TargetState,
    Version,
)
from shipper.errors import LedgerError
from shipper.ports import Ledger

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def release(number: int, **kw: Any) -> Release:
    """A release to store; `kw` are Release's other fields."""
    base: dict[str, Any] = {
        "number": ReleaseNo(number),
        "pipeline": "web",
        "kind": ReleaseKind.CODE,
        "version": Version("v2"),
        "state": ReleaseState.RUNNING,
        "phase": Phase.SNAPSHOT,
        "actor": "alice@laptop",
        "started_at": T0,
    }
    base.update(kw)
    return Release(**base)


def test_numbers_are_sequential(ledger: Ledger) -> None:
    """The next number follows the highest stored one, starting at 1."""
    assert ledger.next_number() == 1
    ledger.create(release(1))
    assert ledger.next_number() == 2


def test_a_release_round_trips_with_its_snapshot(ledger: Ledger) -> None:
    """Everything a release records comes back as it was stored."""
    snap = Snapshot(
        (
            TargetState(
                Target(Side.KUBERNETES, "deployment/web"),
                Version("v1"),
                {"template": {"spec": {"containers": [{"image": "a:v1"}]}}},
            ),
        ),
        T0,
    )
    stored = release(
        1,
        snapshot=snap,
        targets={"kubernetes:deployment/web": "patch"},
        reason="hotfix",
        gate_override="INC-1",
        changed=True,
    )
    ledger.create(stored)
    assert ledger.get(ReleaseNo(1)) == stored


def test_save_replaces_the_release(ledger: Ledger) -> None:
    """A saved release is what get returns afterwards."""
    ledger.create(release(1))
    done = release(1, state=ReleaseState.SUCCEEDED, phase=Phase.DONE, exit_code=0, finished_at=T0)
    ledger.save(done)
    assert ledger.get(ReleaseNo(1)) == done


def test_creating_a_number_twice_is_refused(ledger: Ledger) -> None:
    """Two writers can never both own release N."""
    ledger.create(release(1))
    with pytest.raises(LedgerError):
        ledger.create(release(1))


def test_saving_an_unknown_release_is_refused(ledger: Ledger) -> None:
    """save() never creates: a missing release is an error."""
    with pytest.raises(LedgerError):
        ledger.save(release(5))


def test_releases_come_newest_first_with_a_limit(ledger: Ledger) -> None:
    """History lists releases newest first and honours the limit."""
    for n in (1, 2, 3):
        ledger.create(release(n))
    assert [r.number for r in ledger.releases()] == [3, 2, 1]
    assert [r.number for r in ledger.releases(limit=2)] == [3, 2]


def test_entries_keep_their_order_and_fields(ledger: Ledger) -> None:
    """A release's event log comes back in the order it was written."""
    ledger.create(release(1))
    for i in range(3):
        ledger.append(ReleaseNo(1), LedgerEntry(T0, f"e{i}", {"i": i, "nested": {"ok": True}}))
    assert [(e.event, e.fields["i"]) for e in ledger.entries(ReleaseNo(1))] == [
        ("e0", 0),
        ("e1", 1),
        ("e2", 2),
    ]


def test_unknown_release_reads_as_none(ledger: Ledger) -> None:
    """get() of a number never written is None, not an error."""
    assert ledger.get(ReleaseNo(42)) is None
