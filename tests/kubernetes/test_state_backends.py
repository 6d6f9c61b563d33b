"""What the in-cluster ledger and lock do beyond the shared contract."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import (
    Holder,
    LedgerEntry,
    Phase,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
    Version,
)
from shipper.errors import LedgerError, LockHeld, LockLost
from shipper.sandbox.kubeapi import FakeKubeApiServer
from shipper.state.kube_ledger import KubernetesLedger, build_kube_ledger, record_name
from shipper.state.kube_lock import LeaseLock, build_kube_lock, lease_name
from tests.fakes.clock import FakeClock
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_pipeline
from tests.kubernetes.test_state_contract import kube_api
from tests.narrow import present

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ALICE = Holder("alice@laptop:11", "laptop", 11)
CI = Holder("ci-run-77", "runner", 22)


def release(n: int, state: ReleaseState = ReleaseState.RUNNING) -> Release:
    return Release(
        ReleaseNo(n), "web", ReleaseKind.CODE, Version("v2"), state, Phase.RELEASE, "alice", T0
    )


@pytest.fixture
def ledger(kube: FakeKubeApiServer, kubeconfig: Path) -> KubernetesLedger:
    return KubernetesLedger(kube_api(kubeconfig, FakeClock()), "web", now=lambda: 1_790_000_000)


def lock(kubeconfig: Path, clock: FakeClock) -> LeaseLock:
    return LeaseLock(
        kube_api(kubeconfig, clock), "web", clock, host="here", is_alive=lambda p: True
    )


def test_release_configmap_is_labelled_like_helm(
    kube: FakeKubeApiServer, ledger: KubernetesLedger
) -> None:
    """Each release is one ConfigMap labelled owner, name, version, status and kind."""
    ledger.create(release(3, ReleaseState.SUCCEEDED))
    cm = kube.get("configmaps", NS, record_name("web", 3))
    assert cm is not None
    labels = cm["metadata"]["labels"]
    assert {k: labels[k] for k in ("owner", "name", "version", "status", "kind")} == {
        "owner": "ship",
        "name": "web",
        "version": "3",
        "status": "succeeded",
        "kind": "code",
    }
    assert labels["createdAt"] == "1790000000"


def test_history_is_one_list_by_label(kube: FakeKubeApiServer, ledger: KubernetesLedger) -> None:
    """releases() is a single labelled list call, whatever the number of releases."""
    for n in (1, 2, 3):
        ledger.create(release(n))
    kube.reset_calls()
    assert [r.number for r in ledger.releases()] == [3, 2, 1]
    assert kube.api_calls == {("list", "configmaps"): 1}


def test_other_pipelines_are_not_listed(kubeconfig: Path, ledger: KubernetesLedger) -> None:
    """Another pipeline's releases in the same namespace stay out of this history."""
    other = KubernetesLedger(kube_api(kubeconfig, FakeClock()), "api")
    other.create(release(1))
    assert ledger.releases() == []
    assert ledger.next_number() == 1


def test_large_event_logs_are_compressed(kube: FakeKubeApiServer, ledger: KubernetesLedger) -> None:
    """An event log past the threshold moves, gzipped, to binaryData and still reads back."""
    ledger.create(release(1))
    log = "\n".join(f"-- backfill batch {i:06d}: 1000 rows" for i in range(8000))
    ledger.append(ReleaseNo(1), LedgerEntry(T0, "migration_log", {"log": log}))
    cm = kube.get("configmaps", NS, record_name("web", 1))
    assert cm is not None and "entries.gz" in cm.get("binaryData", {})
    assert "data" not in cm or "entries" not in cm["data"]
    assert ledger.entries(ReleaseNo(1))[0].fields["log"] == log


def test_over_one_mebibyte_is_refused_cleanly(
    kube: FakeKubeApiServer, ledger: KubernetesLedger
) -> None:
    """A record that cannot fit in a ConfigMap is refused by ship, naming the limit."""
    import os

    ledger.create(release(1))
    noise = os.urandom(900 * 1024).hex()  # incompressible
    kube.reset_calls()
    with pytest.raises(LedgerError, match="1 MiB ConfigMap limit"):
        ledger.append(ReleaseNo(1), LedgerEntry(T0, "noise", {"data": noise}))
    assert kube.call_count("update") == 0


def test_concurrent_appends_lose_nothing(kubeconfig: Path) -> None:
    """Two processes appending at once both land: a 409 is re-read and reapplied."""
    one, other = (KubernetesLedger(kube_api(kubeconfig, SystemClock()), "web") for _ in range(2))
    one.create(release(1))
    errors: list[Exception] = []

    def write(handle: KubernetesLedger, tag: str) -> None:
        try:
            for i in range(5):
                handle.append(ReleaseNo(1), LedgerEntry(T0, f"{tag}{i}"))
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(h, t)) for h, t in ((one, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = sorted(e.event for e in one.entries(ReleaseNo(1)))
    assert events == sorted([f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)])


def test_unreachable_cluster_is_a_ledger_error(
    kube: FakeKubeApiServer, ledger: KubernetesLedger
) -> None:
    """A ledger that cannot be reached raises LedgerError (exit 4), never an empty history."""
    kube.refuse_connections()
    with pytest.raises(LedgerError, match="could not list releases"):
        ledger.releases()


def test_lease_carries_holder_duration_and_microtimes(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The Lease holds the holder identity, the TTL as duration and MicroTime stamps."""
    lock(kubeconfig, FakeClock()).acquire(ALICE, "deploy v2", 900)
    lease = kube.get("leases", NS, lease_name("web"))
    assert lease is not None
    spec = lease["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"]) == ("alice@laptop:11", 900)
    assert spec["renewTime"].startswith("2026-11-26T12:00:00.000001")
    assert lease["metadata"]["annotations"]["ship.dev/reason"] == "deploy v2"


def test_takeover_counts_a_lease_transition(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A forced takeover bumps leaseTransitions; a renewal by the holder does not."""
    clock = FakeClock()
    first = lock(kubeconfig, clock).acquire(ALICE, "deploy", 900)
    lock(kubeconfig, clock).renew(first)
    assert present(kube.get("leases", NS, "ship-lock-web"))["spec"]["leaseTransitions"] == 0
    lock(kubeconfig, clock).acquire(CI, "rollback", 900, force=True)
    assert present(kube.get("leases", NS, "ship-lock-web"))["spec"]["leaseTransitions"] == 1


def test_renewal_moves_renew_time(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """renew() writes the clock's time into spec.renewTime."""
    clock = FakeClock()
    handle = lock(kubeconfig, clock)
    lease = handle.acquire(ALICE, "deploy", 60)
    clock.advance(30)
    renewed = handle.renew(lease)
    assert renewed.info.renewed_at.second == 30
    assert present(kube.get("leases", NS, "ship-lock-web"))["spec"]["renewTime"].startswith(
        "2026-11-26T12:00:30"
    )


def test_two_processes_contending_get_exactly_one_winner(kubeconfig: Path) -> None:
    """Of several processes racing for a free lock, exactly one holds it; the rest get LockHeld."""
    clock = FakeClock()
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def contend(n: int) -> None:
        handle = lock(kubeconfig, clock)
        start.wait()
        try:
            handle.acquire(Holder(f"p{n}", "here", 100 + n), "deploy", 900)
            outcomes.append("won")
        except LockHeld:
            outcomes.append("held")

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["held", "held", "held", "won"]


def test_a_fenced_process_cannot_renew(kubeconfig: Path) -> None:
    """After a takeover the old holder's renew raises LockLost naming the new holder."""
    clock = FakeClock()
    old = lock(kubeconfig, clock).acquire(ALICE, "deploy", 900)
    lock(kubeconfig, clock).acquire(CI, "rollback", 900, force=True)
    with pytest.raises(LockLost, match="ci-run-77 holds it now"):
        lock(kubeconfig, clock).renew(old)


def test_factories_use_the_configured_namespace(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """ledger.namespace and lock.namespace move the records out of the app namespace."""
    pipeline = make_pipeline(
        kubeconfig,
        ["deployment/web"],
        ledger={"backend": "kubernetes", "namespace": "ship-state"},
        lock={"backend": "kubernetes", "namespace": "ship-state"},
    )
    build_kube_ledger(pipeline, env={}).create(release(1))
    build_kube_lock(pipeline, env={}, clock=FakeClock()).acquire(ALICE, "deploy", 60)
    assert kube.get("configmaps", "ship-state", record_name("web", 1)) is not None
    assert kube.get("leases", "ship-state", "ship-lock-web") is not None


_CONTENDER = """
import sys
from shipper.core.clock import SystemClock
from shipper.core.model import Holder
from shipper.errors import LockHeld
from shipper.pipeline import Pipeline
from shipper.state.kube_lock import build_kube_lock

kube = {"context": "sandbox", "kubeconfig": sys.argv[1], "namespace": "web",
        "image": "ghcr.io/acme/web:{version}", "workloads": ["deployment/web"]}
lock_section = {"backend": "kubernetes"}
pipeline = Pipeline.model_validate({"name": "web", "kubernetes": kube, "lock": lock_section})
lock = build_kube_lock(pipeline, env={}, clock=SystemClock())
try:
    lease = lock.acquire(Holder(sys.argv[2], "here", None), "deploy", 900)
    print("won", lease.info.token)
except LockHeld as exc:
    print("held", exc)
"""


def test_two_processes_contend_for_the_lease(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Two real ship processes racing for the Lease: one wins, the other is told who holds it."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, str(kubeconfig), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ci-run-1", "ci-run-2")
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(o.split()[0] for o in outputs) == ["held", "won"], outputs
    loser = next(o for o in outputs if o.startswith("held"))
    assert "is held by ci-run-" in loser
