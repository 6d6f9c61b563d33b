"""A container name the pipeline configures but the pod spec lacks is the pipeline file's
mistake: the Kubernetes preflight raises it as a PipelineError (exit 2) naming the file,
line and key, before any wait and any change."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import Version
from shipper.errors import PipelineError
from shipper.kubernetes.factory import build_kubernetes_platform
from shipper.pipeline import parse_pipeline
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS

V1 = "ghcr.io/acme/web:v1"


def pipeline_text(kubeconfig: Path, workloads: str, extra: str = "") -> str:
    return (
        "name: web\n"
        "kubernetes:\n"
        f"  kubeconfig: {kubeconfig}\n"
        "  context: sandbox\n"
        f"  namespace: {NS}\n"
        '  image: "ghcr.io/acme/web:{version}"\n'
        "  workloads:\n"
        f"{workloads}"
        f"{extra}"
    )


def test_a_wrong_container_name_is_a_pipeline_error_naming_file_line_and_key(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Every workload with a wrong container name is named with its file, line and key,
    and nothing is written."""
    kube.seed_deployment(NS, "web", V1)
    kube.seed_deployment(NS, "worker", V1)
    text = pipeline_text(
        kubeconfig,
        "    - deployment/web\n    - deployment/worker:app\n",
        "  rollout_wait: 1m\n",  # a wrong name is never waited on
    )
    pipeline = parse_pipeline(text, "pipelines/web.yaml")
    platform = build_kubernetes_platform(pipeline, clock=SystemClock(), env={})
    kube.reset_calls()
    with pytest.raises(PipelineError) as raised:
        platform.preflight(Version("v2"))
    message = str(raised.value)
    assert message.startswith("pipelines/web.yaml:9: kubernetes.workloads[1]: ")
    assert "deployment/worker has no container named app (it has: worker)" in message
    assert "nothing was changed" in message
    assert kube.call_count("patch") == kube.call_count("update") == 0
    assert kube.call_count("create", "jobs") == kube.call_count("delete") == 0


def test_a_workload_without_a_container_on_the_repository_stays_a_refusal(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """No container on the pipeline image's repository (nothing configured by name) is
    the namespace's shape, not a typo in the file: a BLOCK finding (exit 3), not raised."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/other:v1")
    pipeline = parse_pipeline(pipeline_text(kubeconfig, "    - deployment/web\n"), "p.yaml")
    found = build_kubernetes_platform(pipeline, clock=SystemClock(), env={}).preflight(
        Version("v2")
    )
    assert [(f.check, f.severity.value) for f in found] == [("containers", "block")]
