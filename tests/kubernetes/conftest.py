"""Fixtures: a fake API server on loopback and a real `kubernetes` client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from shipper.core.clock import SystemClock
from shipper.core.model import ReleaseNo, Version
from shipper.kubernetes.factory import build_kube_api
from shipper.kubernetes.follow import Tuning
from shipper.kubernetes.platform import KubernetesPlatform
from shipper.kubernetes.retry import RetryPolicy
from shipper.kubernetes.rollout import Graces
from shipper.kubernetes.workloads import Workload
from shipper.pipeline import Pipeline
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.fakes.operation import RecordingOperation

NAMESPACE = "web"
SPEED = 20.0  # a pod starts in 50 ms; a rollout of three pods takes ~0.2 s


@pytest.fixture
def kube() -> Iterator[FakeKubeApiServer]:
    server = FakeKubeApiServer(speed=SPEED, token="test-token")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(kube: FakeKubeApiServer, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig", context="sandbox", namespace=NAMESPACE)


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(kubeconfig), context="sandbox")
    try:
        yield api
    finally:
        api.close()


IMAGE = "ghcr.io/acme/web:{version}"
FAST = Tuning(poll=1.0, watch_seconds=5, graces=Graces(0.3, 0.3, 0.3), unavailable_limit=3)


def make_pipeline(kubeconfig: Path, workloads: list[str], **extra: Any) -> Pipeline:
    """A pipeline whose kubernetes section points at the fake server's kubeconfig."""
    kube = {
        "context": "sandbox",
        "kubeconfig": str(kubeconfig),
        "namespace": NAMESPACE,
        "image": IMAGE,
        "workloads": workloads,
        "rollout_timeout": extra.pop("rollout_timeout", "20s"),
    }
    data: dict[str, Any] = {"name": "web", "kubernetes": kube, **extra}
    return Pipeline.model_validate(data)


def real_op(version: str = "v2", budget: float = 30.0, release: int = 7) -> RecordingOperation:
    """An operation on the wall clock: the fake cluster moves in real time."""
    return RecordingOperation(
        version=Version(version),
        release=ReleaseNo(release),
        clock=SystemClock(),
        budget=budget,
    )


def make_platform(
    kubeconfig: Path, workloads: list[str], *, rollout_timeout: float = 20.0, tuning: Tuning = FAST
) -> KubernetesPlatform:
    pipeline = make_pipeline(kubeconfig, workloads)
    api = build_kube_api(pipeline, clock=SystemClock(), env={})
    return KubernetesPlatform(
        api,
        [Workload.parse(w) for w in workloads],
        image_template=IMAGE,
        rollout_timeout=rollout_timeout,
        tuning=tuning,
        patches=RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.05),
    )
