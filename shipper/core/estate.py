"""What the preflight lessons read off the platforms and the database, as frozen values.

Adapters fill these in (`shipper.heroku.estate`, `shipper.kubernetes.estate`,
`shipper.preflight.postgres`); the pure rules of `shipper.core.lessons` and
`shipper.core.budget` judge them. Nothing here holds a secret: config-var and env
*names* only, and the few numbers the pipeline asked for by name (`WEB_CONCURRENCY`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

Count = int | str  # a number, or the name of a config var / env var that holds one


@dataclass(frozen=True)
class Dynos:
    """One process type of one Heroku app: `quantity` dynos of `size`."""

    app: str
    type: str
    quantity: int
    size: str


@dataclass(frozen=True)
class HerokuApp:
    """One Heroku app as the preflight sees it. `preboot` is None until read: the
    connection budget counts an unread one as on (an upper bound) and reads it only when
    that bound does not fit."""

    app: str
    formation: tuple[Dynos, ...]
    config_names: frozenset[str]
    preboot: bool | None
    numbers: Mapping[str, int] = field(default_factory=dict)  # asked-for names -> int values


@dataclass(frozen=True)
class Container:
    """One container of a pod template: its resources as written (`250m`, `512Mi`, or
    None when absent), the names of its environment, and what could not be read."""

    name: str
    init: bool = False  # an init container that runs to completion before the others
    ships: bool = True  # ship sets its image: the application, not a sidecar beside it
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    env_names: frozenset[str] = frozenset()
    numbers: Mapping[str, int] = field(default_factory=dict)  # literal env values, asked for
    unread: tuple[str, ...] = ()  # "secret app-secrets (no right to read it)"


@dataclass(frozen=True)
class Workload:
    """One Kubernetes workload: its replicas, how a rolling update surges, its HPA."""

    key: str  # deployment/web
    replicas: int
    strategy: str = "RollingUpdate"  # RollingUpdate | Recreate | OnDelete
    max_surge: int | str | None = None  # as the API writes it: 1, "25%"
    hpa_min: int | None = None
    hpa_max: int | None = None
    containers: tuple[Container, ...] = ()

    @property
    def kind(self) -> str:
        return self.key.split("/", 1)[0]


@dataclass(frozen=True)
class DatabaseLimits:
    """What PostgreSQL reports: `max_connections`, the slots kept for superusers, and the
    connections open now (not counting the preflight's own)."""

    max_connections: int
    reserved: int
    in_use: int


# --- Kubernetes arithmetic ---------------------------------------------------------------

_PERCENT = re.compile(r"(\d+)%")


def surge_pods(workload: Workload) -> int:
    """Extra pods at the peak of a rollout: `maxSurge` (a percentage rounds up, as the
    Deployment controller rounds it; default 25%) for a rolling Deployment; none for
    Recreate, StatefulSets (one pod at a time, no surge) and CronJobs."""
    if workload.kind != "deployment" or workload.strategy != "RollingUpdate":
        return 0
    raw = "25%" if workload.max_surge is None else workload.max_surge
    if isinstance(raw, int):
        return max(0, raw)
    match = _PERCENT.fullmatch(raw.strip())
    if match is None:
        return int(raw) if raw.strip().isdigit() else 0
    return math.ceil(workload.replicas * int(match.group(1)) / 100)


_CPU = re.compile(r"(\d+(?:\.\d+)?)(m?)")


def millicores(raw: str | None) -> int | None:
    """`250m` -> 250, `1` -> 1000, `0.5` -> 500; None for absent or unreadable."""
    if raw is None:
        return None
    match = _CPU.fullmatch(str(raw).strip())
    if match is None:
        return None
    value = float(match.group(1))
    return round(value if match.group(2) else value * 1000)
