"""The configured preflight checks: each reads what it needs (once, shared through
`Estate`) and hands it to the pure rules of `shipper.core.budget` and `.lessons`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from shipper.core.budget import (
    CHECK as CONNECTIONS,
)
from shipper.core.budget import (
    BudgetPolicy,
    Concurrency,
    Row,
    fits,
    judge_budget,
    judge_pooler,
    limit_of,
    peak_rows,
)
from shipper.core.estate import DatabaseLimits, HerokuApp, Workload
from shipper.core.lessons import (
    CPU,
    HEROKU_ONLY,
    PARITY,
    RESOURCES,
    SHAPE,
    check_cpu,
    check_heroku_only_reads,
    check_parity,
    check_resources,
    concurrency_shape,
    pairs,
)
from shipper.core.model import Finding, Severity, Version

T = TypeVar("T")


class Once(Generic[T]):
    """A value read on first use, by whichever check needs it first, then shared."""

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._guard = threading.Lock()
        self._value: list[T] = []

    def get(self) -> T:
        with self._guard:
            if not self._value:
                self._value.append(self._read())
            return self._value[0]


@dataclass
class Estate:
    """What the checks share: the Heroku apps and the Kubernetes workloads, read once.
    `preboot` reads whether each named app has preboot on; only the connection budget
    asks, and only when it must (None: it cannot be read, and counts as on)."""

    heroku: Once[list[HerokuApp]]
    kubernetes: Once[list[Workload]]
    specs: tuple[Concurrency, ...]
    preboot: Callable[[Sequence[str]], Mapping[str, bool]] | None = None


@dataclass
class ConnectionsCheck:
    estate: Estate
    policy: BudgetPolicy
    database: Callable[[], DatabaseLimits] | None  # None: no database_url_env
    name: str = CONNECTIONS
    severity: Severity = Severity.BLOCK

    def run(self, version: Version) -> Sequence[Finding]:
        apps, workloads = self.estate.heroku.get(), self.estate.kubernetes.get()
        rows, assumed = peak_rows(apps, workloads, self.estate.specs, self.policy)
        found: list[Finding] = []
        if assumed:
            found.append(
                Finding(
                    None,
                    self.name,
                    Severity.WARN,
                    "connections counted with assumptions: "
                    f"{'; '.join(assumed)}; declare them in preflight.processes",
                )
            )
        limits = self.database() if self.database is not None else None
        limit = limit_of(rows, self.policy, limits)
        if limit is None:
            found.append(
                Finding(
                    None,
                    self.name,
                    self.severity,
                    "nothing says how many connections the database allows: set "
                    "preflight.connections.database_url_env (a read-only URL) or declare "
                    "the pooler",
                )
            )
            return found
        if self.policy.pooler is not None and limits is not None:
            found += judge_pooler(self.policy.pooler, limits, self.severity)
        hpa_rows = self._at_hpa_max(apps, workloads)
        if not fits(rows, limit, hpa_rows) and any(a.preboot is None for a in apps):
            # Counted as if every unread app had preboot on, it does not fit: read preboot
            # and judge the true peak, so that a refusal never rests on the assumption.
            # The limit stays: it counts the steady state, which preboot does not change.
            apps = self._with_preboot(apps)
            rows, _ = peak_rows(apps, workloads, self.estate.specs, self.policy)
            hpa_rows = self._at_hpa_max(apps, workloads)
        return found + judge_budget(rows, limit, self.severity, hpa_rows=hpa_rows)

    def _at_hpa_max(self, apps: list[HerokuApp], workloads: list[Workload]) -> list[Row]:
        """The peak's rows with every autoscaler at its maximum (none when no workload
        could grow)."""
        if not any(w.hpa_max and w.hpa_max > w.replicas for w in workloads):
            return []
        hpa, _ = peak_rows(apps, workloads, self.estate.specs, self.policy, at_hpa_max=True)
        return hpa

    def _with_preboot(self, apps: list[HerokuApp]) -> list[HerokuApp]:
        unread = [a.app for a in apps if a.preboot is None]
        if self.estate.preboot is None or not unread:
            return apps
        read = self.estate.preboot(unread)
        return [replace(a, preboot=read[a.app]) if a.preboot is None else a for a in apps]


@dataclass
class ResourcesCheck:
    estate: Estate
    migration_from: str | None = None
    name: str = RESOURCES
    severity: Severity = Severity.BLOCK

    def run(self, version: Version) -> Sequence[Finding]:
        return check_resources(self.estate.kubernetes.get(), self.severity, self.migration_from)


@dataclass
class CpuCheck:
    estate: Estate
    ratio: float = 0.25
    name: str = CPU
    severity: Severity = Severity.WARN

    def run(self, version: Version) -> Sequence[Finding]:
        found = pairs(self.estate.heroku.get(), self.estate.kubernetes.get(), self.estate.specs)
        return check_cpu(found, self.severity, self.ratio)


@dataclass
class ParityCheck:
    estate: Estate
    ignore: tuple[str, ...] = ()
    name: str = PARITY
    severity: Severity = Severity.WARN

    def run(self, version: Version) -> Sequence[Finding]:
        found = pairs(self.estate.heroku.get(), self.estate.kubernetes.get(), self.estate.specs)
        return check_parity(found, self.severity, self.ignore)


@dataclass
class ShapeCheck:
    estate: Estate
    name: str = SHAPE
    severity: Severity = Severity.INFO

    def run(self, version: Version) -> Sequence[Finding]:
        found = pairs(self.estate.heroku.get(), self.estate.kubernetes.get(), self.estate.specs)
        return concurrency_shape(found, self.estate.specs)


@dataclass
class HerokuOnlyCheck:
    estate: Estate
    reads: Callable[[], Mapping[str, Sequence[str]]]
    name: str = HEROKU_ONLY
    severity: Severity = Severity.WARN

    def run(self, version: Version) -> Sequence[Finding]:
        return check_heroku_only_reads(self.reads(), self.estate.kubernetes.get(), self.severity)
