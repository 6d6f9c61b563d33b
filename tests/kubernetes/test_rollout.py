"""The pure rollout reading, from fixture objects shaped like the API's JSON."""

from __future__ import annotations

from typing import Any

from shipper.core.model import Verdict
from shipper.kubernetes.rollout import (
    Graces,
    PodProblem,
    ProblemClock,
    pod_problems,
    read_deployment,
    read_job,
    read_statefulset,
    restart_counts,
)

GRACES = Graces(image_pull=30, unschedulable=30, persistent=30)


def deployment(generation: int = 2, desired: int = 3, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": desired},
        "status": status,
    }


def progressing(reason: str, state: str = "True") -> dict[str, Any]:
    return {"type": "Progressing", "status": state, "reason": reason, "message": f"{reason} msg"}


def test_unobserved_generation_is_pending_even_with_a_stale_deadline() -> None:
    """Before observedGeneration reaches ours, a ProgressDeadlineExceeded from before is ignored."""
    obj = deployment(
        observedGeneration=1, conditions=[progressing("ProgressDeadlineExceeded", "False")]
    )
    assert read_deployment(obj, 2).verdict is Verdict.PENDING


def test_missing_counters_read_as_zero() -> None:
    """A status without updatedReplicas (omitted zero) is still waiting, not an error."""
    assert read_deployment(deployment(observedGeneration=2), 2).verdict is Verdict.PENDING


def test_complete_deployment_succeeds() -> None:
    """All replicas updated and available, no old ones left: SUCCEEDED."""
    obj = deployment(observedGeneration=2, replicas=3, updatedReplicas=3, availableReplicas=3)
    assert read_deployment(obj, 2).verdict is Verdict.SUCCEEDED


def test_old_replicas_still_terminating_is_pending() -> None:
    """More replicas than updated ones means old pods remain: still waiting."""
    obj = deployment(observedGeneration=2, replicas=4, updatedReplicas=3, availableReplicas=3)
    reading = read_deployment(obj, 2)
    assert reading.verdict is Verdict.PENDING
    assert "old replicas" in reading.message


def test_updated_but_unavailable_is_pending() -> None:
    """Updated pods that are not available yet keep the rollout pending."""
    obj = deployment(observedGeneration=2, replicas=3, updatedReplicas=3, availableReplicas=1)
    assert read_deployment(obj, 2).verdict is Verdict.PENDING


def test_progress_deadline_fails_once_observed() -> None:
    """ProgressDeadlineExceeded on the observed generation is a failure."""
    obj = deployment(
        observedGeneration=2, conditions=[progressing("ProgressDeadlineExceeded", "False")]
    )
    reading = read_deployment(obj, 2)
    assert reading.verdict is Verdict.FAILED
    assert "ProgressDeadlineExceeded" in reading.message


def test_paused_deployment_fails() -> None:
    """A paused Deployment will not progress: it fails instead of waiting forever."""
    obj = deployment(observedGeneration=2)
    obj["spec"]["paused"] = True
    assert read_deployment(obj, 2).verdict is Verdict.FAILED


def statefulset(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"generation": 2},
        "spec": {
            "replicas": 2,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        },
        "status": {"replicas": 2, "availableReplicas": 2, **status},
    }


def test_statefulset_waits_for_revisions_to_converge() -> None:
    """Ready and updated pods are not enough while currentRevision differs from updateRevision."""
    obj = statefulset(
        observedGeneration=2,
        readyReplicas=2,
        updatedReplicas=2,
        currentRevision="a",
        updateRevision="b",
    )
    assert read_statefulset(obj, 2).verdict is Verdict.PENDING


def test_statefulset_complete() -> None:
    """All ready, all updated and one revision: SUCCEEDED."""
    obj = statefulset(
        observedGeneration=2,
        readyReplicas=2,
        updatedReplicas=2,
        currentRevision="b",
        updateRevision="b",
    )
    assert read_statefulset(obj, 2).verdict is Verdict.SUCCEEDED


def test_statefulset_on_delete_is_refused() -> None:
    """OnDelete StatefulSets never roll by themselves: FAILED with the reason."""
    obj = statefulset(observedGeneration=2)
    obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert "OnDelete" in read_statefulset(obj, 2).message


def test_job_conditions_decide() -> None:
    """Complete=True succeeds, Failed=True fails with its reason, nothing yet is pending."""
    done = {"spec": {}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    failed = {
        "spec": {},
        "status": {
            "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]
        },
    }
    assert read_job(done).verdict is Verdict.SUCCEEDED
    assert read_job(failed).message.startswith("DeadlineExceeded")
    assert read_job({"spec": {}, "status": {"active": 1}}).verdict is Verdict.PENDING


def pod(*container_statuses: dict[str, Any], **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-1"},
        "status": {"containerStatuses": list(container_statuses), **status},
    }


def waiting(reason: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"name": "app", "state": {"waiting": {"reason": reason, "message": message}}, **extra}


def test_crashloop_is_fatal_at_once_with_exit_code() -> None:
    """CrashLoopBackOff is fatal immediately and reports the last exit code."""
    [problem] = pod_problems(
        pod(waiting("CrashLoopBackOff", lastState={"terminated": {"exitCode": 3}})), GRACES
    )
    assert (problem.reason, problem.grace, problem.message) == (
        "CrashLoopBackOff",
        0,
        "exit code 3",
    )


def test_oom_crashloop_says_out_of_memory() -> None:
    """A crash loop whose last exit was OOMKilled is reported as OOMKilled."""
    [problem] = pod_problems(
        pod(
            waiting(
                "CrashLoopBackOff",
                lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            )
        ),
        GRACES,
    )
    assert problem.reason == "OOMKilled" and "out of memory" in problem.message


def test_image_pull_backoff_gets_a_grace() -> None:
    """ImagePullBackOff is a problem with the image-pull grace, not fatal at once."""
    [problem] = pod_problems(pod(waiting("ImagePullBackOff")), GRACES)
    assert problem.grace == 30


def test_config_error_from_cache_sync_is_ignored() -> None:
    """CreateContainerConfigError about a kubelet cache sync is transient and ignored."""
    assert (
        pod_problems(
            pod(waiting("CreateContainerConfigError", "failed to sync configmap cache")), GRACES
        )
        == []
    )


def test_unschedulable_condition_is_a_problem() -> None:
    """PodScheduled=False with reason Unschedulable is reported with its message."""
    p = pod(
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes",
            }
        ]
    )
    [problem] = pod_problems(p, GRACES)
    assert (problem.reason, problem.message) == ("Unschedulable", "0/3 nodes")


def test_evicted_pod_is_not_fatal() -> None:
    """A Failed pod evicted by the kubelet is replaced by its controller: not fatal."""
    assert pod_problems(pod(phase="Failed", reason="Evicted"), GRACES) == []


def test_container_cannot_run_with_exit_128_is_transient() -> None:
    """ContainerCannotRun with exit code 128 is ignored, as krane does."""
    p = pod(
        {"name": "app", "state": {"terminated": {"reason": "ContainerCannotRun", "exitCode": 128}}}
    )
    assert pod_problems(p, GRACES) == []


def test_problem_clock_waits_out_the_grace() -> None:
    """A problem with a grace becomes fatal only after it has lasted that long."""
    clock = ProblemClock()
    problem = PodProblem("web-1", "app", "ImagePullBackOff", "", 30)
    assert clock.fatal([problem], now=100.0) is None
    assert clock.fatal([problem], now=129.0) is None
    assert clock.fatal([problem], now=130.0) == problem


def test_problem_clock_forgets_cleared_problems() -> None:
    """A problem that clears and returns starts its grace again."""
    clock = ProblemClock()
    problem = PodProblem("web-1", "app", "ImagePullBackOff", "", 30)
    clock.fatal([problem], now=100.0)
    clock.fatal([], now=110.0)
    assert clock.fatal([problem], now=131.0) is None


def test_restart_counts_sum_containers() -> None:
    """Restarts are summed over a pod's containers."""
    p = pod({"name": "a", "restartCount": 2}, {"name": "b", "restartCount": 1})
    assert restart_counts([p]) == {"web-1": 3}


def test_selector_string_renders_expressions() -> None:
    """A LabelSelector with matchExpressions becomes the query text kubectl would send."""
    from shipper.kubernetes.pods import selector_string

    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
            {"key": "team", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert selector_string(selector) == (
        "app=web,tier in (front,edge),track notin (canary),team,!legacy"
    )


def test_replica_failure_condition_is_reported() -> None:
    """A True ReplicaFailure condition (quota, admission) is read with its reason."""
    from shipper.kubernetes.rollout import replica_failure

    obj = deployment(
        conditions=[
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate",
                "message": "quota",
            }
        ]
    )
    assert replica_failure(obj) == "FailedCreate: quota"
    assert replica_failure(deployment()) is None
