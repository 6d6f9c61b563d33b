"""A deploy's or rollback's first write goes out without a read first when the platform holds the
workload's latest object, guarded by its resourceVersion; a guard that fails is a read
and a fresh decision, never a lost write by someone else."""

from __future__ import annotations

from pathlib import Path

from shipper.core.model import Verdict, Version
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_platform, real_op
from tests.narrow import present

V1 = "ghcr.io/acme/web:v1"


def test_rollback_after_a_deploy_patches_every_workload_before_any_read(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """After the deploy, each workload's restore is a patch with no GET or list before
    the last of them, and every workload is back on its recorded template."""
    names = ["web", "worker", "api"]
    for name in names:
        kube.seed_deployment(NS, name, V1, replicas=1)
    platform = make_platform(kubeconfig, [f"deployment/{n}" for n in names])
    snapshot = platform.snapshot()
    deployed = platform.deploy(Version("v2"), real_op())
    assert all(r.ok for r in deployed)
    kube.reset_calls()
    back = platform.roll_back(snapshot, real_op(release=8))
    assert all(r.ok for r in back), [r.message for r in back]
    calls = kube.calls_in_order
    patches = [i for i, call in enumerate(calls) if call == ("patch", "deployments")]
    assert len(patches) == 3
    assert not [verb for verb, _ in calls[: patches[-1]] if verb in ("get", "list")]
    for name, state in zip(names, snapshot, strict=True):
        live = present(kube.get("deployments", NS, name))
        assert live["spec"]["template"] == state.detail["template"]


def test_a_workload_changed_since_ship_saw_it_is_read_again_and_keeps_the_change(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Someone writes after the deploy: the guarded write is refused, the restore reads
    the workload and writes again, and the other writer's annotation survives."""
    kube.seed_deployment(NS, "web", V1, replicas=1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    snapshot = platform.snapshot()
    [deployed] = platform.deploy(Version("v2"), real_op())
    assert deployed.ok
    platform.api.patch(
        "deployment",
        "web",
        {"metadata": {"annotations": {"team.example/owner": "payments"}}},
        content_type="application/merge-patch+json",
    )
    kube.reset_calls()
    [back] = platform.roll_back(snapshot, real_op(release=8))
    assert back.verdict is Verdict.SUCCEEDED, back.message
    assert kube.calls_in_order[:3] == [
        ("patch", "deployments"),
        ("get", "deployments"),
        ("patch", "deployments"),
    ]
    live = present(kube.get("deployments", NS, "web"))
    assert live["metadata"]["annotations"]["team.example/owner"] == "payments"
    assert live["spec"]["template"] == snapshot[0].detail["template"]


def test_a_deploy_after_the_snapshot_patches_before_any_read(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The snapshot's objects are what the deploy patches against: no GET or list goes
    out before the patches, and each workload rolls out."""
    names = ["web", "worker"]
    for name in names:
        kube.seed_deployment(NS, name, V1, replicas=1)
    platform = make_platform(kubeconfig, [f"deployment/{n}" for n in names])
    platform.snapshot()
    kube.reset_calls()
    deployed = platform.deploy(Version("v2"), real_op())
    assert all(r.ok for r in deployed), [r.message for r in deployed]
    calls = kube.calls_in_order
    patches = [i for i, call in enumerate(calls) if call == ("patch", "deployments")]
    assert len(patches) == 2
    assert not [verb for verb, _ in calls[: patches[-1]] if verb in ("get", "list")]


def test_a_deploy_over_a_workload_changed_since_the_snapshot_reads_it_and_keeps_the_change(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A write after the snapshot makes the deploy's patch conflict (409) instead of
    landing on an object ship did not see; the deploy reads it and patches again."""
    kube.seed_deployment(NS, "web", V1, replicas=1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    platform.snapshot()
    platform.api.patch(
        "deployment",
        "web",
        {"metadata": {"annotations": {"team.example/owner": "payments"}}},
        content_type="application/merge-patch+json",
    )
    kube.reset_calls()
    [deployed] = platform.deploy(Version("v2"), real_op())
    assert deployed.ok, deployed.message
    assert kube.calls_in_order[:3] == [
        ("patch", "deployments"),
        ("get", "deployments"),
        ("patch", "deployments"),
    ]
    live = present(kube.get("deployments", NS, "web"))
    assert live["metadata"]["annotations"]["team.example/owner"] == "payments"
