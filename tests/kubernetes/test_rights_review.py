"""Ship's rights are asked with one SelfSubjectRulesReview; only what its rules don't
grant is asked again right by right (SelfSubjectAccessReview), which decides."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from shipper.core.model import Severity, Version
from shipper.kubernetes.access import Access, granted, needed
from shipper.kubernetes.platform import KubernetesPlatform
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_platform
from tests.narrow import present

V1 = "ghcr.io/acme/web:v1"
SSAR = ("create", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
SSRR = ("create", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
PATCH = Access("patch", "apps", "deployments")
LOG = Access("get", "", "pods", "log")


def test_a_rule_grants_by_verb_group_and_resource_with_wildcards() -> None:
    """Wildcards in verbs, groups and resources grant; another group or verb does not."""
    assert granted(PATCH, [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])
    assert granted(PATCH, [{"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["*"]}])
    assert not granted(PATCH, [{"verbs": ["get"], "apiGroups": ["apps"], "resources": ["*"]}])
    assert not granted(PATCH, [{"verbs": ["patch"], "apiGroups": [""], "resources": ["*"]}])


def test_a_subresource_needs_a_rule_that_names_it() -> None:
    """pods/log is granted by pods/log, pods/* or */log, never by pods alone."""
    rule = {"verbs": ["get"], "apiGroups": [""]}
    assert not granted(LOG, [{**rule, "resources": ["pods"]}])
    for shown in ("pods/log", "pods/*", "*/log"):
        assert granted(LOG, [{**rule, "resources": [shown]}])


def test_a_rule_limited_to_named_objects_does_not_grant_the_right() -> None:
    """A rule with resourceNames covers those objects only, so it is not a grant here."""
    rule = {"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments"]}
    assert not granted(PATCH, [{**rule, "resourceNames": ["web"]}])


def platform_with_rights(kubeconfig: Path) -> KubernetesPlatform:
    base = make_platform(kubeconfig, ["deployment/web"])
    return KubernetesPlatform(
        base.api,
        base.workloads,
        image_template="ghcr.io/acme/web:{version}",
        rollout_timeout=20,
        rights=needed(["deployment"], lease_lock=True, configmap_ledger=True),
    )


def test_all_rights_granted_cost_one_rules_review_and_no_access_review(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """With every right granted the preflight asks one rules review and nothing else."""
    kube.seed_deployment(NS, "web", V1)
    platform = platform_with_rights(kubeconfig)
    kube.reset_calls()
    assert platform.preflight(Version("v2")) == []
    assert kube.api_calls[SSRR] == 1
    assert kube.api_calls[SSAR] == 0


def test_denied_rights_are_asked_again_one_by_one_and_become_findings(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A denied patch (BLOCK) and a denied pod log (WARN) are confirmed by an access
    review each; the rights the rules grant are not asked again."""
    kube.seed_deployment(NS, "web", V1)
    kube.rbac.deny("patch", "deployments")
    kube.rbac.deny("get", "pods", "log")
    platform = platform_with_rights(kubeconfig)
    kube.reset_calls()
    found = platform.preflight(Version("v2"))
    shown = sorted((f.severity, f.message.split(" may not ")[1].split(" in ")[0]) for f in found)
    assert shown == [(Severity.BLOCK, "patch deployments.apps"), (Severity.WARN, "get pods/log")]
    assert kube.api_calls[SSRR] == 1
    assert kube.api_calls[SSAR] == 2


def test_the_fake_rules_review_leaves_out_exactly_the_denied_verbs(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """The sandbox answers a rules review shaped like the API server's: complete, with
    every verb of deployments but the denied patch."""
    kube.rbac.deny("patch", "deployments")
    body = client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=NS))
    answer = client.AuthorizationV1Api(api_client).create_self_subject_rules_review(body)
    status = present(answer.status)
    assert status.incomplete is False
    rules = [r for r in status.resource_rules if r.resources == ["deployments"]]
    assert len(rules) == 1
    assert rules[0].api_groups == ["apps"]
    assert "patch" not in rules[0].verbs and {"get", "list", "watch"} <= set(rules[0].verbs)
