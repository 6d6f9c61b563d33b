"""The migration Job and sidecars, against the fake API server over real HTTP: native
sidecars (and the volumes they mount) come along, a classic sidecar holding the Job's
pod open is named instead of waited out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import Version
from shipper.kubernetes.factory import build_kube_api
from shipper.kubernetes.migration import KubernetesMigrationRunner, job_name
from shipper.kubernetes.workloads import Workload
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import FAST, IMAGE, make_pipeline, real_op
from tests.kubernetes.conftest import NAMESPACE as NS

COMMAND = ("bin/rails", "db:migrate")
PROXY_IMAGE = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.0"
SOCKET = {"name": "proxy-socket", "emptyDir": {}}
CERTS = {"name": "proxy-certs", "secret": {"secretName": "db-certs"}}
PROBE = {"tcpSocket": {"port": 5432}, "periodSeconds": 1}
NATIVE_PROXY = {
    "name": "cloud-sql-proxy",
    "image": PROXY_IMAGE,
    "restartPolicy": "Always",
    "args": ["--unix-socket=/cloudsql", "acme:europe-west1:db"],
    "volumeMounts": [
        {"name": "proxy-socket", "mountPath": "/cloudsql"},
        {"name": "proxy-certs", "mountPath": "/certs", "readOnly": True},
    ],
    "startupProbe": PROBE,
    "readinessProbe": PROBE,
}
WAIT_FOR_DB = {"name": "wait-for-db", "image": "busybox:1.36", "command": ["true"]}


def runner(kubeconfig: Path, *, timeout: float = 20.0) -> KubernetesMigrationRunner:
    pipeline = make_pipeline(kubeconfig, ["deployment/web"])
    return KubernetesMigrationRunner(
        build_kube_api(pipeline, clock=SystemClock(), env={}),
        pipeline="web",
        image_template=IMAGE,
        timeout=timeout,
        template_from=Workload.parse("deployment/web", IMAGE),
        tuning=FAST,
    )


def seed_web(kube: FakeKubeApiServer, pod: dict[str, Any]) -> None:
    """deployment/web at v1, its pod spec extended by `pod` (init containers, volumes...)."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=1, wait=False)

    def edit(d: dict[str, Any]) -> dict[str, Any]:
        template = d["spec"]["template"]
        spec = {**template["spec"], **pod}
        spec["containers"] = [
            {
                **template["spec"]["containers"][0],
                "volumeMounts": [{"name": "proxy-socket", "mountPath": "/cloudsql"}],
            },
            *pod.get("containers", []),
        ]
        return {**d, "spec": {**d["spec"], "template": {**template, "spec": spec}}}

    kube.store.update("deployments", NS, "web", edit)


def job_pod_spec(kube: FakeKubeApiServer, release: int) -> dict[str, Any]:
    job = kube.get("jobs", NS, job_name("web", release))
    assert job is not None
    return dict(job["spec"]["template"]["spec"])


def test_native_sidecar_and_its_volumes_come_along(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A native sidecar (restartPolicy Always) is copied with every volume it mounts, and
    the Job completes once the migration exits: the kubelet stops the sidecar."""
    seed_web(kube, {"initContainers": [WAIT_FOR_DB, NATIVE_PROXY], "volumes": [SOCKET, CERTS]})
    result = runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=11))
    assert result.succeeded, result.message
    spec = job_pod_spec(kube, 11)
    assert [c["name"] for c in spec["initContainers"]] == ["cloud-sql-proxy"]
    (proxy,) = spec["initContainers"]
    assert (proxy["image"], proxy["restartPolicy"]) == (PROXY_IMAGE, "Always")
    mounted = {m["name"] for m in proxy["volumeMounts"]}
    assert mounted <= {v["name"] for v in spec["volumes"]}
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "proxy-socket", "mountPath": "/cloudsql"}
    ]
    (pod,) = [
        p
        for p in kube.objects("pods", NS)
        if p["metadata"]["labels"].get("job-name") == job_name("web", 11)
    ]
    assert pod["status"]["phase"] == "Succeeded"
    (stopped,) = pod["status"]["initContainerStatuses"]
    assert "terminated" in stopped["state"]


def test_native_sidecar_keeps_its_startup_probe(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """The sidecar's startupProbe comes along (the kubelet starts the migration only once
    the proxy has started); its readinessProbe, which a Job has no use for, does not."""
    seed_web(kube, {"initContainers": [NATIVE_PROXY], "volumes": [SOCKET, CERTS]})
    runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=12))
    (proxy,) = job_pod_spec(kube, 12)["initContainers"]
    assert proxy["startupProbe"] == PROBE
    assert "readinessProbe" not in proxy


def test_native_sidecar_on_the_app_image_runs_the_target_version(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A native sidecar that runs the application's own image (ship changes it with the
    app) runs the version being migrated to in the Job, never the old one."""
    agent = {"name": "outbox-relay", "image": "ghcr.io/acme/web:v1", "restartPolicy": "Always"}
    seed_web(kube, {"initContainers": [NATIVE_PROXY, agent], "volumes": [SOCKET, CERTS]})
    result = runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=13))
    assert result.succeeded, result.message
    images = {c["name"]: c["image"] for c in job_pod_spec(kube, 13)["initContainers"]}
    assert images == {"cloud-sql-proxy": PROXY_IMAGE, "outbox-relay": "ghcr.io/acme/web:v2"}


def test_classic_sidecars_of_the_workload_stay_out_of_the_job(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A second regular container of the workload (another repository's image) is not
    copied: it would keep the Job's pod running after the migration."""
    metrics = {"name": "statsd-exporter", "image": "prom/statsd-exporter:v0.26.0"}
    seed_web(kube, {"containers": [metrics], "volumes": [SOCKET]})
    result = runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=14))
    assert result.succeeded, result.message
    assert [c["name"] for c in job_pod_spec(kube, 14)["containers"]] == ["migrate"]


@pytest.mark.parametrize(("version", "code"), [("v2", 0), ("v2-badmigrate", 1)])
def test_an_injected_sidecar_holding_the_pod_is_named(
    kube: FakeKubeApiServer, kubeconfig: Path, version: str, code: int
) -> None:
    """A classic sidecar a webhook injected keeps running after the migration container
    exited: the migration fails soon, naming the sidecar and the migration's exit code,
    instead of waiting out migrations.timeout."""
    seed_web(kube, {"volumes": [SOCKET]})
    kube.inject_sidecar(NS, "istio-proxy", "docker.io/istio/proxyv2:1.22.0")
    started = time.monotonic()
    result = runner(kubeconfig, timeout=60).run(Version(version), COMMAND, real_op(release=15))
    assert not result.succeeded
    assert "istio-proxy" in result.message
    assert f"exit code {code}" in result.message
    assert "native sidecar" in result.message
    assert time.monotonic() - started < 15
    assert "$ bin/rails db:migrate" in result.log
