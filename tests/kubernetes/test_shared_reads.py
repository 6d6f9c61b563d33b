"""Identical reads in flight together share one request; later ones ask again."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shipper.core.clock import SystemClock
from shipper.kubernetes.factory import build_kube_api
from shipper.kubernetes.shared_reads import SharedReads
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import IMAGE, NAMESPACE, make_pipeline


class Slow:
    """A read that blocks until released, counting how often it was really sent."""

    def __init__(self, answer: object = "listed", error: Exception | None = None) -> None:
        self.sent = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.answer, self.error = answer, error

    def __call__(self) -> object:
        self.sent += 1
        self.started.set()
        assert self.release.wait(timeout=5)
        if self.error is not None:
            raise self.error
        return self.answer


def _together(reads: SharedReads[object], key: str, fetch: Slow, n: int) -> list[object]:
    """`n` reads of `key`, the first under way before the others start."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        first = pool.submit(reads.read, key, fetch)
        assert fetch.started.wait(timeout=5)
        rest = [pool.submit(reads.read, key, fetch) for _ in range(n - 1)]
        time.sleep(0.2)  # the others reach the read under way (microseconds) and wait on it
        fetch.release.set()
        return [f.result() for f in [first, *rest]]


def test_reads_in_flight_together_share_one_request() -> None:
    reads: SharedReads[object] = SharedReads()
    fetch = Slow()
    assert _together(reads, "deployments", fetch, 3) == ["listed"] * 3
    assert fetch.sent == 1


def test_a_read_after_the_answer_came_asks_again() -> None:
    """A finished answer is never handed out: the next read is a new request."""
    reads: SharedReads[object] = SharedReads()
    fetch = Slow()
    fetch.release.set()
    assert reads.read("deployments", fetch) == "listed"
    assert reads.read("deployments", fetch) == "listed"
    assert fetch.sent == 2


def test_different_reads_are_not_shared() -> None:
    reads: SharedReads[object] = SharedReads()
    deployments, cronjobs = Slow("d"), Slow("c")
    deployments.release.set()
    cronjobs.release.set()
    assert reads.read("deployments", deployments) == "d"
    assert reads.read("cronjobs", cronjobs) == "c"
    assert (deployments.sent, cronjobs.sent) == (1, 1)


def test_every_waiter_gets_the_error_of_the_shared_read() -> None:
    reads: SharedReads[object] = SharedReads()
    fetch = Slow(error=PermissionError("forbidden"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(reads.read, "secrets", fetch)
        assert fetch.started.wait(timeout=5)
        second = pool.submit(reads.read, "secrets", fetch)
        time.sleep(0.2)  # as in `_together`
        fetch.release.set()
        for future in (first, second):
            with pytest.raises(PermissionError, match="forbidden"):
                future.result()
    assert fetch.sent == 1


def test_concurrent_lists_of_one_kind_reach_the_api_server_once(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Three readers listing Deployments at the same moment (the snapshot, the preflight,
    its estate) send one request and each get the whole list."""
    kube.seed_deployment(NAMESPACE, "web", IMAGE.format(version="v1"), replicas=1)
    api = build_kube_api(make_pipeline(kubeconfig, ["deployment/web"]), clock=SystemClock(), env={})
    lists: list[str] = []
    counted = kube.count_call

    def noting(method: str, path: str, query: Any) -> None:
        if method == "GET" and path.endswith("/deployments"):
            lists.append(path)
        counted(method, path, query)

    kube.count_call = noting  # type: ignore[method-assign]  # notes the list requests
    kube.faults.latency = 0.2  # long enough for all three to be in flight together
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: api.list("deployment"), range(3)))
    assert [[o["metadata"]["name"] for o in items] for items, _ in answers] == [["web"]] * 3
    assert len(lists) == 1
