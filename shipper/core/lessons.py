"""The migration's hard-won lessons as pure rules: resources, environment parity and the
concurrency shape. (The connection budget has its own module, `budget.py`.)

Each rule takes what the adapters read (`shipper.core.estate`) and returns findings;
nothing here reads a platform, and nothing here ever sees a config-var value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shipper.core.budget import Concurrency, heroku_pool, kube_pool
from shipper.core.estate import Container, HerokuApp, Workload, millicores
from shipper.core.model import Finding, Severity, Side, Target

RESOURCES, CPU, PARITY, HEROKU_ONLY, SHAPE = (
    "resources",
    "cpu_limit",
    "env_parity",
    "heroku_only_env",
    "concurrency",
)

# CPU a dyno gives its process, in millicores: the dedicated vCPUs of Performance,
# Private and Shield dynos; for shared dynos (Eco, Basic, Standard) the burst a host
# usually allows one dyno. A comparison, not a promise: Heroku sells compute in "x".
DYNO_MILLICORES: dict[str, int] = {
    "eco": 1000,
    "basic": 1000,
    "free": 1000,
    "hobby": 1000,
    "standard-1x": 1000,
    "standard-2x": 2000,
    "performance-m": 2000,
    "performance-l": 8000,
    "performance-l-ram": 4000,
    "performance-xl": 8000,
    "performance-2xl": 16000,
    "private-s": 2000,
    "private-m": 4000,
    "private-l": 8000,
    "shield-s": 2000,
    "shield-m": 4000,
    "shield-l": 8000,
}

# Set by the Heroku runtime (or its dyno metadata), never by a config var: code that
# reads them behaves differently on Kubernetes unless its env sets them.
HEROKU_RUNTIME_VARS = (
    "DYNO",
    "PORT",
    "HEROKU_APP_NAME",
    "HEROKU_APP_ID",
    "HEROKU_RELEASE_VERSION",
    "HEROKU_RELEASE_CREATED_AT",
    "HEROKU_SLUG_COMMIT",
    "HEROKU_SLUG_DESCRIPTION",
    "HEROKU_DYNO_ID",
    "SOURCE_VERSION",
)


def _kube(key: str) -> Target:
    return Target(Side.KUBERNETES, key)


# --- resources ---------------------------------------------------------------------------


def missing_resources(container: Container) -> list[str]:
    missing = []
    if container.cpu_request is None:
        missing.append("cpu request")
    if container.memory_request is None:
        missing.append("memory request")
    if container.memory_limit is None:
        missing.append("memory limit")
    return missing


def check_resources(
    workloads: Sequence[Workload], severity: Severity, migration_from: str | None = None
) -> list[Finding]:
    """Every container has CPU and memory requests and a memory limit (a missing one made
    hosts unstable in the migration): one finding per workload, naming each container.
    Init containers that run to completion before the others are a WARN: they are gone
    once the pod runs (native sidecars stay, and count as containers)."""
    found = []
    for w in workloads:
        job = " (and the migration Job, which borrows them)" if w.key == migration_from else ""
        for init, weight in ((False, severity), (True, Severity.WARN)):
            gaps = [
                f"{'init container ' if init else ''}{c.name} has no {', no '.join(missing)}"
                for c in w.containers
                if c.init == init and (missing := missing_resources(c))
            ]
            if gaps:
                found.append(
                    Finding(
                        _kube(w.key),
                        RESOURCES,
                        weight,
                        f"{'; '.join(gaps)}{job}: set resources.requests.cpu, requests.memory "
                        "and limits.memory on every container",
                    )
                )
    return found


# --- pairs: which Heroku process runs as which workload ----------------------------------


@dataclass(frozen=True)
class Pair:
    """A Heroku process type of one app and the workload that runs the same process."""

    app: HerokuApp
    type: str
    workload: Workload


def pairs(
    apps: Sequence[HerokuApp], workloads: Sequence[Workload], specs: Sequence[Concurrency]
) -> list[Pair]:
    """Declared pairs (`preflight.processes`), else a workload named like a process type
    (`deployment/web` and `web`)."""
    out = []
    for w in workloads:
        name = w.key.split("/", 1)[-1]
        spec = next((s for s in specs if s.kubernetes == w.key), None) or next(
            (s for s in specs if s.kubernetes is None and s.name == name), None
        )
        kind = spec.heroku_type if spec is not None and spec.heroku_type else name
        for app in apps:
            if spec is not None and spec.heroku_apps and app.app not in spec.heroku_apps:
                continue
            if any(d.type == kind and d.quantity > 0 for d in app.formation):
                out.append(Pair(app, kind, w))
    return out


def check_cpu(found_pairs: Sequence[Pair], severity: Severity, ratio: float) -> list[Finding]:
    """A CPU limit far below what the dyno gave the same process throttles it, which looked
    like 5xx errors in the migration: warn when it is under `ratio` of the dyno's CPU."""
    out = []
    for pair in found_pairs:
        dynos = next(d for d in pair.app.formation if d.type == pair.type)
        dyno_cpu = DYNO_MILLICORES.get(dynos.size.lower())
        if dyno_cpu is None:
            continue
        for c in pair.workload.containers:
            limit = millicores(c.cpu_limit)
            if not c.ships or limit is None or limit >= dyno_cpu * ratio:
                continue
            out.append(
                Finding(
                    _kube(pair.workload.key),
                    CPU,
                    severity,
                    f"container {c.name} is limited to {limit}m CPU where {pair.app.app}/"
                    f"{pair.type} has a {dynos.size} dyno (about {dyno_cpu}m); throttling "
                    f"looks like 5xx errors: raise limits.cpu or remove it",
                )
            )
    return out


# --- environment parity ------------------------------------------------------------------


def _shown(names: Iterable[str], most: int = 12) -> str:
    ordered = sorted(names)
    more = f" and {len(ordered) - most} more" if len(ordered) > most else ""
    return ", ".join(ordered[:most]) + more


def check_parity(
    found_pairs: Sequence[Pair], severity: Severity, ignore: Iterable[str] = ()
) -> list[Finding]:
    """Config-var names of each Heroku app against the env names of the workload that runs
    the same process, both ways; names only, grouped per app and workload."""
    skip = set(ignore)
    out = []
    seen: set[tuple[str, str]] = set()
    for pair in found_pairs:
        if (pair.app.app, pair.workload.key) in seen:
            continue
        seen.add((pair.app.app, pair.workload.key))
        kube: set[str] = set()
        unread: list[str] = []
        for c in pair.workload.containers:
            if c.ships:
                kube |= c.env_names
                unread += c.unread
        heroku_only = set(pair.app.config_names) - kube - skip
        kube_only = kube - set(pair.app.config_names) - skip
        parts = []
        if heroku_only:
            parts.append(f"only on Heroku {pair.app.app}: {_shown(heroku_only)}")
        if kube_only:
            parts.append(f"only on Kubernetes: {_shown(kube_only)}")
        if unread:
            parts.append(f"could not read the names of {', '.join(sorted(set(unread)))}")
        if parts:
            out.append(
                Finding(
                    _kube(pair.workload.key),
                    PARITY,
                    severity if heroku_only or kube_only else Severity.WARN,
                    "; ".join(parts),
                )
            )
    return out


def check_heroku_only_reads(
    reads: Mapping[str, Sequence[str]],
    workloads: Sequence[Workload],
    severity: Severity,
) -> list[Finding]:
    """Variables only the Heroku runtime sets, read by the code (`reads`: name -> where),
    that no Kubernetes container sets: the code behaves differently there."""
    kube: set[str] = set()
    for w in workloads:
        for c in w.containers:
            kube |= c.env_names
    out = []
    for name, places in sorted(reads.items()):
        if name in kube or not places:
            continue
        where = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
        out.append(
            Finding(
                None,
                HEROKU_ONLY,
                severity,
                f"the code reads {name}, which only Heroku sets ({where}); set it on the "
                "Kubernetes containers or make the code not need it (a version-format "
                "difference once made a job runner run a job twice)",
            )
        )
    return out


# --- concurrency shape -------------------------------------------------------------------


def concurrency_shape(found_pairs: Sequence[Pair], specs: Sequence[Concurrency]) -> list[Finding]:
    """Processes × threads per unit on each side and the capacity ratio, per process (the
    migration went from 8 dynos × 4 × 7 to 75 pods × 1 × 12). INFO, never a problem."""
    table: list[tuple[str, ...]] = [("process", "heroku", "kubernetes", "k8s / heroku")]
    by_workload: dict[str, list[Pair]] = {}
    for pair in found_pairs:
        by_workload.setdefault(pair.workload.key, []).append(pair)
    if not by_workload:
        return []
    ratios = []
    for key, group in by_workload.items():
        heroku_cap, heroku_parts = 0, []
        for pair in group:
            dynos = next(d for d in pair.app.formation if d.type == pair.type)
            p, t, _ = heroku_pool(specs, pair.app, pair.type)
            heroku_cap += dynos.quantity * p * t
            heroku_parts.append(f"{dynos.quantity} × {p} × {t}")
        w = group[0].workload
        p, t, _ = kube_pool(specs, w)
        kube_cap = w.replicas * p * t
        ratio = kube_cap / heroku_cap if heroku_cap else 0.0
        ratios.append(f"{key} {ratio:.2f}")
        table.append(
            (
                f"{group[0].type} / {key}",
                f"{' + '.join(heroku_parts)} = {heroku_cap}",
                f"{w.replicas} × {p} × {t} = {kube_cap}",
                f"{ratio:.2f}",
            )
        )
    return [
        Finding(
            None,
            SHAPE,
            Severity.INFO,
            "units × processes × threads on each side; Kubernetes can take this share of "
            f"Heroku's capacity: {', '.join(ratios)}",
            tuple(table),
        )
    ]
