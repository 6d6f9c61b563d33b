"""The fake API server's answers that real namespaces depend on (RBAC, access reviews,
/scale, paused Deployments, managedFields), through the real client over loopback."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.test_fake_apiserver import eventually
from tests.narrow import present


def review(api_client: client.ApiClient, verb: str, resource: str, group: str = "apps") -> bool:
    body = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                namespace=NS, verb=verb, group=group, resource=resource
            )
        )
    )
    answer = client.AuthorizationV1Api(api_client).create_self_subject_access_review(body)
    return bool(present(answer.status).allowed)


def test_a_denied_verb_is_a_403_status_and_the_access_review_agrees(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Denying patch on deployments answers 403 Forbidden and the review says no."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1")
    kube.rbac.deny("patch", "deployments")
    apps = client.AppsV1Api(api_client)
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"a": "b"}}})
    assert caught.value.status == 403
    status = json.loads(present(caught.value.body))
    assert status["reason"] == "Forbidden"
    assert 'cannot patch resource "deployments" in API group "apps"' in status["message"]
    assert review(api_client, "patch", "deployments") is False
    assert review(api_client, "get", "deployments") is True
    assert present(apps.read_namespaced_deployment("web", NS).metadata).name == "web"


def test_scale_reads_and_writes_only_replicas(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """GET /scale shows replicas and selector; PATCH /scale changes spec.replicas."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=2)
    apps = client.AppsV1Api(api_client)
    scale = apps.read_namespaced_deployment_scale("web", NS)
    assert (present(scale.spec).replicas, present(scale.status).selector) == (2, "app=web")
    apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment("web", NS).spec.replicas == 3


def test_a_paused_deployment_reports_progressing_unknown(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Pausing sets Progressing=Unknown/DeploymentPaused, as the controller does."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1")
    apps = client.AppsV1Api(api_client)
    apps.patch_namespaced_deployment("web", NS, {"spec": {"paused": True}})

    def paused() -> bool:
        status = present(apps.read_namespaced_deployment("web", NS).status)
        conditions = status.conditions or []
        return any(c.type == "Progressing" and c.reason == "DeploymentPaused" for c in conditions)

    assert eventually(paused)


def test_writes_record_their_field_manager_newest_last(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Each spec write records its fieldManager; the latest writer comes last."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1")
    apps = client.AppsV1Api(api_client)
    image = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x:2"}]}}}}
    apps.patch_namespaced_deployment("web", NS, image, field_manager="ship")
    image["spec"]["template"]["spec"]["containers"][0]["image"] = "x:1"
    apps.patch_namespaced_deployment("web", NS, image, field_manager="argocd-controller")
    fields = present(present(apps.read_namespaced_deployment("web", NS).metadata).managed_fields)
    assert [f.manager for f in fields][-2:] == ["ship", "argocd-controller"]
    assert "f:spec" in present(fields[-1].fields_v1)
