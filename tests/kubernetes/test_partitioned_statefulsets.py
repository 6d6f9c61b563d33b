"""StatefulSets the pipeline lets ship change with a partition or OnDelete
(`kubernetes.statefulset_partitioned`): the deploy names, pod by pod, which still run
the old revision, instead of only a count or a claim of the new version everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipper.core.model import Verdict, Version
from shipper.kubernetes.platform import KubernetesPlatform
from shipper.kubernetes.preflight import Rules
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import FAST, IMAGE, make_platform, real_op
from tests.kubernetes.conftest import NAMESPACE as NS

V1 = "ghcr.io/acme/web:v1"


def partitioned(kubeconfig: Path) -> KubernetesPlatform:
    base = make_platform(kubeconfig, ["statefulset/db"])
    return KubernetesPlatform(
        base.api,
        base.workloads,
        image_template=IMAGE,
        rollout_timeout=20,
        tuning=FAST,
        rules=Rules(statefulset_partitioned=True),
    )


def seed(kube: FakeKubeApiServer, strategy: dict[str, Any]) -> None:
    kube.seed_statefulset(NS, "db", V1, replicas=3, update_strategy=strategy)


def test_a_partition_names_the_pods_left_on_the_old_revision(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """With partition 2 of 3, db-2 moves and the deploy names db-0 and db-1 as still on
    the old revision, in its result and in a progress line."""
    seed(kube, {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    op = real_op()
    [result] = partitioned(kubeconfig).deploy(Version("v2"), op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert "2 of 3 pods still run the old revision" in result.message
    assert result.message.endswith("(partition 2): db-0, db-1")
    lines = [m for _, status, m in op.updates if status == "partitioned"]
    assert lines == [result.message.split("; ", 1)[1]]


def test_on_delete_names_every_pod_until_it_is_deleted(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """With OnDelete no pod moves by itself: all three are named, in ordinal order."""
    seed(kube, {"type": "OnDelete"})
    [result] = partitioned(kubeconfig).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert "3 of 3 pods still run the old revision" in result.message
    assert result.message.endswith("until they are deleted (OnDelete): db-0, db-1, db-2")


def test_without_pod_listing_the_count_is_said(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A user who may not list pods (a diagnostics right) still gets the count."""
    seed(kube, {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}})
    kube.rbac.deny("list", "pods")
    [result] = partitioned(kubeconfig).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert "1 of 3 pods still run the old revision (partition 1)" in result.message


def test_an_ordinary_statefulset_names_nothing(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A StatefulSet without partition rolls every pod: no line about old revisions."""
    kube.seed_statefulset(NS, "db", V1, replicas=2)
    op = real_op()
    [result] = partitioned(kubeconfig).deploy(Version("v2"), op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert "old revision" not in result.message
    assert not [u for u in op.updates if u[1] == "partitioned"]


def test_an_opted_in_on_delete_statefulset_is_healthy_after_its_deploy(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The bake's health reading accepts what the deploy accepted: an OnDelete template
    stored and observed, its pods ready (on either revision), is healthy, not a failure
    that would roll the release back."""
    seed(kube, {"type": "OnDelete"})
    platform = partitioned(kubeconfig)
    [result] = platform.deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.SUCCEEDED and result.state is not None
    measured = platform.health([result.state])
    assert measured.status.value != "failed", measured
