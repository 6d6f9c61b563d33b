"""The pipeline's `preflight:` section: which lessons to check, at what severity.

```yaml
preflight:
  processes:                       # what one unit (dyno, pod) runs, per process
    - name: web
      heroku: {type: web, processes: WEB_CONCURRENCY, threads: RAILS_MAX_THREADS}
      kubernetes: {workload: deployment/web, processes: 1, threads: 12}
  connections:
    database_url_env: SHIP_DATABASE_URL   # a read-only URL; never printed
    margin: 10%
    pooler: {type: pgbouncer, max_client_connections: 1000, server_connections: 80}
  resources: {}
  cpu_limit: {ratio: 0.25}
  env_parity: {ignore: [PAPERTRAIL_API_TOKEN]}
  concurrency: {}
  heroku_only_env: {code: .}             # the application's repository, to `git grep`
```

Every check of a present section runs with its own severity unless `severity:` says
otherwise; `off: true` needs a `reason:`, which the event stream and the ledger keep.
A count is a number or the NAME of a config var (Heroku) or env var (Kubernetes) whose
value is one: only that value is read, and only as a number.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipper.core.config import CheckSetting
from shipper.core.model import Severity

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
Count = int | str


def _count(v: Count) -> Count:
    if isinstance(v, bool):
        raise ValueError("expected a number or a variable name")
    if isinstance(v, int):
        if v < 0:
            raise ValueError("must be 0 or more")
        return v
    if not _NAME.fullmatch(v):
        raise ValueError(f'"{v[:60]}" is neither a number nor a variable name')
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HerokuProcess(_Strict):
    type: str
    apps: tuple[str, ...] = ()
    processes: Count = 1
    threads: Count = 1

    _c = field_validator("processes", "threads")(_count)


class KubeProcess(_Strict):
    workload: str | None = None
    processes: Count = 1
    threads: Count = 1

    _c = field_validator("processes", "threads")(_count)


class Process(_Strict):
    name: str
    heroku: HerokuProcess | None = None
    kubernetes: KubeProcess | None = None


class CheckSection(_Strict):
    severity: Literal["block", "warn", "info"] | None = None
    off: bool = False
    reason: str = ""

    @model_validator(mode="after")
    def _why(self) -> CheckSection:
        if self.off and not self.reason.strip():
            raise ValueError("off: true needs a reason (it is recorded with every release)")
        return self


class PoolerSection(_Strict):
    type: str = "pgbouncer"
    max_client_connections: int = Field(gt=0)
    server_connections: int | None = Field(default=None, gt=0)


class ConnectionsSection(CheckSection):
    database_url_env: str | None = None
    per_thread: int = Field(default=1, ge=1)
    margin: int | str = "10%"
    migration: int | None = Field(default=None, ge=0)  # default: 1 with migrations
    release_phase: int = Field(default=1, ge=0)
    pooler: PoolerSection | None = None
    connect_timeout: int = Field(default=5, ge=1, le=60)

    @field_validator("database_url_env")
    @classmethod
    def _env(cls, v: str | None) -> str | None:
        if v is not None and not _NAME.fullmatch(v):
            raise ValueError(f'"{v[:60]}" is not an environment variable name')
        return v

    @field_validator("margin")
    @classmethod
    def _margin(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v >= 0:
            return v
        if isinstance(v, str) and re.fullmatch(r"\d{1,2}%", v):
            return v
        raise ValueError(f"expected a number of connections or a percentage like 10%, got {v!r}")


class CpuSection(CheckSection):
    ratio: float = Field(default=0.25, gt=0, le=1)


class ParitySection(CheckSection):
    ignore: tuple[str, ...] = ()


class HerokuOnlySection(CheckSection):
    code: str = "."  # the application's repository (relative to the working directory)


class PreflightSection(_Strict):
    processes: tuple[Process, ...] = ()
    connections: ConnectionsSection | None = None
    resources: CheckSection | None = CheckSection()
    cpu_limit: CpuSection | None = CpuSection()
    env_parity: ParitySection | None = ParitySection()
    concurrency: CheckSection | None = CheckSection()
    heroku_only_env: HerokuOnlySection | None = None

    def settings(self) -> tuple[CheckSetting, ...]:
        out = []
        for name in (
            "connections",
            "resources",
            "cpu_limit",
            "env_parity",
            "concurrency",
            "heroku_only_env",
        ):
            section = getattr(self, name)
            if isinstance(section, CheckSection) and (section.off or section.severity):
                severity = Severity(section.severity) if section.severity else None
                out.append(CheckSetting(name, severity, section.off, section.reason.strip()))
        return tuple(out)
