"""The Kubernetes side is built on first use, not while ship wires itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shipper.core.model import Side, Version
from shipper.lazy_adapters import DeferredRunner
from shipper.sandbox.kubeapi import FakeKubeApiServer
from shipper.wiring import Wiring
from tests.fakes.clock import FakeClock
from tests.kubernetes.conftest import IMAGE, NAMESPACE, make_pipeline

PROBE = """
import sys
from pathlib import Path
from shipper.pipeline import Pipeline
from shipper.wiring import Wiring
from tests.fakes.clock import FakeClock
pipeline = Pipeline.model_validate({{
    "name": "web",
    "kubernetes": {{
        "kubeconfig": {kubeconfig!r}, "namespace": "shop", "image": "r/web:{{version}}",
        "workloads": ["deployment/web"],
    }},
    "migrations": {{"runner": "kubernetes", "command": ["true"], "paths": ["db/**"]}},
}})
wiring = Wiring(pipeline, {{}}, FakeClock())
wiring.platforms()
wiring.migrations()
print("kubernetes" in sys.modules)
"""


def test_wiring_imports_no_kubernetes_client(tmp_path: Path) -> None:
    """Wiring a Kubernetes pipeline (platform and migration runner) loads no client yet:
    that 0.15 s happens on first use, while other reads wait on the network."""
    probe = PROBE.format(kubeconfig=str(tmp_path / "missing-kubeconfig"))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert done.stdout.strip() == "False"


def test_the_deferred_side_works_once_used(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """On first use the real adapter is built and answers."""
    kube.seed_deployment(NAMESPACE, "web", IMAGE.format(version="v1"), replicas=1)
    wiring = Wiring(make_pipeline(kubeconfig, ["deployment/web"]), {}, FakeClock())
    side = wiring.platforms()[Side.KUBERNETES]
    assert side.side is Side.KUBERNETES
    [state] = side.snapshot()
    assert state.version == Version("v1")
    assert side.health([state]).status.value == "successful"


def test_one_cluster_client_serves_the_side_the_job_and_the_estate(
    kube: FakeKubeApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Kubernetes side, the migration Job's runner and the preflight's estate share
    one client: the kubeconfig is read once, and the Job's create goes out on the
    connections the snapshot opened instead of a fresh handshake."""
    from shipper.kubernetes import factory

    built: list[object] = []
    real = factory.build_kube_api

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(factory, "build_kube_api", counted)
    kube.seed_deployment(NAMESPACE, "web", IMAGE.format(version="v1"), replicas=1)
    pipeline = make_pipeline(
        kubeconfig,
        ["deployment/web"],
        migrations={"runner": "kubernetes", "command": ["true"], "paths": ["db/**"]},
        preflight={},
    )
    wiring = Wiring(pipeline, {}, FakeClock())
    [state] = wiring.platforms()[Side.KUBERNETES].snapshot()
    assert state.version == Version("v1")
    for check in wiring.preflight_checks():  # each reads the estate (the workloads)
        check.run(Version("v2"))
    runner = wiring.migrations()
    assert isinstance(runner, DeferredRunner)
    runner._real.get()  # built as its first run would
    assert len(built) == 1
    assert wiring.kube_api() is built[0]
