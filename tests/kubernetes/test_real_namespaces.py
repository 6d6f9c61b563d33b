"""The adapter on namespaces ship did not build: sidecars, init containers, digests,
paused workloads, missing rights, a GitOps revert, concurrent annotation writers.
The real client against the fake API server over loopback."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kubernetes import client

from shipper.core.model import MeasurementStatus, Severity, Verdict, Version
from shipper.kubernetes.access import needed
from shipper.kubernetes.platform import KubernetesPlatform
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_platform, real_op
from tests.narrow import present

V1 = "ghcr.io/acme/web:v1"
V2 = "ghcr.io/acme/web:v2"
PROXY = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.0"
DIGEST = "sha256:" + "cd" * 32


def containers(kube: FakeKubeApiServer, name: str = "web") -> dict[str, str]:
    obj = kube.get("deployments", NS, name)
    assert obj is not None
    spec = obj["spec"]["template"]["spec"]
    return {c["name"]: c["image"] for c in [*spec.get("initContainers", []), *spec["containers"]]}


def test_a_sidecar_keeps_its_image_and_the_version_reads_from_the_app(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Without a container list only the container on the pipeline's repository changes."""
    kube.seed_deployment(NS, "web", V1, containers={"web": V1, "proxy": PROXY})
    platform = make_platform(kubeconfig, ["deployment/web"])
    [result] = platform.deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert containers(kube) == {"web": V2, "proxy": PROXY}
    [state] = platform.snapshot()
    assert state.version == Version("v2")
    assert state.identity == f"k8s:web={V2}"


def test_an_init_container_on_the_app_image_changes_with_it(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """An init container (and a native sidecar) on the app's repository gets the new image."""
    obj = kube.seed_deployment(NS, "web", V1, wait=False)
    kube.store.update(
        "deployments",
        NS,
        "web",
        lambda cur: {
            **cur,
            "spec": {
                **cur["spec"],
                "template": {
                    **cur["spec"]["template"],
                    "spec": {
                        **cur["spec"]["template"]["spec"],
                        "initContainers": [{"name": "check", "image": V1}],
                    },
                },
            },
        },
    )
    assert obj
    kube.settle("deployments", NS, "web")
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert containers(kube) == {"check": V2, "web": V2}


def test_an_image_pinned_by_digest_reads_as_its_digest_and_rolls_back_to_it(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """`repo@sha256:..` is the version; a rollback puts that exact image back and its
    health is judged by the recorded images."""
    pinned = f"ghcr.io/acme/web@{DIGEST}"
    kube.seed_deployment(NS, "web", pinned)
    platform = make_platform(kubeconfig, ["deployment/web"])
    snapshot = platform.snapshot()
    assert snapshot[0].version == DIGEST
    platform.deploy(Version("v2"), real_op())
    [back] = platform.roll_back(snapshot, real_op(release=8))
    assert back.verdict is Verdict.SUCCEEDED, back.message
    assert containers(kube) == {"web": pinned}
    assert platform.health(snapshot).status is MeasurementStatus.SUCCESSFUL


def test_a_paused_deployment_is_refused_before_any_write(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The preflight blocks a paused Deployment and writes nothing."""
    kube.seed_deployment(NS, "web", V1)
    kube.store.update(
        "deployments", NS, "web", lambda cur: {**cur, "spec": {**cur["spec"], "paused": True}}
    )
    kube.reset_calls()
    found = make_platform(kubeconfig, ["deployment/web"]).preflight(Version("v2"))
    assert [(f.check, f.severity) for f in found] == [("paused", Severity.BLOCK)]
    assert kube.call_count("patch") == kube.call_count("update") == kube.call_count("create") == 0


def test_missing_rights_block_and_missing_diagnostics_warn(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """SelfSubjectAccessReview finds a missing patch right (BLOCK) and pod listing (WARN)."""
    kube.seed_deployment(NS, "web", V1)
    kube.rbac.deny("patch", "deployments")
    kube.rbac.deny("list", "pods")
    base = make_platform(kubeconfig, ["deployment/web"])
    platform = KubernetesPlatform(
        base.api,
        base.workloads,
        image_template="ghcr.io/acme/web:{version}",
        rollout_timeout=20,
        rights=needed(["deployment"]),
    )
    found = platform.preflight(Version("v2"))
    shown = sorted(
        (f.severity.value, f.message.split(" may not ")[1].split(" in ")[0]) for f in found
    )
    assert shown == [("block", "patch deployments.apps"), ("warn", "list pods")]


def test_a_gitops_revert_during_the_rollout_fails_naming_the_manager(
    kube: FakeKubeApiServer, kubeconfig: Path, api_client: client.ApiClient
) -> None:
    """A controller putting the old image back right after ship's patch fails the rollout
    as changed by that manager, never as a success."""
    kube.seed_deployment(NS, "web", V1, replicas=2)
    apps = client.AppsV1Api(api_client)
    stop = threading.Event()

    def self_heal() -> None:
        while not stop.is_set():
            if containers(kube).get("web") == V2:
                body = {
                    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": V1}]}}}
                }
                apps.patch_namespaced_deployment("web", NS, body, field_manager="argocd-controller")
                return
            time.sleep(0.002)

    healer = threading.Thread(target=self_heal, daemon=True)
    healer.start()
    try:
        [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    finally:
        stop.set()
        healer.join(timeout=5)
    assert result.verdict is Verdict.FAILED
    assert "changed by argocd-controller during the rollout" in result.message


def test_restoring_keeps_an_annotation_another_writer_added(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The restore sets its annotations key by key: one added after ship read the
    workload survives."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    snapshot = platform.snapshot()
    stale = platform.api.read("deployment", "web")
    platform.api.patch(
        "deployment",
        "web",
        {"metadata": {"annotations": {"team.example/owner": "payments"}}},
        content_type="application/merge-patch+json",
    )
    template = snapshot[0].detail["template"]
    assert isinstance(template, dict)
    platform._restorer.write_template(
        platform.workloads[0], stale, template, {"ship.dev/release": "9"}
    )
    notes = present(kube.get("deployments", NS, "web"))["metadata"]["annotations"]
    assert notes["team.example/owner"] == "payments"
    assert notes["ship.dev/release"] == "9"
