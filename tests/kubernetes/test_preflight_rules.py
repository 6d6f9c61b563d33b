"""The preflight rules on one live workload: what ship refuses before any change. Pure."""

from __future__ import annotations

from typing import Any

from shipper.core.model import Severity
from shipper.kubernetes.access import needed
from shipper.kubernetes.preflight import Rules, check_workload, gitops_owner, last_spec_manager
from shipper.kubernetes.workloads import Workload

IMAGE = "ghcr.io/acme/web:{version}"
WEB = Workload.parse("deployment/web", IMAGE)
DB = Workload.parse("statefulset/db", IMAGE)


def healthy_deployment(**meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": 3, **meta},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:v1"}]}},
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": 2,
            "readyReplicas": 2,
        },
    }


def statefulset(strategy: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "generation": 1},
        "spec": {
            "replicas": 2,
            "updateStrategy": strategy,
            "template": {"spec": {"containers": [{"name": "db", "image": "ghcr.io/acme/web:v1"}]}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 2,
            "readyReplicas": 2,
            "updatedReplicas": 2,
            "currentRevision": "db-1",
            "updateRevision": "db-1",
        },
    }


def checks(findings: list[Any]) -> list[tuple[str, Severity]]:
    return [(f.check, f.severity) for f in findings]


def test_a_healthy_deployment_has_no_findings() -> None:
    """A rolled-out Deployment running the pipeline's image passes every rule."""
    assert check_workload(WEB, healthy_deployment(), Rules()) == []


def test_a_paused_deployment_is_refused_and_its_pause_is_the_only_rollout_finding() -> None:
    """spec.paused blocks, naming the command that resumes it."""
    obj = healthy_deployment()
    obj["spec"]["paused"] = True
    found = check_workload(WEB, obj, Rules())
    assert checks(found) == [("paused", Severity.BLOCK)]
    assert "kubectl rollout resume deployment/web" in found[0].message


def test_ondelete_and_partition_are_refused_unless_the_pipeline_opts_in() -> None:
    """OnDelete and partition > 0 block by default and warn with the opt-in."""
    for strategy in (
        {"type": "OnDelete"},
        {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
    ):
        assert checks(check_workload(DB, statefulset(strategy), Rules())) == [
            ("update-strategy", Severity.BLOCK)
        ]
        allowed = check_workload(DB, statefulset(strategy), Rules(statefulset_partitioned=True))
        assert checks(allowed) == [("update-strategy", Severity.WARN)]


def test_a_missing_configured_container_is_refused_and_the_present_ones_listed() -> None:
    """A configured name the pod lacks is found (as the pipeline's mistake), naming what
    the pod has."""
    found = check_workload(
        Workload.parse("deployment/web:app", IMAGE), healthy_deployment(), Rules()
    )
    assert checks(found) == [("container-name", Severity.BLOCK)]
    assert "no container named app (it has: web)" in found[0].message


def test_a_workload_with_no_container_on_the_repository_is_refused() -> None:
    """Nothing runs the pipeline's repository: ship would change nothing, so it refuses."""
    found = check_workload(
        Workload.parse("deployment/web", "ghcr.io/acme/api:{version}"),
        healthy_deployment(),
        Rules(),
    )
    assert checks(found) == [("containers", Severity.BLOCK)]
    assert "ghcr.io/acme/api" in found[0].message


def test_an_unfinished_rollout_is_refused_naming_the_change_cause() -> None:
    """Updated replicas lagging blocks, with the change-cause of whoever started it."""
    obj = healthy_deployment(annotations={"kubernetes.io/change-cause": "hotfix by ana"})
    obj["status"]["updatedReplicas"] = 1
    found = check_workload(WEB, obj, Rules())
    assert checks(found) == [("rollout-in-progress", Severity.BLOCK)]
    assert 'change-cause "hotfix by ana"' in found[0].message


def test_an_unobserved_generation_is_an_unfinished_rollout_named_by_its_manager() -> None:
    """observedGeneration behind generation blocks; the last spec writer is named."""
    obj = healthy_deployment(
        managedFields=[
            {
                "manager": "kubectl-edit",
                "operation": "Update",
                "time": "2026-01-01T10:00:00Z",
                "fieldsV1": {"f:spec": {}},
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "subresource": "status",
                "time": "2026-01-01T11:00:00Z",
                "fieldsV1": {"f:status": {}},
            },
        ]
    )
    obj["status"]["observedGeneration"] = 2
    found = check_workload(WEB, obj, Rules())
    assert "last changed by kubectl-edit" in found[0].message


def test_a_failed_last_rollout_counts_as_unfinished() -> None:
    """ProgressDeadlineExceeded on the live template blocks: it is not a way back."""
    obj = healthy_deployment()
    obj["status"]["conditions"] = [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    ]
    assert checks(check_workload(WEB, obj, Rules())) == [("rollout-in-progress", Severity.BLOCK)]


def test_argo_cd_tracking_is_refused_naming_the_application_unless_allowed() -> None:
    """Argo CD's tracking annotation blocks with its application; the opt-in warns."""
    obj = healthy_deployment(
        annotations={"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}
    )
    found = check_workload(WEB, obj, Rules())
    assert checks(found) == [("gitops", Severity.BLOCK)]
    assert "Argo CD (application shop-web)" in found[0].message
    assert checks(check_workload(WEB, obj, Rules(allow_gitops=True))) == [("gitops", Severity.WARN)]


def test_flux_labels_name_the_kustomization_and_a_disabled_one_only_warns() -> None:
    """Flux's labels name its Kustomization; `reconcile: disabled` is a warning."""
    labels = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert gitops_owner({"metadata": {"labels": labels}}) == (
        "Flux",
        "Kustomization flux-system/apps",
        True,
    )
    obj = healthy_deployment(
        labels=labels, annotations={"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}
    )
    assert checks(check_workload(WEB, obj, Rules())) == [("gitops", Severity.WARN)]


def test_the_instance_label_alone_is_not_argo_cd() -> None:
    """`app.kubernetes.io/instance` is Helm's label too: alone it is no GitOps marker."""
    assert gitops_owner({"metadata": {"labels": {"app.kubernetes.io/instance": "web"}}}) is None
    argo = {
        "labels": {"app.kubernetes.io/instance": "web"},
        "managedFields": [{"manager": "argocd-controller"}],
    }
    assert gitops_owner({"metadata": argo}) == ("Argo CD", "web", True)


def test_every_finding_of_a_workload_is_returned() -> None:
    """Several problems on one workload come back together, not just the first."""
    obj = healthy_deployment(
        annotations={"argocd.argoproj.io/tracking-id": "a:apps/Deployment:s/web"}
    )
    obj["status"]["updatedReplicas"] = 0
    found = check_workload(Workload.parse("deployment/web:web,app", IMAGE), obj, Rules())
    assert [f.check for f in found] == ["container-name", "rollout-in-progress", "gitops"]


def test_last_spec_manager_skips_status_writes_and_an_excluded_manager() -> None:
    """The newest spec writer other than ship is the one named."""
    obj = {
        "metadata": {
            "managedFields": [
                {
                    "manager": "argocd-controller",
                    "time": "2026-01-01T10:00:01Z",
                    "fieldsV1": {"f:spec": {}},
                },
                {"manager": "ship", "time": "2026-01-01T10:00:00Z", "fieldsV1": {"f:spec": {}}},
            ]
        }
    }
    assert last_spec_manager(obj, excluding="ship") == "argocd-controller"


def test_rights_follow_the_kinds_and_backends_and_diagnostics_are_optional() -> None:
    """Deployments need get/list/watch/patch; pods and logs are diagnostics only."""
    rights = {(r.shown, r.required) for r in needed(["deployment"], migration_jobs=True)}
    assert ("patch deployments.apps", True) in rights
    assert ("create jobs.batch", True) in rights
    assert ("list pods", False) in rights
    assert ("get pods/log", False) in rights
    assert not any("leases" in shown for shown, _ in rights)
