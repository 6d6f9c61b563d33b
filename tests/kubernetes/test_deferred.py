"""The Kubernetes side is built on first use, not while ship wires itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shipper.core.model import Side, Version
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
