"""The Kubernetes platform adapter: the real client against the fake API server."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shipper.core.model import MeasurementStatus, Side, Target, Verdict, Version
from shipper.errors import LockLost, PlatformAuthError, PlatformNotFound
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_platform, real_op
from tests.narrow import at, present

V1 = "ghcr.io/acme/web:v1"
V2 = "ghcr.io/acme/web:v2"


def images_of(kube: FakeKubeApiServer, resource: str, name: str) -> dict[str, str]:
    obj = kube.get(resource, NS, name)
    assert obj is not None
    spec = obj["spec"]
    if resource == "cronjobs":
        spec = spec["jobTemplate"]["spec"]
    return {c["name"]: c["image"] for c in spec["template"]["spec"]["containers"]}


# --- snapshot --------------------------------------------------------------------------


def test_snapshot_records_images_revision_and_template(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The snapshot holds the version read off the image, the revision and the whole template."""
    kube.seed_deployment(NS, "web", V1, containers={"app": V1, "proxy": "envoy:1.30"})
    [state] = make_platform(kubeconfig, ["deployment/web:app"]).snapshot()
    assert state.version == Version("v1")
    assert state.detail["images"] == {"app": V1, "proxy": "envoy:1.30"}
    assert state.detail["revision"] == "1"
    template = state.detail["template"]
    assert isinstance(template, dict)
    container = at(template, "spec", "containers", 0)
    assert at(container, "terminationMessagePath") == "/dev/termination-log"


def test_snapshot_version_is_none_for_a_foreign_image(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """An image from another repository gives no version rather than a wrong one."""
    kube.seed_deployment(NS, "web", "docker.io/library/nginx:1.27")
    [state] = make_platform(kubeconfig, ["deployment/web"]).snapshot()
    assert state.version is None


def test_snapshot_names_the_rollout_revision_for_display(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A workload's state carries its rollout revision as people read it (`rev 1`)."""
    kube.seed_deployment(NS, "web", V1)
    [state] = make_platform(kubeconfig, ["deployment/web"]).snapshot()
    assert state.revision == "rev 1"


# --- deploy ----------------------------------------------------------------------------


def test_deploy_patches_once_and_rolls_out(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A deploy is one patch per workload and ends SUCCEEDED once the rollout completes."""
    kube.seed_deployment(NS, "web", V1, replicas=3)
    kube.reset_calls()
    op = real_op()
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert kube.api_calls[("patch", "deployments")] == 1
    assert images_of(kube, "deployments", "web") == {"web": V2}
    status = present(kube.get("deployments", NS, "web"))["status"]
    assert status["availableReplicas"] == 3


def test_deploy_sets_change_cause_and_release_annotations(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The patch sets the change-cause and the ship release on the workload and its template."""
    kube.seed_deployment(NS, "web", V1)
    make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op(release=42))
    obj = kube.get("deployments", NS, "web")
    assert obj is not None
    assert obj["metadata"]["annotations"]["kubernetes.io/change-cause"].startswith(
        "ship web release 42"
    )
    assert obj["metadata"]["annotations"]["ship.dev/release"] == "42"
    assert obj["spec"]["template"]["metadata"]["annotations"]["ship.dev/release"] == "42"


def test_deploy_records_intent_before_the_patch(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """op.intend names the workload, the action and the image before anything changes."""
    kube.seed_deployment(NS, "web", V1)
    op = real_op()
    make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), op)
    [(target, action, detail)] = op.intents
    assert (target, action) == ("kubernetes:deployment/web", "set image")
    assert detail is not None and detail["image"] == V2


def test_deploy_makes_no_patch_when_intent_is_refused(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """When intend raises LockLost the workload is left untouched and the error propagates."""
    kube.seed_deployment(NS, "web", V1)
    op = real_op()

    def refuse(*args: object, **kwargs: object) -> None:
        raise LockLost("lock for web was taken over")

    op.intend = refuse  # type: ignore[method-assign]  # this operation's intent is refused
    with pytest.raises(LockLost):
        make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), op)
    assert images_of(kube, "deployments", "web") == {"web": V1}


def test_deploy_changes_only_the_named_containers(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """`deployment/web:app` sets the app container's image and leaves the sidecar alone."""
    kube.seed_deployment(NS, "web", V1, containers={"app": V1, "proxy": "envoy:1.30"})
    [result] = make_platform(kubeconfig, ["deployment/web:app"]).deploy(Version("v2"), real_op())
    assert result.ok, result.message
    assert images_of(kube, "deployments", "web") == {"app": V2, "proxy": "envoy:1.30"}


def test_missing_container_fails_the_target_without_a_patch(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A configured container the template lacks fails that target, naming what exists."""
    kube.seed_deployment(NS, "web", V1)
    kube.reset_calls()
    [result] = make_platform(kubeconfig, ["deployment/web:app"]).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.FAILED
    assert "no container named app" in result.message and "web" in result.message
    assert kube.call_count("patch") == 0


def test_resumed_deploy_does_not_patch_again(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A second deploy of the same version finds the image set and only waits."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    platform.deploy(Version("v2"), real_op())
    kube.reset_calls()
    op = real_op()
    [result] = platform.deploy(Version("v2"), op)
    assert result.ok
    assert kube.call_count("patch") == 0
    assert op.intents == []


def test_all_workloads_deploy_concurrently(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Two Deployments and a CronJob all end on the new image with one result each."""
    kube.seed_deployment(NS, "web", V1)
    kube.seed_deployment(NS, "worker", V1)
    kube.seed_cronjob(NS, "nightly", V1)
    results = make_platform(
        kubeconfig, ["deployment/web", "deployment/worker", "cronjob/nightly"]
    ).deploy(Version("v2"), real_op())
    assert [r.verdict for r in results] == [Verdict.SUCCEEDED] * 3
    assert images_of(kube, "cronjobs", "nightly") == {"nightly": V2}


def test_api_calls_are_reported_as_a_metric(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """deploy reports its API calls through op.metric, matching what the server counted."""
    kube.seed_deployment(NS, "web", V1)
    kube.reset_calls()
    op = real_op()
    make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), op)
    [(name, value, _)] = op.metrics
    assert name == "kubernetes_api_calls"
    assert value == kube.call_count()


# --- early failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("v2-crashloop", "CrashLoopBackOff"),
        ("v2-oom", "OOMKilled"),
        ("v2-nopull", "ImagePull"),
        ("v2-unschedulable", "Unschedulable"),
        ("v2-configerror", "CreateContainerConfigError"),
    ],
)
def test_bad_pods_fail_the_rollout_early(
    kube: FakeKubeApiServer, kubeconfig: Path, tag: str, reason: str
) -> None:
    """Each fatal pod signal fails the target well before the timeout, naming pod and reason."""
    kube.seed_deployment(NS, "web", V1, replicas=2)
    platform = make_platform(kubeconfig, ["deployment/web"], rollout_timeout=40)
    started = time.monotonic()
    [result] = platform.deploy(Version(tag), real_op(version=tag, budget=60))
    assert result.verdict is Verdict.FAILED, result.message
    assert reason in result.message
    assert "pod web-" in result.message
    assert time.monotonic() - started < 20  # early: well before the 40 s rollout timeout


def test_progress_deadline_fails_the_rollout(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Pods that never get ready end in FAILED with ProgressDeadlineExceeded from the controller."""
    kube.seed_deployment(NS, "web", V1, progress_deadline_seconds=4)
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(
        Version("v2-notready"), real_op(version="v2-notready")
    )
    assert result.verdict is Verdict.FAILED
    assert "ProgressDeadlineExceeded" in result.message


def test_rollout_timeout_gives_timed_out(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """With no controller verdict, kubernetes.rollout_timeout ends the wait as TIMED_OUT."""
    kube.seed_deployment(NS, "web", V1)
    [result] = make_platform(kubeconfig, ["deployment/web"], rollout_timeout=1.5).deploy(
        Version("v2-notready"), real_op(version="v2-notready")
    )
    assert result.verdict is Verdict.TIMED_OUT
    assert "rollout_timeout" in result.message


def test_cancel_stops_the_wait(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Once the operation is cancelled the adapter stops waiting and returns PENDING."""
    kube.seed_deployment(NS, "web", V1)
    op = real_op(version="v2-notready")
    op.cancel_after_intents = 1  # the patch goes out, then the wait is cancelled
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2-notready"), op)
    assert result.verdict is Verdict.PENDING
    assert "stopped waiting" in result.message


def test_watch_recovers_from_410_gone(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A watch answered 410 Gone (event or HTTP) is re-listed and the rollout still succeeds."""
    kube.seed_deployment(NS, "web", V1)
    kube.faults.gone_next_watch(1, as_event=True)
    kube.faults.gone_next_watch(1, as_event=False)
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    assert result.ok, result.message
    assert kube.api_calls[("list", "deployments")] >= 2  # listed again after each 410


def test_watch_survives_streams_ending_early(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Watch streams cut after one event are resumed and the rollout is still followed."""
    kube.seed_deployment(NS, "web", V1, replicas=3)
    kube.faults.end_watches(after_events=1)
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    assert result.ok, result.message


# --- errors ----------------------------------------------------------------------------


def test_missing_workload_fails_naming_it(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A workload that does not exist is a FAILED result naming it and the namespace."""
    [result] = make_platform(kubeconfig, ["deployment/ghost"]).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.FAILED
    assert "deployment/ghost not found in namespace web" in result.message


def test_refused_credentials_raise_naming_the_context(
    kube: FakeKubeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """A 401 raises PlatformAuthError for the whole side, naming the kubeconfig context."""
    kube.seed_deployment(NS, "web", V1)
    bad = kube.write_kubeconfig(tmp_path / "bad", context="sandbox", namespace=NS, token="nope")
    with pytest.raises(PlatformAuthError, match="context sandbox"):
        make_platform(bad, ["deployment/web"]).deploy(Version("v2"), real_op())


def test_unreachable_cluster_is_a_failed_target(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """With the API server refusing connections the target fails with a reachability message."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    kube.refuse_connections()
    [result] = platform.deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.FAILED
    assert "could not reach the Kubernetes API" in result.message
    assert "test-token" not in result.message


def test_server_error_on_patch_is_retried(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A 500 answer to the (idempotent) image patch is retried and the deploy succeeds."""
    kube.seed_deployment(NS, "web", V1)
    kube.faults.fail_next(1, method="PATCH", path="/deployments/web")
    kube.reset_calls()
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    assert result.ok, result.message
    assert kube.api_calls[("patch", "deployments")] == 2


def test_invalid_patch_reports_the_server_message(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A 422 reaches the result with the API server's own message."""
    kube.seed_deployment(NS, "web", V1)
    kube.faults.fail_next(1, method="PATCH", status=422)
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(Version("v2"), real_op())
    assert result.verdict is Verdict.FAILED
    assert "rejected" in result.message and "injected failure (422)" in result.message


# --- rollback --------------------------------------------------------------------------


def test_rollback_restores_exactly_the_snapshot(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """After a crash-looping deploy, roll_back puts the recorded pod template back verbatim."""
    kube.seed_deployment(NS, "web", V1, replicas=2)
    platform = make_platform(kubeconfig, ["deployment/web"])
    snapshot = platform.snapshot()
    [failed] = platform.deploy(Version("v2-crashloop"), real_op(version="v2-crashloop"))
    assert failed.verdict is Verdict.FAILED
    [back] = platform.roll_back(snapshot, real_op(release=8))
    assert back.ok, back.message
    assert "is back on web=" + V1 in back.message
    live = kube.get("deployments", NS, "web")
    assert live is not None
    assert live["spec"]["template"] == snapshot[0].detail["template"]
    assert live["status"]["availableReplicas"] == 2


def test_rollback_of_an_untouched_workload_makes_no_patch(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Rolling back a workload that already runs the recorded template only checks it."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    snapshot = platform.snapshot()
    kube.reset_calls()
    [back] = platform.roll_back(snapshot, real_op())
    assert back.ok
    assert kube.call_count("patch") == 0


def test_statefulset_deploy_and_rollback_from_a_crashloop(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A crash-looping StatefulSet fails early, and rollback unsticks its pod and restores it."""
    kube.seed_statefulset(NS, "db", V1, replicas=2)
    platform = make_platform(kubeconfig, ["statefulset/db"])
    snapshot = platform.snapshot()
    [failed] = platform.deploy(Version("v2-crashloop"), real_op(version="v2-crashloop"))
    assert failed.verdict is Verdict.FAILED and "CrashLoopBackOff" in failed.message
    op = real_op(release=8)
    [back] = platform.roll_back(snapshot, op)
    assert back.ok, back.message
    assert ("kubernetes:statefulset/db", "delete stuck pod") in [(t, a) for t, a, _ in op.intents]
    status = present(kube.get("statefulsets", NS, "db"))["status"]
    assert status["currentRevision"] == status["updateRevision"] == snapshot[0].detail["revision"]


def test_statefulset_deploy_succeeds(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A StatefulSet rolls out pod by pod to the new revision and succeeds."""
    kube.seed_statefulset(NS, "db", V1, replicas=2)
    [result] = make_platform(kubeconfig, ["statefulset/db"]).deploy(Version("v2"), real_op())
    assert result.ok, result.message
    assert result.state is not None and result.state.version == Version("v2")


def test_cronjob_rollback_restores_the_job_template(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A CronJob's job template goes back to the recorded one."""
    kube.seed_cronjob(NS, "nightly", V1)
    platform = make_platform(kubeconfig, ["cronjob/nightly"])
    snapshot = platform.snapshot()
    platform.deploy(Version("v2"), real_op())
    [back] = platform.roll_back(snapshot, real_op(release=8))
    assert back.ok
    assert images_of(kube, "cronjobs", "nightly") == {"nightly": V1}


# --- health and manual steps -----------------------------------------------------------


def test_health_is_successful_after_a_good_deploy(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """health(expected) passes when every workload runs what the deploy reached, fully
    available."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    reached = [r.state for r in platform.deploy(Version("v2"), real_op()) if r.state]
    assert platform.health(reached).status is MeasurementStatus.SUCCESSFUL


def test_health_fails_for_another_version(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """health(expected) fails when a workload runs other images than the expected ones."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    before = platform.snapshot()
    platform.deploy(Version("v2"), real_op())
    measurement = platform.health(before)
    assert measurement.status is MeasurementStatus.FAILED
    assert "deployment/web runs" in measurement.message
    assert "not v1" in measurement.message


def test_snapshot_costs_one_list_per_kind(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A snapshot of 12 Deployments is one list call, in workload order."""
    names = [f"svc-{i:02d}" for i in range(12)]
    for name in reversed(names):
        kube.seed_deployment(NS, name, V1, replicas=1)
    platform = make_platform(kubeconfig, [f"deployment/{n}" for n in names])
    before = platform.api.calls
    states = platform.snapshot()
    assert platform.api.calls - before == 1
    assert [s.target.name for s in states] == [f"deployment/{n}" for n in names]
    assert {s.version for s in states} == {Version("v1")}


def test_snapshot_of_a_missing_workload_names_it(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A snapshot refuses a workload absent from the namespace, naming it."""
    kube.seed_deployment(NS, "web", V1)
    with pytest.raises(PlatformNotFound, match="deployment/ghost not found in namespace web"):
        make_platform(kubeconfig, ["deployment/web", "deployment/ghost"]).snapshot()


def test_health_costs_one_list_per_kind_whatever_the_number_of_workloads(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """One health reading of 12 Deployments makes 3 API calls (Deployments, ReplicaSets,
    pods), not 3 per Deployment, and still passes them all."""
    names = [f"svc-{i:02d}" for i in range(12)]
    for name in names:
        kube.seed_deployment(NS, name, V1, replicas=1)
    platform = make_platform(kubeconfig, [f"deployment/{n}" for n in names])
    expected = platform.snapshot()
    before = platform.api.calls
    assert platform.health(expected).status is MeasurementStatus.SUCCESSFUL
    assert platform.api.calls - before == 3


def test_health_fails_for_a_missing_workload(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A workload absent from the namespace fails the reading and is named."""
    kube.seed_deployment(NS, "web", V1)
    [web] = make_platform(kubeconfig, ["deployment/web"]).snapshot()
    gone = replace(web, target=Target(Side.KUBERNETES, "deployment/gone"))
    measurement = make_platform(kubeconfig, ["deployment/web", "deployment/gone"]).health(
        [web, gone]
    )
    assert measurement.status is MeasurementStatus.FAILED
    assert "deployment/gone not found" in measurement.message


def test_health_is_inconclusive_when_unreachable(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """An unreachable API makes a health reading inconclusive, not a pass."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    expected = platform.snapshot()
    kube.refuse_connections()
    assert platform.health(expected).status is MeasurementStatus.INCONCLUSIVE


def test_manual_steps_name_context_namespace_and_images(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The manual step is a kubectl command that puts the recorded images back."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    [state] = platform.snapshot()
    steps = platform.manual_steps(state)
    assert steps.startswith(f"kubectl --context sandbox -n web set image deployment/web web={V1}")
    assert "rollout status deployment/web" in steps


def test_targets_are_kind_and_name(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Targets drop the container list: deployment/web:app is the target deployment/web."""
    platform = make_platform(kubeconfig, ["deployment/web:app", "cronjob/nightly"])
    assert list(platform.targets()) == [
        Target(Side.KUBERNETES, "deployment/web"),
        Target(Side.KUBERNETES, "cronjob/nightly"),
    ]


def test_crash_message_carries_the_last_log_line(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A crash-loop failure quotes the last lines of the crashed container's previous run."""
    kube.seed_deployment(NS, "web", V1)
    [result] = make_platform(kubeconfig, ["deployment/web"]).deploy(
        Version("v2-crashloop"), real_op(version="v2-crashloop")
    )
    assert "last log:" in result.message
    assert "panic: cannot reach the database" in result.message


def test_health_fails_when_restarts_climb(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A pod whose restart count grows between two health readings fails the second one."""
    kube.seed_deployment(NS, "web", V1, replicas=1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    expected = platform.snapshot()
    assert platform.health(expected).status is MeasurementStatus.SUCCESSFUL
    kube.controller.paused = True
    [pod] = kube.objects("pods", NS)

    def restarted(p: dict[str, Any]) -> dict[str, Any]:
        p["status"]["containerStatuses"][0]["restartCount"] = 2
        return p

    kube.store.update("pods", NS, pod["metadata"]["name"], restarted, subresource="status")
    measurement = platform.health(expected)
    assert measurement.status is MeasurementStatus.FAILED
    assert "restarts climbing" in measurement.message


def test_rollout_survives_a_short_api_outage(tmp_path: Path) -> None:
    """The API server refusing connections for a moment mid-rollout does not fail the deploy."""
    import threading

    with FakeKubeApiServer(speed=2.0) as slow:  # a rollout of ~1.5 s, long enough to cut
        slow.seed_deployment(NS, "web", V1, replicas=2)
        kubeconfig = slow.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        platform = make_platform(kubeconfig, ["deployment/web"])
        threading.Timer(0.3, slow.refuse_connections).start()
        threading.Timer(1.0, slow.accept_connections).start()
        [result] = platform.deploy(Version("v2"), real_op())
        relists = slow.api_calls[("list", "deployments")]
    assert result.ok, result.message
    # the first watch starts from the patch's answer, with no list: any list is a re-list
    # after the watch broke
    assert relists >= 1


def test_a_rollout_is_watched_from_the_patch_without_a_list(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The workloads are read by one list per kind, then per workload one patch and
    watches from the patch's resourceVersion: no GET, no list again before the watch, and
    a CronJob is done with what its patch returned."""
    kube.seed_deployment(NS, "web", V1)
    kube.seed_cronjob(NS, "report", V1)
    kube.reset_calls()
    platform = make_platform(kubeconfig, ["deployment/web", "cronjob/report"])
    results = platform.deploy(Version("v2"), real_op())
    assert all(r.ok for r in results), [r.message for r in results]
    assert kube.api_calls[("list", "deployments")] == kube.api_calls[("list", "cronjobs")] == 1
    assert kube.api_calls[("get", "deployments")] == kube.api_calls[("get", "cronjobs")] == 0
    assert kube.api_calls[("patch", "deployments")] == kube.api_calls[("patch", "cronjobs")] == 1
    assert kube.api_calls[("watch", "deployments")] >= 1
