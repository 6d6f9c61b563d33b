"""Wiring the Kubernetes side from a pipeline: the entry points `shipper.cli` calls.

Everything that touches the `kubernetes` client is imported here and below, never from
`shipper/__init__`, the core, the ports or the pipeline, so `ship --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kubernetes import client

from shipper.errors import PipelineError
from shipper.kubernetes.access import needed
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.config import connect
from shipper.kubernetes.follow import Tuning
from shipper.kubernetes.migration import KubernetesMigrationRunner
from shipper.kubernetes.platform import KubernetesPlatform
from shipper.kubernetes.preflight import Rules
from shipper.kubernetes.workloads import workloads
from shipper.pipeline import KubernetesSection, Pipeline
from shipper.ports import Clock, MigrationRunner

POOL_SPARE = 8  # connections beyond one per workload: the health lists, the Job, the lock


def _section(pipeline: Pipeline) -> KubernetesSection:
    if pipeline.kubernetes is None:
        raise PipelineError("kubernetes: this pipeline has no kubernetes section")
    return pipeline.kubernetes


def build_kube_api(
    pipeline: Pipeline, *, clock: Clock, env: Mapping[str, str], namespace: str | None = None
) -> KubeApi:
    """A client for the pipeline's cluster and namespace (or `namespace`)."""
    kube = _section(pipeline)
    connection = connect(
        kubeconfig=kube.kubeconfig,
        context=kube.context,
        namespace=namespace or kube.namespace,
        env=env,
    )
    # A deploy and a rollback run one thread per workload, each holding a connection for
    # its watch; the client's default pool keeps cpu_count x 5 (10 on 2 cores) and opens a
    # fresh connection, then throws it away, for every request past that.
    configuration = connection.configuration
    configuration.connection_pool_maxsize = max(
        configuration.connection_pool_maxsize, len(kube.workloads) + POOL_SPARE
    )
    return KubeApi(client.ApiClient(configuration), connection.where, clock)


def build_kubernetes_platform(
    pipeline: Pipeline, *, clock: Clock, env: Mapping[str, str], api: KubeApi | None = None
) -> KubernetesPlatform:
    """The Kubernetes side; `api`: a client of the pipeline's cluster and namespace the
    command already has (else one is built)."""
    kube = _section(pipeline)
    chosen = workloads(kube.workloads, kube.image)
    migrations = pipeline.migrations
    rights = needed(
        [w.kind for w in chosen],
        migration_jobs=migrations is not None and migrations.runner == "kubernetes",
        lease_lock=pipeline.lock.backend == "kubernetes",
        configmap_ledger=pipeline.ledger.backend == "kubernetes",
    )
    return KubernetesPlatform(
        api or build_kube_api(pipeline, clock=clock, env=env),
        chosen,
        image_template=kube.image,
        rollout_timeout=kube.rollout_timeout,
        tuning=Tuning(),
        rules=Rules(
            allow_gitops=kube.allow_gitops, statefulset_partitioned=kube.statefulset_partitioned
        ),
        rights=rights,
        rollout_wait=kube.rollout_wait,
        sources={w.ref: pipeline.where("kubernetes", "workloads", i) for i, w in enumerate(chosen)},
    )


def build_migration_runner(
    pipeline: Pipeline,
    *,
    clock: Clock,
    env: Mapping[str, str],
    recent: Callable[[str, str], Obj | None] | None = None,
    api: KubeApi | None = None,
) -> MigrationRunner:
    """The migration Job runner. `recent`: the workloads as the Kubernetes side of this
    command saw them moments ago, so the Job's pod spec needs no read of its own; `api`:
    as for `build_kubernetes_platform`."""
    kube = _section(pipeline)
    if pipeline.migrations is None:
        raise PipelineError("migrations: this pipeline has no migrations section")
    configured = workloads(kube.workloads, kube.image)
    base = next((w for w in configured if w.kind != "cronjob"), configured[0])
    return KubernetesMigrationRunner(
        api or build_kube_api(pipeline, clock=clock, env=env),
        pipeline=pipeline.name,
        image_template=kube.image,
        timeout=pipeline.migrations.timeout,
        template_from=base,
        recent=recent,
    )
