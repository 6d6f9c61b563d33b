"""Production wiring: build the real adapters of one pipeline and hand them to the core.

Everything heavy (httpx, the kubernetes client, rich's live display) is imported here
inside functions, so `ship --help` and `ship --version` stay fast.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipper import __version__
from shipper.core.clock import SystemClock
from shipper.core.emitter import Emitter
from shipper.core.model import Holder, Side
from shipper.core.ports import Ports
from shipper.core.run import Releaser
from shipper.lazy_adapters import DeferredPlatform, DeferredRunner, Once
from shipper.pipeline import Pipeline
from shipper.ports import (
    Check,
    Clock,
    EventSink,
    Ledger,
    Lock,
    MigrationRunner,
    Platform,
    PreflightCheck,
    StatusGate,
    TrafficControl,
)
from shipper.state.paths import database_path

if TYPE_CHECKING:
    from shipper.heroku.platform import HerokuPlatform
    from shipper.kubernetes.api import KubeApi
    from shipper.kubernetes.platform import KubernetesPlatform
from shipper.state.sqlite_db import Database

QUICK_SECONDS = 10.0  # `ship status` says "unreachable" after this, not after minutes


@dataclass
class Wiring:
    """What one command needs, built lazily: `ship history` never touches a platform."""

    pipeline: Pipeline
    env: Mapping[str, str]
    clock: Clock
    databases: dict[Path, Database] = field(default_factory=dict)
    built_kubernetes: KubernetesPlatform | None = None  # the Kubernetes side, once built
    _kube_api: Once[KubeApi] = field(init=False, repr=False)
    _heroku: Once[HerokuPlatform] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._kube_api = Once(self._build_kube_api)
        self._heroku = Once(self._build_heroku)

    def platforms(self, *, quick: bool = False) -> dict[Side, Platform]:
        """The platforms; `quick` (read-only commands) caps Heroku retries at QUICK_SECONDS
        and builds the Heroku side on first use, so a missing Heroku token is that side's
        error alone (`ship status` still reads Kubernetes, and blames only Heroku)."""
        return {
            side: self._platform(side, quick)
            for side in Side
            if getattr(self.pipeline, side.value) is not None  # the side's section
        }

    def _platform(self, side: Side, quick: bool) -> Platform:
        """One configured side's platform (a `match` mypy checks covers every Side)."""
        match side:
            case Side.HEROKU:
                if not quick:
                    return self.heroku_platform()
                from shipper.heroku.factory import build_heroku_platform

                def heroku() -> Platform:
                    return build_heroku_platform(
                        self.pipeline, clock=self.clock, env=self.env, deadline_cap=QUICK_SECONDS
                    )

                return DeferredPlatform(Side.HEROKU, heroku)
            case Side.KUBERNETES:
                return DeferredPlatform(Side.KUBERNETES, self._kubernetes)

    def _kubernetes(self) -> Platform:
        from shipper.kubernetes.factory import build_kubernetes_platform

        platform = build_kubernetes_platform(
            self.pipeline, clock=self.clock, env=self.env, api=self.kube_api()
        )
        self.built_kubernetes = platform
        return platform

    def heroku_platform(self) -> HerokuPlatform:
        """The Heroku side, built once: the preflight's estate reads through its client,
        so one token is resolved, one set of connections is opened, and one client sees
        every answer's `RateLimit-Remaining`."""
        return self._heroku.get()

    def _build_heroku(self) -> HerokuPlatform:
        from shipper.heroku.factory import build_heroku_platform

        return build_heroku_platform(self.pipeline, clock=self.clock, env=self.env)

    def kube_api(self) -> KubeApi:
        """The one client of the cluster, for the Kubernetes side, the migration Job and
        the preflight's estate: the kubeconfig is read once, and the Job's create goes
        out on a connection the snapshot's lists opened moments before (in production, a
        TCP and TLS handshake less before the first change)."""
        return self._kube_api.get()

    def _build_kube_api(self) -> KubeApi:
        from shipper.kubernetes.factory import build_kube_api

        return build_kube_api(self.pipeline, clock=self.clock, env=self.env)

    def _recent(self, kind: str, name: str) -> dict[str, Any] | None:
        """What this command's Kubernetes side saw of a workload moments ago (None before
        it was built, or when it saw nothing fresh): the migration Job borrows its pod
        spec from it instead of reading the workload again."""
        platform = self.built_kubernetes
        return platform.recent(kind, name) if platform is not None else None

    def gate(self) -> StatusGate | None:
        if self.pipeline.gates.heroku_status is None:
            return None
        from shipper.heroku.factory import build_status_gate

        return build_status_gate(self.pipeline, env=self.env)

    def checks(self) -> list[Check]:
        if not self.pipeline.verify.checks:
            return []
        from shipper.checks.factory import build_checks

        return build_checks(self.pipeline, env=self.env, clock=self.clock)

    def migrations(self) -> MigrationRunner | None:
        migrations = self.pipeline.migrations
        if migrations is None:
            return None
        if migrations.runner == "heroku":
            from shipper.heroku import factory as heroku_factory

            build = getattr(heroku_factory, "build_heroku_migration_runner", None)
            if build is None:
                from shipper.errors import PipelineError

                raise PipelineError(
                    "migrations.runner heroku is not available in this ship; use kubernetes"
                )
            runner: MigrationRunner = build(self.pipeline, clock=self.clock, env=self.env)
            return runner

        def job_runner() -> MigrationRunner:
            from shipper.kubernetes.factory import build_migration_runner

            return build_migration_runner(
                self.pipeline,
                clock=self.clock,
                env=self.env,
                recent=self._recent,
                api=self.kube_api(),
            )

        return DeferredRunner(job_runner)

    def preflight_checks(self) -> list[PreflightCheck]:
        """The pipeline's `preflight:` checks (none without the section); nothing is read
        until one runs."""
        if self.pipeline.preflight is None:
            return []
        from shipper.preflight.factory import build_preflight_checks

        return build_preflight_checks(
            self.pipeline,
            clock=self.clock,
            env=self.env,
            heroku_api=lambda: self.heroku_platform().api,
            kube_api=self.kube_api,
        )

    def ledger(self) -> Ledger:
        if self.pipeline.ledger.backend == "kubernetes":
            from shipper.state.kube_ledger import build_kube_ledger

            ledger: Ledger = build_kube_ledger(self.pipeline, env=self.env)
            return ledger
        from shipper.state.sqlite_ledger import SqliteLedger

        return SqliteLedger(self._database(self.pipeline.ledger.path), self.pipeline.name)

    def lock(self) -> Lock:
        if self.pipeline.lock.backend == "kubernetes":
            from shipper.state.kube_lock import build_kube_lock

            lock: Lock = build_kube_lock(self.pipeline, env=self.env, clock=self.clock)
            return lock
        from shipper.state.sqlite_lock import SqliteLock

        return SqliteLock(self._database(self.pipeline.lock.path), self.pipeline.name, self.clock)

    def _database(self, configured: str | None) -> Database:
        """One connection per state file: ledger and lock share it by default."""
        path = database_path(self.pipeline.name, configured, self.env)
        if path not in self.databases:
            self.databases[path] = Database(path)
        return self.databases[path]

    def releaser(self, sinks: Sequence[EventSink]) -> Releaser:
        from shipper.git_history import GitHistory

        emitter = Emitter(sinks, self.clock, self.pipeline.name)
        ports = Ports(
            platforms=self.platforms(),
            ledger=self.ledger(),
            lock=self.lock(),
            clock=self.clock,
            emitter=emitter,
            gate=self.gate(),
            checks=self.checks(),
            migrations=self.migrations(),
            history=GitHistory(Path.cwd()),
            preflight_checks=self.preflight_checks(),
            traffic=self.traffic(),
        )
        return Releaser(self.pipeline.policy(), ports, ship_version=__version__)

    def traffic(self) -> TrafficControl | None:
        """The HAProxy in front of both sides, only when the pipeline has `traffic:`."""
        if self.pipeline.traffic is None:
            return None
        from shipper.traffic.control import traffic_control

        return traffic_control(self.pipeline.traffic)


def wire(pipeline: Pipeline, env: Mapping[str, str] | None = None) -> Wiring:
    return Wiring(pipeline, dict(os.environ if env is None else env), SystemClock())


def me(env: Mapping[str, str]) -> Holder:
    """Who is running this command: a CI run, else user@host, with our pid for staleness."""
    from shipper.actor import detect_actor

    return Holder(detect_actor(env), socket.gethostname(), os.getpid())


def manual_holder(env: Mapping[str, str]) -> Holder:
    """A deploy freeze is held by a person, not by this short-lived process."""
    from shipper.actor import detect_actor

    return Holder(detect_actor(env), socket.gethostname(), None)
