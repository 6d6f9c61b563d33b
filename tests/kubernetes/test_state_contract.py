"""The in-cluster ledger and lock pass the same contract suites as the sqlite backends.

The suites in tests/contract are imported here and run against `KubernetesLedger` and
`LeaseLock` on the fake API server; the fixtures below replace the contract's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipper.core.clock import Clock
from shipper.kubernetes.api import KubeApi
from shipper.kubernetes.config import connect
from shipper.ports import Ledger, Lock
from shipper.sandbox.kubeapi import FakeKubeApiServer
from shipper.state.kube_ledger import KubernetesLedger
from shipper.state.kube_lock import LeaseLock
from tests.contract.test_ledger_contract import *  # noqa: F403 - the suite runs here too
from tests.contract.test_lock_contract import *  # noqa: F403
from tests.fakes.clock import FakeClock
from tests.kubernetes.conftest import NAMESPACE


def kube_api(kubeconfig: Path, clock: Clock) -> KubeApi:
    from kubernetes import client

    connection = connect(kubeconfig=str(kubeconfig), context="sandbox", namespace=NAMESPACE, env={})
    return KubeApi(client.ApiClient(connection.configuration), connection.where, clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def alive() -> set[int]:
    return {1, 2, 3}


@pytest.fixture
def ledger(kube: FakeKubeApiServer, kubeconfig: Path, clock: FakeClock) -> Iterator[Ledger]:
    yield KubernetesLedger(kube_api(kubeconfig, clock), "web")


@pytest.fixture
def lock_factory(
    kube: FakeKubeApiServer, kubeconfig: Path, clock: FakeClock, alive: set[int]
) -> Callable[[], Lock]:
    """Each call is another process's handle on the same Lease."""
    return lambda: LeaseLock(
        kube_api(kubeconfig, clock), "web", clock, host="here", is_alive=lambda pid: pid in alive
    )
