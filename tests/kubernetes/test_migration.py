"""The migration runner: a Job per release, against the fake API server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import Version
from shipper.kubernetes.api import Obj
from shipper.kubernetes.factory import build_kube_api, build_migration_runner
from shipper.kubernetes.migration import KubernetesMigrationRunner, LogTail, job_name
from shipper.kubernetes.workloads import Workload
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import FAST, IMAGE, make_pipeline, real_op
from tests.kubernetes.conftest import NAMESPACE as NS

COMMAND = ("bin/rails", "db:migrate")


def runner(
    kubeconfig: Path, *, timeout: float = 20.0, cap: int = 256 * 1024
) -> KubernetesMigrationRunner:
    pipeline = make_pipeline(kubeconfig, ["deployment/web"])
    return KubernetesMigrationRunner(
        build_kube_api(pipeline, clock=SystemClock(), env={}),
        pipeline="web",
        image_template=IMAGE,
        timeout=timeout,
        template_from=Workload.parse("deployment/web"),
        tuning=FAST,
        log_cap=cap,
    )


@pytest.fixture
def seeded(kube: FakeKubeApiServer) -> FakeKubeApiServer:
    kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=1)
    return kube


def test_successful_migration_keeps_and_streams_the_log(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A good migration succeeds, its log is kept whole and every line went through op.log."""
    op = real_op()
    result = runner(kubeconfig).run(Version("v2"), COMMAND, op)
    assert result.succeeded, result.message
    assert "$ bin/rails db:migrate" in result.log
    assert "migrated" in result.log
    assert op.lines == result.log.rstrip("\n").split("\n")
    assert result.adopted is False


def test_job_spec_is_one_attempt_with_deadline_ttl_and_labels(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The Job has backoffLimit 0, the timeout as deadline, a TTL and the release labels."""
    runner(kubeconfig, timeout=900).run(Version("v2"), COMMAND, real_op(release=42))
    job = seeded.get("jobs", NS, job_name("web", 42))
    assert job is not None
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (0, 900)
    assert spec["ttlSecondsAfterFinished"] > 0
    assert job["metadata"]["labels"]["ship.dev/release"] == "42"
    assert job["metadata"]["labels"]["ship.dev/pipeline"] == "web"
    container = spec["template"]["spec"]["containers"][0]
    assert (container["image"], container["command"]) == ("ghcr.io/acme/web:v2", list(COMMAND))


def test_failed_migration_gives_the_log_tail(seeded: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A badmigrate Job fails; the message carries the reason and the last lines of its log."""
    result = runner(kubeconfig).run(Version("v2-badmigrate"), COMMAND, real_op())
    assert not result.succeeded
    assert "BackoffLimitExceeded" in result.message
    assert "already exists" in result.message
    assert "rake aborted!" in result.log


def test_migration_timeout_keeps_the_log_so_far(tmp_path: Path) -> None:
    """A Job that outlives migrations.timeout fails on its deadline with the log read so far."""
    with FakeKubeApiServer(speed=2.0) as slow:  # the Job's deadline counts cluster seconds
        slow.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=1)
        kubeconfig = slow.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        result = runner(kubeconfig, timeout=3).run(Version("v2-slowmigrate"), COMMAND, real_op())
    assert not result.succeeded
    assert "DeadlineExceeded" in result.message
    assert "$ bin/rails db:migrate" in result.log


def test_resumed_release_adopts_its_job(seeded: FakeKubeApiServer, kubeconfig: Path) -> None:
    """Running again for the same release follows the existing Job and creates none."""
    first = runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=9))
    seeded.reset_calls()
    op = real_op(release=9)
    again = runner(kubeconfig).run(Version("v2"), COMMAND, op)
    assert first.succeeded and again.succeeded
    assert again.adopted is True
    assert seeded.call_count("create", "jobs") == 0
    assert op.intents == []


def test_new_job_is_watched_from_its_creation(seeded: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A Job ship just created is watched from the create call's resourceVersion: no LIST
    of it, and no look at its pods before the first wake-up (there are none yet)."""
    seeded.reset_calls()
    result = runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=4))
    assert result.succeeded
    assert seeded.call_count("create", "jobs") == 1
    assert seeded.call_count("list", "jobs") == 0
    assert seeded.call_count("watch", "jobs") >= 1
    assert "$ bin/rails db:migrate" in result.log  # the log still came, followed or read


def test_the_jobs_pod_is_looked_up_while_it_runs_not_after(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The pod is found while the Job runs, so its log is followed (or, failing that,
    read straight away at the end): no list of pods after the Job has completed."""
    migration = runner(kubeconfig)
    listed_after_completion: list[bool] = []
    plain_list = migration.api.list

    def noting(kind: str, **kw: Any) -> tuple[list[Obj], str]:
        if kind == "pod":
            job = seeded.get("jobs", NS, "ship-web-r5-migrate") or {}
            done = any(
                c.get("type") == "Complete" and c.get("status") == "True"
                for c in (job.get("status") or {}).get("conditions") or []
            )
            listed_after_completion.append(done)
        return plain_list(kind, **kw)

    migration.api.list = noting  # type: ignore[method-assign]  # notes when pods are listed
    result = migration.run(Version("v2"), COMMAND, real_op(release=5))
    assert result.succeeded
    assert "$ bin/rails db:migrate" in result.log
    assert listed_after_completion and not any(listed_after_completion)


def test_existing_job_for_another_image_is_refused(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A Job of the same release with a different image is not followed; the message says why."""
    runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=9))
    result = runner(kubeconfig).run(Version("v3"), COMMAND, real_op(release=9))
    assert not result.succeeded
    assert "delete job ship-web-r9-migrate" in result.message


def _seen_moments_ago(kube: FakeKubeApiServer, kubeconfig: Path) -> KubernetesMigrationRunner:
    """A runner handed the workload as the Kubernetes side listed it a moment ago."""
    migration = runner(kubeconfig)
    migration.recent = lambda kind, name: kube.get(f"{kind}s", NS, name)
    return migration


def test_with_the_pod_spec_seen_moments_ago_the_create_is_the_first_call(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """No read of the workload, no look for the Job: the create goes out first, and the
    Job still borrows the workload's pod spec."""
    seeded.reset_calls()
    result = _seen_moments_ago(seeded, kubeconfig).run(Version("v2"), COMMAND, real_op(release=6))
    assert result.succeeded, result.message
    assert seeded.calls_in_order[0] == ("create", "jobs")
    assert seeded.call_count("get", "deployments") == 0
    assert seeded.call_count("get", "jobs") == 0
    job = seeded.get("jobs", NS, job_name("web", 6)) or {}
    assert job["spec"]["template"]["spec"]["containers"][0]["name"] == "migrate"


def test_with_the_pod_spec_seen_a_job_already_there_is_adopted_after_the_conflict(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A resumed run's create answers 409: the Job is read, checked and followed, and no
    second Job is made. Its intent was written ahead of the create, as for any create."""
    runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=9))
    op = real_op(release=9)
    again = _seen_moments_ago(seeded, kubeconfig).run(Version("v2"), COMMAND, op)
    assert again.succeeded and again.adopted is True
    assert len(seeded.store.list("jobs", NS)[0]) == 1
    assert len(op.intents) == 1
    other = _seen_moments_ago(seeded, kubeconfig).run(Version("v3"), COMMAND, real_op(release=9))
    assert not other.succeeded
    assert "delete job ship-web-r9-migrate" in other.message


def test_job_borrows_the_workload_environment(kube: FakeKubeApiServer, kubeconfig: Path) -> None:
    """The migration container gets the env of the application's container."""
    seeded = kube.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=1, wait=False)
    del seeded
    kube.store.update(
        "deployments",
        NS,
        "web",
        lambda d: {
            **d,
            "spec": {
                **d["spec"],
                "template": {
                    **d["spec"]["template"],
                    "spec": {
                        **d["spec"]["template"]["spec"],
                        "containers": [
                            {
                                **d["spec"]["template"]["spec"]["containers"][0],
                                "env": [{"name": "DATABASE_URL", "value": "postgres://db/app"}],
                            }
                        ],
                    },
                },
            },
        },
    )
    runner(kubeconfig).run(Version("v2"), COMMAND, real_op(release=3))
    job = kube.get("jobs", NS, job_name("web", 3))
    assert job is not None
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DATABASE_URL", "value": "postgres://db/app"}]


def test_image_pull_failure_of_the_job_fails_early(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """A migration image that cannot be pulled fails after the pull grace, not at the timeout."""
    result = runner(kubeconfig, timeout=60).run(Version("v2-nopull"), COMMAND, real_op())
    assert not result.succeeded
    assert "ImagePull" in result.message or "ErrImagePull" in result.message


def test_big_log_is_capped(seeded: FakeKubeApiServer, kubeconfig: Path) -> None:
    """A log over the cap is kept to its last part, with a note of what was cut."""
    result = runner(kubeconfig, cap=64 * 1024).run(Version("v2-biglog"), COMMAND, real_op())
    assert result.succeeded, result.message
    assert len(result.log.encode()) <= 64 * 1024 + 100
    assert result.log.startswith("[... ")
    assert "migrated" in result.log


def test_log_tail_streams_complete_lines_only() -> None:
    """LogTail hands out each complete line once, as the log grows."""
    tail = LogTail()
    assert tail.feed("a\nb") == ["a"]
    assert tail.feed("a\nb\nc\n") == ["b", "c"]
    assert tail.finish() == []
    assert tail.text == "a\nb\nc\n"


def test_log_tail_keeps_the_last_cap_bytes_of_many_small_chunks() -> None:
    """Appended line by line, as a followed log comes, the tail keeps the last `cap`
    bytes and counts what it cut, for ASCII and for wider characters alike."""
    for line in ("0123456789\n", "\u00e9\u00e9\u00e9\u00e9\n"):
        tail = LogTail(cap=100)
        for _ in range(1000):
            tail.append(line)
        whole = line * 1000
        kept = tail.text.split("\n", 1)[1]
        assert len(kept.encode()) <= 100
        assert whole.endswith(kept)
        assert tail.text.startswith(f"[... {len(whole) - len(kept)} earlier characters cut")


def test_factory_builds_a_runner_from_the_pipeline(
    seeded: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """build_migration_runner wires the pipeline's image, timeout and cluster."""
    pipeline = make_pipeline(
        kubeconfig,
        ["deployment/web"],
        migrations={"command": list(COMMAND), "timeout": "5m"},
    )
    built = build_migration_runner(pipeline, clock=SystemClock(), env={})
    assert isinstance(built, KubernetesMigrationRunner)
    assert (built.timeout, built.image_template) == (300.0, IMAGE)
