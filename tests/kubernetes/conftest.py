"""Fixtures: a fake API server on loopback and a real `kubernetes` client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from shipper.sandbox.kubeapi import FakeKubeApiServer

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
