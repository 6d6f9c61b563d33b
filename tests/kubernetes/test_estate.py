"""The preflight lessons' reading of the namespace (`shipper.kubernetes.estate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.core.clock import SystemClock
from shipper.errors import PlatformNotFound
from shipper.kubernetes.estate import EstateReader
from shipper.kubernetes.factory import build_kube_api
from shipper.kubernetes.workloads import Workload
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_pipeline

V1 = "ghcr.io/acme/web:v1"


def reader(kubeconfig: Path, refs: list[str]) -> EstateReader:
    api = build_kube_api(make_pipeline(kubeconfig, refs), clock=SystemClock(), env={})
    return EstateReader(api, [Workload.parse(r) for r in refs])


def test_workloads_are_read_by_one_list_per_kind_whatever_their_number(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Twelve workloads cost one list per kind and one of autoscalers, never a GET each,
    and come back in pipeline order with their replicas."""
    refs = []
    for i in range(10):
        kube.seed_deployment(NS, f"svc-{i}", V1, replicas=1 + i % 2, wait=False)
        refs.append(f"deployment/svc-{i}")
    kube.seed_statefulset(NS, "db", V1, replicas=3, wait=False)
    kube.seed_cronjob(NS, "nightly", V1)
    refs += ["statefulset/db", "cronjob/nightly"]
    kube.reset_calls()
    estate = reader(kubeconfig, refs).read()
    assert [w.key for w in estate] == refs
    assert [w.replicas for w in estate[:3]] == [1, 2, 1]
    assert estate[10].replicas == 3
    assert kube.call_count("get") == 0
    assert kube.api_calls[("list", "deployments")] == 1
    assert kube.api_calls[("list", "statefulsets")] == 1
    assert kube.api_calls[("list", "cronjobs")] == 1
    assert kube.api_calls[("list", "horizontalpodautoscalers")] == 1


def test_a_workload_the_namespace_lacks_is_not_found(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A pipeline workload missing from the namespace is PlatformNotFound naming it."""
    kube.seed_deployment(NS, "web", V1, wait=False)
    with pytest.raises(PlatformNotFound, match="deployment/worker not found in namespace web"):
        reader(kubeconfig, ["deployment/web", "deployment/worker"]).read()


def _with_env_from(kube: FakeKubeApiServer) -> None:
    sources = [{"configMapRef": {"name": "app-config"}}, {"secretRef": {"name": "app-secrets"}}]
    for name in ("web", "worker"):  # both name the same two: each is read once
        kube.seed_deployment(NS, name, V1, wait=False, fields={name: {"envFrom": sources}})
    kube.put("configmaps", NS, {"metadata": {"name": "app-config"}, "data": {"REDIS_URL": "x"}})
    kube.put("secrets", NS, {"metadata": {"name": "app-secrets"}, "data": {"SECRET_KEY": "eA=="}})


def test_env_from_names_are_read_once_each_with_one_access_review(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A ConfigMap and a Secret named by two workloads: each read once, the Secret after
    one access review (sent beside the lists), and only their keys come out."""
    _with_env_from(kube)
    kube.reset_calls()
    web, worker = reader(kubeconfig, ["deployment/web", "deployment/worker"]).read()
    for w in (web, worker):
        assert {"REDIS_URL", "SECRET_KEY"} <= w.containers[0].env_names
        assert w.containers[0].unread == ()
    assert kube.api_calls[("get", "configmaps")] == 1
    assert kube.api_calls[("get", "secrets")] == 1
    assert kube.api_calls[("create", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")] == 1


def test_a_secret_ship_may_not_read_is_never_asked_for(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """With no right to read Secrets, the ConfigMap is still read and the Secret is named
    as unread, without a request that the API server would refuse."""
    _with_env_from(kube)
    kube.rbac.deny("get", "secrets")
    kube.reset_calls()
    web, _ = reader(kubeconfig, ["deployment/web", "deployment/worker"]).read()
    assert "REDIS_URL" in web.containers[0].env_names
    assert "SECRET_KEY" not in web.containers[0].env_names
    assert any("secret app-secrets" in u for u in web.containers[0].unread)
    assert kube.api_calls[("get", "secrets")] == 0
