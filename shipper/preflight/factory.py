"""Wiring the pipeline's `preflight:` section into checks. Nothing is read here: the
platforms and the database are reached on a check's first `run`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipper.core.budget import BudgetPolicy, Concurrency, Pooler
from shipper.core.estate import DatabaseLimits, HerokuApp, Workload
from shipper.errors import PlatformUnavailable
from shipper.pipeline import Pipeline, workload_key
from shipper.ports import Clock, PreflightCheck
from shipper.preflight.checks import (
    ConnectionsCheck,
    CpuCheck,
    Estate,
    HerokuOnlyCheck,
    Once,
    ParityCheck,
    ResourcesCheck,
    ShapeCheck,
)
from shipper.preflight.section import PreflightSection

if TYPE_CHECKING:
    from shipper.heroku.api import HerokuApi
    from shipper.kubernetes.api import KubeApi


def _specs(section: PreflightSection) -> tuple[Concurrency, ...]:
    out = []
    for p in section.processes:
        h, k = p.heroku, p.kubernetes
        out.append(
            Concurrency(
                p.name,
                heroku_type=h.type if h else None,
                heroku_apps=h.apps if h else (),
                heroku_processes=h.processes if h else 1,
                heroku_threads=h.threads if h else 1,
                kubernetes=workload_key(k.workload) if k and k.workload else None,
                kubernetes_processes=k.processes if k else 1,
                kubernetes_threads=k.threads if k else 1,
            )
        )
    return tuple(out)


def _named(specs: tuple[Concurrency, ...], side: str) -> set[str]:
    counts = (
        [(s.heroku_processes, s.heroku_threads) for s in specs]
        if side == "heroku"
        else [(s.kubernetes_processes, s.kubernetes_threads) for s in specs]
    )
    return {c for pair in counts for c in pair if isinstance(c, str)}


def estate_of(
    pipeline: Pipeline,
    section: PreflightSection,
    *,
    clock: Clock,
    env: Mapping[str, str],
    heroku_api: Callable[[], HerokuApi] | None = None,
    kube_api: Callable[[], KubeApi] | None = None,
) -> Estate:
    specs = _specs(section)

    def own_heroku_api() -> HerokuApi:
        from shipper.heroku.factory import build_heroku_platform

        return build_heroku_platform(pipeline, clock=clock, env=env).api

    api = Once(heroku_api or own_heroku_api)

    def heroku() -> list[HerokuApp]:
        if pipeline.heroku is None:
            return []
        from concurrent.futures import ThreadPoolExecutor

        from shipper.heroku.estate import read_app

        client, wanted = api.get(), _named(specs, "heroku")
        apps = pipeline.heroku.apps
        with ThreadPoolExecutor(max_workers=len(apps), thread_name_prefix="pre-heroku") as pool:
            return list(pool.map(lambda app: read_app(client, app, wanted), apps))

    def preboot(apps: Sequence[str]) -> dict[str, bool]:
        from concurrent.futures import ThreadPoolExecutor

        from shipper.heroku.estate import read_preboot

        client = api.get()
        with ThreadPoolExecutor(max_workers=len(apps), thread_name_prefix="pre-boot") as pool:
            read = pool.map(lambda app: read_preboot(client, app), apps)
            return dict(zip(apps, read, strict=True))

    def kubernetes() -> list[Workload]:
        if pipeline.kubernetes is None:
            return []
        from shipper.kubernetes.estate import EstateReader
        from shipper.kubernetes.factory import build_kube_api
        from shipper.kubernetes.workloads import workloads

        kube = pipeline.kubernetes
        api = kube_api() if kube_api is not None else build_kube_api(pipeline, clock=clock, env=env)
        reader = EstateReader(api, workloads(kube.workloads, kube.image))
        return reader.read(_named(specs, "kubernetes"))

    return Estate(Once(heroku), Once(kubernetes), specs, preboot)


def build_preflight_checks(
    pipeline: Pipeline,
    *,
    clock: Clock,
    env: Mapping[str, str],
    heroku_api: Callable[[], HerokuApi] | None = None,
    kube_api: Callable[[], KubeApi] | None = None,
) -> list[PreflightCheck]:
    """The checks of `pipeline.preflight` (none without the section). A check turned off
    is still built: the core says it is off, and why, and does not run it. `heroku_api`,
    `kube_api`: the command's own clients, built on first use (else the estate builds
    its own)."""
    section = pipeline.preflight
    if section is None:
        return []
    estate = estate_of(
        pipeline, section, clock=clock, env=env, heroku_api=heroku_api, kube_api=kube_api
    )
    checks: list[PreflightCheck] = []
    both = pipeline.heroku is not None and pipeline.kubernetes is not None
    if section.connections is not None:
        checks.append(_connections(pipeline, section, estate, env))
    if pipeline.kubernetes is not None and section.resources is not None:
        migration_from = None
        if pipeline.migrations is not None and pipeline.migrations.runner == "kubernetes":
            bases = [w for w in pipeline.kubernetes.workloads if not w.startswith("cronjob/")]
            migration_from = workload_key((bases or list(pipeline.kubernetes.workloads))[0])
        checks.append(ResourcesCheck(estate, migration_from))
    if both and section.cpu_limit is not None:
        checks.append(CpuCheck(estate, section.cpu_limit.ratio))
    if both and section.env_parity is not None:
        checks.append(ParityCheck(estate, section.env_parity.ignore))
    if both and section.concurrency is not None:
        checks.append(ShapeCheck(estate))
    if pipeline.kubernetes is not None and section.heroku_only_env is not None:
        repo = Path(section.heroku_only_env.code)

        def reads() -> dict[str, list[str]]:
            from shipper.preflight.code import heroku_only_reads

            return heroku_only_reads(repo)

        checks.append(HerokuOnlyCheck(estate, reads))
    return checks


def _connections(
    pipeline: Pipeline, section: PreflightSection, estate: Estate, env: Mapping[str, str]
) -> ConnectionsCheck:
    conn = section.connections
    assert conn is not None
    pooler = (
        Pooler(conn.pooler.type, conn.pooler.max_client_connections, conn.pooler.server_connections)
        if conn.pooler
        else None
    )
    migration = conn.migration
    if migration is None:
        migration = 1 if pipeline.migrations is not None else 0
    policy = BudgetPolicy(
        per_thread=conn.per_thread,
        margin=conn.margin,
        migration=migration,
        release_phase=conn.release_phase if pipeline.heroku is not None else 0,
        pooler=pooler,
    )
    env_name = conn.database_url_env
    if env_name is None:
        return ConnectionsCheck(estate, policy, None)
    name: str = env_name
    timeout = conn.connect_timeout

    def database() -> DatabaseLimits:
        url = env.get(name, "").strip()
        if not url:
            raise PlatformUnavailable(
                f"${name} is not set: preflight.connections.database_url_env names it "
                "(a read-only database URL)"
            )
        from shipper.preflight.postgres import read_limits

        return read_limits(url, name, timeout)

    return ConnectionsCheck(estate, policy, database)
