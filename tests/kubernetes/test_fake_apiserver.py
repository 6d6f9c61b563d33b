"""The fake API server, exercised through the real `kubernetes` client over loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.narrow import present


def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `probe` until it returns something truthy."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        value = probe()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def body(exc: ApiException) -> dict[str, Any]:
    return dict(json.loads(present(exc.body)))


def config_map(name: str, data: dict[str, str] | None = None) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)


def test_refuses_to_bind_anything_but_loopback() -> None:
    """A non-loopback host is refused before anything listens."""
    with pytest.raises(ValueError, match="loopback"):
        FakeKubeApiServer(host="0.0.0.0")


def test_missing_deployment_is_a_404_status(api_client: client.ApiClient) -> None:
    """Reading a missing Deployment answers 404 with a NotFound Status naming it."""
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(api_client).read_namespaced_deployment("nope", NS)
    assert caught.value.status == 404
    assert body(caught.value)["reason"] == "NotFound"
    assert body(caught.value)["message"] == 'deployments.apps "nope" not found'


def test_wrong_token_is_a_401(kube: FakeKubeApiServer, kubeconfig: Any) -> None:
    """A request without the server's bearer token is answered 401."""
    cfg = client.Configuration()
    cfg.host = kube.url
    cfg.api_key = {"BearerToken": "wrong"}
    cfg.api_key_prefix = {"BearerToken": "Bearer"}
    with client.ApiClient(cfg) as api, pytest.raises(ApiException) as caught:
        client.CoreV1Api(api).list_namespaced_config_map(NS)
    assert caught.value.status == 401


def test_generation_moves_only_with_the_spec(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A spec patch bumps metadata.generation; an annotation-only patch does not."""
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1")
    apps = client.AppsV1Api(api_client)
    annotated = apps.patch_namespaced_deployment(
        "web", NS, {"metadata": {"annotations": {"a": "b"}}}
    )
    assert present(annotated.metadata).generation == 1
    scaled = apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    assert present(scaled.metadata).generation == 2


def test_stale_resource_version_on_put_is_a_409(api_client: client.ApiClient) -> None:
    """A PUT carrying an old resourceVersion is refused with 409 Conflict."""
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map(NS, config_map("c", {"k": "1"}))
    core.patch_namespaced_config_map("c", NS, {"data": {"k": "2"}})
    created.data = {"k": "3"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("c", NS, created)
    assert caught.value.status == 409
    assert body(caught.value)["reason"] == "Conflict"


def test_creating_an_existing_name_is_a_409(api_client: client.ApiClient) -> None:
    """POST of a name that exists answers 409 AlreadyExists."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(NS, config_map("c"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(NS, config_map("c"))
    assert body(caught.value)["reason"] == "AlreadyExists"


def test_strategic_merge_keeps_other_containers(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A strategic merge patch of one container's image leaves the sidecar alone."""
    kube.seed_deployment(NS, "web", "web:v1", containers={"app": "web:v1", "proxy": "envoy:1"})
    patched = client.AppsV1Api(api_client).patch_namespaced_deployment(
        "web",
        NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:v2"}]}}}},
    )
    images = {c.name: c.image for c in present(patched.spec.template.spec).containers}
    assert images == {"app": "web:v2", "proxy": "envoy:1"}


def test_merge_patch_replaces_the_container_list(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A JSON merge patch replaces lists whole, as on a real cluster."""
    kube.seed_deployment(NS, "web", "web:v1", containers={"app": "web:v1", "proxy": "envoy:1"})
    patched = client.AppsV1Api(api_client).patch_namespaced_deployment(
        "web",
        NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:v2"}]}}}},
        _content_type="application/merge-patch+json",
    )
    assert [c.name for c in present(patched.spec.template.spec).containers] == ["app"]


def test_invalid_object_is_a_422_with_the_field(api_client: client.ApiClient) -> None:
    """A Job with restartPolicy Always is refused with 422 naming the field."""
    pod = client.V1PodSpec(
        restart_policy="Always", containers=[client.V1Container(name="m", image="x:1")]
    )
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="j"),
        spec=client.V1JobSpec(template=client.V1PodTemplateSpec(spec=pod)),
    )
    with pytest.raises(ApiException) as caught:
        client.BatchV1Api(api_client).create_namespaced_job(NS, job)
    assert caught.value.status == 422
    assert "spec.template.spec.restartPolicy" in body(caught.value)["message"]


def test_configmap_over_one_mebibyte_is_refused(api_client: client.ApiClient) -> None:
    """ConfigMap data above 1 MiB is a 422 Invalid."""
    big = config_map("big", {"k": "x" * (1024 * 1024 + 1)})
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(api_client).create_namespaced_config_map(NS, big)
    assert caught.value.status == 422


def test_lease_time_without_microseconds_is_refused(api_client: client.ApiClient) -> None:
    """A Lease renewTime whose fraction the client dropped is a 400, as the real parser does."""
    lease = client.V1Lease(
        metadata=client.V1ObjectMeta(name="l"),
        spec=client.V1LeaseSpec(holder_identity="me", renew_time=datetime(2026, 1, 1, tzinfo=UTC)),
    )
    with pytest.raises(ApiException) as caught:
        client.CoordinationV1Api(api_client).create_namespaced_lease(NS, lease)
    assert caught.value.status == 400


def test_rollout_reaches_new_replicaset_available(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """After an image change the controller completes the rollout with NewReplicaSetAvailable."""
    kube.seed_deployment(NS, "web", "web:v1", replicas=3)
    apps = client.AppsV1Api(api_client)
    apps.patch_namespaced_deployment(
        "web",
        NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:v2"}]}}}},
    )

    def done() -> bool:
        status = present(apps.read_namespaced_deployment("web", NS).status)
        reasons = [c.reason for c in status.conditions or []]
        return status.observed_generation == 2 and "NewReplicaSetAvailable" in reasons

    eventually(done)
    d = apps.read_namespaced_deployment("web", NS)
    assert present(present(d.metadata).annotations)["deployment.kubernetes.io/revision"] == "2"
    status = present(d.status)
    assert (status.updated_replicas, status.available_replicas) == (3, 3)


def _waiting_reason(status: client.V1ContainerStatus) -> str | None:
    waiting = present(status.state).waiting
    return waiting.reason if waiting else None


def test_crashloop_tag_gives_crashloopbackoff(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Pods of an image tagged crashloop end in CrashLoopBackOff with a climbing restart count."""
    kube.seed_deployment(NS, "web", "web:v1-crashloop", replicas=1, wait=False)
    core = client.CoreV1Api(api_client)

    def waiting() -> Any:
        pods = core.list_namespaced_pod(NS, label_selector="app=web").items
        statuses = [s for p in pods for s in present(p.status).container_statuses or []]
        return [s for s in statuses if _waiting_reason(s) == "CrashLoopBackOff"]

    status = eventually(waiting)[0]
    assert status.restart_count >= 1
    assert status.last_state.terminated.exit_code == 1


def test_unschedulable_tag_leaves_pods_pending(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Pods of an image tagged unschedulable stay Pending with PodScheduled=False."""
    kube.seed_deployment(NS, "web", "web:unschedulable", replicas=1, wait=False)
    core = client.CoreV1Api(api_client)

    def scheduled_condition() -> Any:
        pods = core.list_namespaced_pod(NS).items
        conds = [
            c for p in pods for c in present(p.status).conditions or [] if c.type == "PodScheduled"
        ]
        return conds

    cond = eventually(scheduled_condition)[0]
    assert (cond.status, cond.reason) == ("False", "Unschedulable")


def test_nopull_tag_gives_image_pull_errors(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Pods of an image tagged nopull report ErrImagePull and then ImagePullBackOff."""
    core = client.CoreV1Api(api_client)
    seen: list[str] = []
    kube.seed_deployment(NS, "web", "web:nopull", replicas=1, wait=False)
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, NS, timeout_seconds=5):
        for s in event["object"].status.container_statuses or []:
            if s.state.waiting and s.state.waiting.reason not in seen:
                seen.append(s.state.waiting.reason)
        if "ImagePullBackOff" in seen:
            w.stop()
    assert seen == ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"]


def test_progress_deadline_is_reported(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Pods that never become ready make the Deployment report ProgressDeadlineExceeded."""
    kube.seed_deployment(
        NS, "web", "web:notready", replicas=1, progress_deadline_seconds=3, wait=False
    )
    apps = client.AppsV1Api(api_client)

    def exceeded() -> bool:
        d = apps.read_namespaced_deployment("web", NS)
        conditions = (d.status and d.status.conditions) or []
        return any(c.reason == "ProgressDeadlineExceeded" for c in conditions)

    eventually(exceeded)


def _job(name: str, image: str, deadline: int | None = None) -> client.V1Job:
    migrate = client.V1Container(name="migrate", image=image, command=["bin/rails", "db:migrate"])
    pod = client.V1PodSpec(restart_policy="Never", containers=[migrate])
    spec = client.V1JobSpec(
        backoff_limit=0,
        template=client.V1PodTemplateSpec(spec=pod),
        active_deadline_seconds=deadline,
    )
    return client.V1Job(metadata=client.V1ObjectMeta(name=name), spec=spec)


def _final(batch: client.BatchV1Api, name: str) -> Any:
    def finished() -> Any:
        job = batch.read_namespaced_job(name, NS)
        conditions = (job.status and job.status.conditions) or []
        return [c for c in conditions if c.type in ("Complete", "Failed")]

    return eventually(finished)[0]


def test_migration_job_completes_with_a_log(api_client: client.ApiClient) -> None:
    """A Job from a good image completes and its pod log shows the command."""
    batch = client.BatchV1Api(api_client)
    batch.create_namespaced_job(NS, _job("m1", "web:v2"))
    assert _final(batch, "m1").type == "Complete"
    pod = (
        client.CoreV1Api(api_client)
        .list_namespaced_pod(NS, label_selector="batch.kubernetes.io/job-name=m1")
        .items[0]
    )
    text = client.CoreV1Api(api_client).read_namespaced_pod_log(
        present(present(pod.metadata).name), NS
    )
    assert "$ bin/rails db:migrate" in text


def test_badmigrate_job_fails(api_client: client.ApiClient) -> None:
    """A Job whose image tag contains badmigrate fails with BackoffLimitExceeded."""
    batch = client.BatchV1Api(api_client)
    batch.create_namespaced_job(NS, _job("m2", "web:v2-badmigrate"))
    assert _final(batch, "m2").reason == "BackoffLimitExceeded"


def test_job_deadline_fails_a_slow_job(api_client: client.ApiClient) -> None:
    """A slowmigrate Job past activeDeadlineSeconds fails with DeadlineExceeded."""
    batch = client.BatchV1Api(api_client)
    batch.create_namespaced_job(NS, _job("m3", "web:v2-slowmigrate", deadline=2))
    assert _final(batch, "m3").reason == "DeadlineExceeded"


def test_statefulset_rollout_converges_revisions(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A StatefulSet image change ends with currentRevision == updateRevision and two revisions."""
    kube.seed_statefulset(NS, "db", "db:v1", replicas=2)
    apps = client.AppsV1Api(api_client)
    apps.patch_namespaced_stateful_set(
        "db",
        NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "db:v2"}]}}}},
    )

    def converged() -> bool:
        s = present(apps.read_namespaced_stateful_set("db", NS).status)
        return (
            s.observed_generation == 2
            and s.updated_replicas == 2
            and (s.current_revision == s.update_revision)
            and s.ready_replicas == 2
        )

    eventually(converged)
    revisions = apps.list_namespaced_controller_revision(NS).items
    assert sorted(present(r.revision) for r in revisions) == [1, 2]


def test_watch_from_a_compacted_version_is_gone(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A watch from a resourceVersion older than the kept history ends in 410 Gone."""
    core = client.CoreV1Api(api_client)
    old = present(core.create_namespaced_config_map(NS, config_map("c")).metadata).resource_version
    core.patch_namespaced_config_map("c", NS, {"data": {"k": "v"}})
    kube.store.compact()
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, NS, resource_version=old, timeout_seconds=2
        ):
            pass
    assert caught.value.status == 410


def test_watch_streams_changes_and_ends_on_timeout(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """A watch yields the existing object as ADDED, later changes as MODIFIED, then ends."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(NS, config_map("c"))
    kube.faults.end_watches(after_events=2)
    kinds = []
    started = time.monotonic()
    for event in watch.Watch().stream(core.list_namespaced_config_map, NS, timeout_seconds=1):
        kinds.append(event["type"])
        if len(kinds) == 1:
            core.patch_namespaced_config_map("c", NS, {"data": {"k": "v"}})
    assert kinds == ["ADDED", "MODIFIED"]
    assert time.monotonic() - started < 1.5


def test_injected_failures_then_recovery(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """fail_next answers 500 to the next matching request only."""
    core = client.CoreV1Api(api_client)
    kube.faults.fail_next(1, method="GET", path="/configmaps")
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(NS)
    assert caught.value.status == 500
    assert core.list_namespaced_config_map(NS).items == []


def test_refused_connections_then_accepted_again(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """While refusing, a request fails at the socket; afterwards the same URL works again."""
    core = client.CoreV1Api(api_client)
    kube.refuse_connections()
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_config_map(NS, _request_timeout=2)
    kube.accept_connections()
    assert core.list_namespaced_config_map(NS).items == []


def test_api_calls_are_counted_by_verb_and_resource(
    kube: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """Each request is counted once under its verb and resource."""
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(NS, config_map("c"))
    core.read_namespaced_config_map("c", NS)
    core.read_namespaced_config_map("c", NS)
    assert kube.api_calls[("get", "configmaps")] == 2
    assert kube.call_count("create") == 1
