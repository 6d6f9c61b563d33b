"""`save_with` on the real ledger backends: the release and its new log lines stored in
one write (a side's rollback intents), as `BatchLedger` promises."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from shipper.core.model import (
    LedgerEntry,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Version,
)
from shipper.core.ports import BatchLedger
from shipper.sandbox.kubeapi import FakeKubeApiServer
from shipper.state.kube_ledger import KubernetesLedger
from shipper.state.sqlite_db import Database
from shipper.state.sqlite_ledger import SqliteLedger
from tests.fakes.clock import FakeClock
from tests.kubernetes.conftest import kube, kubeconfig  # noqa: F401  # fixtures
from tests.kubernetes.test_state_contract import kube_api

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RELEASE = Release(
    ReleaseNo(1), "web", ReleaseKind.CODE, Version("v2"), ReleaseState.RUNNING, Phase.ROLLBACK,
    "alice", T0,
)  # fmt: skip


def intent(target: str) -> LedgerEntry:
    return LedgerEntry(T0, "intent", {"target": target, "action": "roll back", "detail": {}})


def _batch(ledger: BatchLedger) -> None:
    ledger.create(RELEASE)
    ledger.append(RELEASE.number, LedgerEntry(T0, "rollback_started", {"reason": "test"}))
    changed = replace(
        RELEASE, changed=True, targets={"heroku:a": "roll back", "heroku:b": "roll back"}
    )
    ledger.save_with(changed, [intent("heroku:a"), intent("heroku:b")])
    stored = ledger.get(RELEASE.number)
    assert stored is not None and stored.changed and stored.targets == changed.targets
    events = [(e.event, e.fields.get("target")) for e in ledger.entries(RELEASE.number)]
    assert events == [
        ("rollback_started", None),
        ("intent", "heroku:a"),
        ("intent", "heroku:b"),
    ]


def test_sqlite_stores_a_release_and_its_intents_together(tmp_path: Path) -> None:
    ledger = SqliteLedger(Database(tmp_path / "state.sqlite3"), "web")
    assert isinstance(ledger, BatchLedger)
    _batch(ledger)


def test_kubernetes_stores_a_release_and_its_intents_together(
    kube: FakeKubeApiServer,  # noqa: F811  # the fixture imported above
    kubeconfig: Path,  # noqa: F811
) -> None:
    ledger = KubernetesLedger(kube_api(kubeconfig, FakeClock()), "web", now=lambda: 1_790_000_000)
    assert isinstance(ledger, BatchLedger)
    _batch(ledger)
