"""The database connection budget of a release. Pure arithmetic over what was read.

During a release both platforms overlap old and new: Heroku's preboot runs the old web
dynos beside the new ones, its release phase adds a one-off dyno, and a Kubernetes
rolling update runs `replicas + maxSurge` pods at its peak. Connections almost doubled
during deploys in the migration this product is modelled on. `peak_rows` lists where the
connections come from (per side, per process type); `judge_budget` compares their sum,
plus what others hold now, with what the database (or the pooler in front of it) allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shipper.core.estate import Count, DatabaseLimits, HerokuApp, Workload, surge_pods
from shipper.core.model import Finding, Severity

CHECK = "connections"


@dataclass(frozen=True)
class Concurrency:
    """How many processes × threads one unit (a dyno, a pod) runs, per side, for one
    process of the application; either side may be absent."""

    name: str
    heroku_type: str | None = None
    heroku_apps: tuple[str, ...] = ()  # empty: every app of the pipeline
    heroku_processes: Count = 1
    heroku_threads: Count = 1
    kubernetes: str | None = None  # kind/name
    kubernetes_processes: Count = 1
    kubernetes_threads: Count = 1


@dataclass(frozen=True)
class Pooler:
    """A pooler (pgbouncer) between the application and PostgreSQL, as declared."""

    type: str
    max_client_connections: int
    server_connections: int | None = None  # what it opens to PostgreSQL, at most


@dataclass(frozen=True)
class BudgetPolicy:
    per_thread: int = 1  # connections one thread holds
    margin: int | str = "10%"  # connections kept free: a number or "N%" of the limit
    migration: int = 0  # connections of the migration Job (0: no migrations)
    release_phase: int = 1  # per Heroku app: the release phase's one-off dyno
    pooler: Pooler | None = None


@dataclass(frozen=True)
class Row:
    """One line of the arithmetic: `units` × `processes` × `threads` × per thread."""

    side: str
    where: str
    units: int
    why: str  # "2 dynos, doubled by preboot"
    processes: int
    threads: int
    connections: int
    steady: int  # what the same processes hold outside a release
    unread_preboot: bool = False  # doubled because preboot was not read (an upper bound)


@dataclass(frozen=True)
class Resolved:
    """A count the pipeline gave, resolved; `assumed` when it could not be read."""

    value: int
    assumed: str = ""


def resolve(raw: Count, numbers: Mapping[str, int], where: str) -> Resolved:
    if isinstance(raw, int):
        return Resolved(raw)
    if raw in numbers:
        return Resolved(numbers[raw])
    return Resolved(1, f"{where}: {raw} could not be read as a number (1 assumed)")


def _heroku_spec(specs: Sequence[Concurrency], app: str, kind: str) -> Concurrency | None:
    for spec in specs:
        if spec.heroku_type == kind and (not spec.heroku_apps or app in spec.heroku_apps):
            return spec
    return None


def _kube_spec(specs: Sequence[Concurrency], key: str) -> Concurrency | None:
    name = key.split("/", 1)[-1]
    exact = next((s for s in specs if s.kubernetes == key), None)
    return exact or next((s for s in specs if s.kubernetes is None and s.name == name), None)


def heroku_pool(
    specs: Sequence[Concurrency], app: HerokuApp, kind: str
) -> tuple[int, int, list[str]]:
    """Processes and threads per dyno of `app`'s `kind`, and what had to be assumed."""
    spec = _heroku_spec(specs, app.app, kind)
    where = f"{app.app}/{kind}"
    if spec is None:
        return 1, 1, [f"{where}: no concurrency declared (1 process × 1 thread assumed)"]
    p = resolve(spec.heroku_processes, app.numbers, where)
    t = resolve(spec.heroku_threads, app.numbers, where)
    return p.value, t.value, [a for a in (p.assumed, t.assumed) if a]


def kube_pool(specs: Sequence[Concurrency], workload: Workload) -> tuple[int, int, list[str]]:
    """Processes and threads per pod of `workload`, and what had to be assumed."""
    spec = _kube_spec(specs, workload.key)
    if spec is None:
        return 1, 1, [f"{workload.key}: no concurrency declared (1 process × 1 thread assumed)"]
    numbers: dict[str, int] = {}
    for container in workload.containers:
        numbers.update(container.numbers)
    p = resolve(spec.kubernetes_processes, numbers, workload.key)
    t = resolve(spec.kubernetes_threads, numbers, workload.key)
    return p.value, t.value, [a for a in (p.assumed, t.assumed) if a]


def peak_rows(
    apps: Sequence[HerokuApp],
    workloads: Sequence[Workload],
    specs: Sequence[Concurrency],
    policy: BudgetPolicy,
    *,
    at_hpa_max: bool = False,
) -> tuple[list[Row], list[str]]:
    """Where the connections at the peak of a release come from, and what was assumed.
    `at_hpa_max`: Kubernetes workloads counted at their autoscaler's maximum. An app whose
    preboot was not read counts its web dynos doubled, as if it were on: never less than
    the true peak."""
    rows: list[Row] = []
    assumed: list[str] = []
    per = policy.per_thread
    for app in apps:
        for dynos in app.formation:
            if dynos.quantity <= 0:
                continue
            processes, threads, guess = heroku_pool(specs, app, dynos.type)
            assumed += guess
            doubled = app.preboot is not False and dynos.type == "web"
            unread = doubled and app.preboot is None
            units = dynos.quantity * (2 if doubled else 1)
            why = f"{dynos.quantity} {dynos.size} dyno{'s' if dynos.quantity != 1 else ''}"
            if doubled:
                why += ", doubled: preboot not read" if unread else ", doubled by preboot"
            each = processes * threads * per
            rows.append(
                Row(
                    "heroku",
                    f"{app.app}/{dynos.type}",
                    units,
                    why,
                    processes,
                    threads,
                    units * each,
                    dynos.quantity * each,
                    unread,
                )
            )
        if policy.release_phase > 0:
            rows.append(
                Row(
                    "heroku",
                    f"{app.app}/release",
                    1,
                    "release phase one-off dyno",
                    1,
                    policy.release_phase,
                    policy.release_phase,
                    0,
                )
            )
    for w in workloads:
        processes, threads, guess = kube_pool(specs, w)
        assumed += guess
        replicas = max(w.replicas, w.hpa_max or 0) if at_hpa_max else w.replicas
        if w.kind == "cronjob":
            replicas = 1
        surge = surge_pods(
            Workload(w.key, replicas, w.strategy, w.max_surge, containers=w.containers)
        )
        units = replicas + surge
        noun = "job pod" if w.kind == "cronjob" else ("pod" if replicas == 1 else "pods")
        why = f"{replicas} {noun}" + (f" + {surge} surge" if surge else "")
        if at_hpa_max and w.hpa_max and w.hpa_max > w.replicas:
            why += " (autoscaler max)"
        each = processes * threads * per
        rows.append(
            Row("kubernetes", w.key, units, why, processes, threads, units * each, replicas * each)
        )
    if policy.migration > 0:
        rows.append(
            Row("migration", "job", 1, "migration Job", 1, policy.migration, policy.migration, 0)
        )
    return rows, assumed


@dataclass(frozen=True)
class Limit:
    """What the release must fit in, and how it was arrived at (rows of the table)."""

    allowed: int
    others: int
    lines: tuple[tuple[str, str], ...]


def margin_of(limit: int, margin: int | str) -> int:
    if isinstance(margin, int):
        return margin
    return math.ceil(limit * int(margin.rstrip("%")) / 100)


def limit_of(
    rows: Sequence[Row], policy: BudgetPolicy, database: DatabaseLimits | None
) -> Limit | None:
    """The connections the release may use, or None when nothing tells (no database read,
    no pooler). Connections open now count only beyond what this application's own
    processes can hold (they are already in its rows, at their peak)."""
    if policy.pooler is not None:
        pooler = policy.pooler
        cap = pooler.max_client_connections
        margin = margin_of(cap, policy.margin)
        return Limit(
            cap - margin,
            0,
            (
                (f"{pooler.type} max_client_conn", str(cap)),
                (f"margin {policy.margin}", f"-{margin}"),
            ),
        )
    if database is None:
        return None
    steady = sum(r.steady for r in rows)
    others = max(0, database.in_use - steady)
    usable = database.max_connections - database.reserved
    margin = margin_of(usable, policy.margin)
    return Limit(
        usable - margin - others,
        others,
        (
            ("max_connections", str(database.max_connections)),
            ("reserved for superusers", f"-{database.reserved}"),
            (f"margin {policy.margin}", f"-{margin}"),
            (
                f"in use now {database.in_use}, beyond this app's {steady}",
                f"-{others}",
            ),
        ),
    )


def budget_table(rows: Sequence[Row], limit: Limit | None) -> tuple[tuple[str, ...], ...]:
    table: list[tuple[str, ...]] = [("side", "where", "at peak", "× proc", "× threads", "conns")]
    for r in rows:
        table.append(
            (
                r.side,
                r.where,
                f"{r.units} ({r.why})",
                str(r.processes),
                str(r.threads),
                str(r.connections),
            )
        )
    table.append(("", "peak of the release", "", "", "", str(sum(r.connections for r in rows))))
    if limit is not None:
        for what, value in limit.lines:
            table.append(("limit", what, "", "", "", value))
        table.append(("", "allowed for the release", "", "", "", str(limit.allowed)))
    return tuple(table)


def fits(rows: Sequence[Row], limit: Limit, hpa_rows: Sequence[Row] = ()) -> bool:
    """Whether `judge_budget` finds the peak, and the peak with every autoscaler at its
    maximum, within what is allowed (INFO alone)."""
    peak = sum(r.connections for r in rows)
    return peak <= limit.allowed and sum(r.connections for r in hpa_rows) <= limit.allowed


def judge_budget(
    rows: Sequence[Row],
    limit: Limit,
    severity: Severity,
    *,
    hpa_rows: Sequence[Row] = (),
) -> list[Finding]:
    """BLOCK (or the configured severity) when the peak exceeds what is allowed; an INFO
    finding with the arithmetic otherwise. A peak that fits now but not once the
    autoscalers are at their maximum is a WARN."""
    peak = sum(r.connections for r in rows)
    table = budget_table(rows, limit)
    if peak > limit.allowed:
        biggest = max(rows, key=lambda r: r.connections)
        return [
            Finding(
                None,
                CHECK,
                severity,
                f"the release would open up to {peak} database connections at its peak, "
                f"{peak - limit.allowed} over the {limit.allowed} allowed (most from "
                f"{biggest.side} {biggest.where}: {biggest.connections}); put a pooler "
                "(pgbouncer) in front of the database and declare it in "
                "preflight.connections.pooler, or lower maxSurge, preboot or pool sizes",
                table,
            )
        ]
    bound = any(r.unread_preboot for r in rows)
    unread = ", web dynos counted doubled as preboot was not read (it fits either way)"
    found = [
        Finding(
            None,
            CHECK,
            Severity.INFO,
            f"the release opens up to {peak} database connections at its peak, "
            f"within the {limit.allowed} allowed{unread if bound else ''}",
            table,
        )
    ]
    hpa_peak = sum(r.connections for r in hpa_rows)
    if hpa_rows and hpa_peak > limit.allowed:
        found.append(
            Finding(
                None,
                CHECK,
                Severity.WARN,
                f"with every autoscaler at its maximum the release would open {hpa_peak} "
                f"connections, over the {limit.allowed} allowed; cap maxReplicas or add a "
                "pooler",
                budget_table(hpa_rows, limit),
            )
        )
    return found


def judge_pooler(pooler: Pooler, database: DatabaseLimits, severity: Severity) -> list[Finding]:
    """The pooler's own connections must fit in what PostgreSQL allows."""
    usable = database.max_connections - database.reserved
    if pooler.server_connections is None or pooler.server_connections <= usable:
        return []
    return [
        Finding(
            None,
            CHECK,
            severity,
            f"{pooler.type} may open {pooler.server_connections} connections to PostgreSQL, "
            f"which allows {usable} (max_connections {database.max_connections} - "
            f"{database.reserved} reserved); lower its pool size",
        )
    ]
