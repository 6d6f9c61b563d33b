"""The pipeline file's shape: pydantic models, strict where a typo would change behaviour
(unknown keys are errors), and `Pipeline.policy()`, the core's view of them.

Reading YAML and turning validation errors into `file:line: key: what` is load.py's job.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from shipper.core.config import (
    DEFAULT_VERSION_PATTERN,
    MigrationPolicy,
    ReleasePolicy,
    VerifyPolicy,
)
from shipper.core.model import Side
from shipper.errors import PipelineError
from shipper.pipeline.checks import Verify
from shipper.pipeline.template import check_template
from shipper.pipeline.values import (
    Duration,
    Strict,
    check_url,
    dotted,
    first_duplicate,
    line_for,
)
from shipper.preflight.section import PreflightSection


class Artifact(Strict):
    type: Literal["source", "slug", "image"]
    url: str | None = None  # source and slug: the source tarball URL template
    image: str | None = None  # image: the container image reference template
    process_types: tuple[str, ...] = ("web",)  # image: the process types to release

    @field_validator("url", "image")
    @classmethod
    def _templated(cls, v: str | None) -> str | None:
        return check_template(v) if v is not None else None

    @model_validator(mode="after")
    def _needs(self) -> Artifact:
        if self.type in ("source", "slug") and not self.url:
            raise ValueError(f"artifact type {self.type} needs url (a tarball URL template)")
        if self.type == "image" and not self.image:
            raise ValueError("artifact type image needs image (an image reference template)")
        return self


class HerokuSection(Strict):
    api_url: str = "https://api.heroku.com"
    # A netrc file to read the token from instead of ~/.netrc (relative to this file).
    # HEROKU_API_KEY wins over ~/.netrc, and this key wins over both when set.
    netrc: str | None = None
    apps: tuple[str, ...] = Field(min_length=1)
    artifact: Artifact

    @field_validator("apps")
    @classmethod
    def _apps(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for app in v:
            if not re.fullmatch(r"[a-z][a-z0-9-]{1,29}", app):
                raise ValueError(f'"{app}" is not a Heroku app name')
        dup = first_duplicate(v)
        if dup:
            raise ValueError(f'app "{dup}" is listed twice')
        return v

    @field_validator("api_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


WORKLOAD_KINDS = ("deployment", "statefulset", "cronjob")
_WORKLOAD = re.compile(
    r"(deployment|statefulset|cronjob)/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:[^:]+)?"
)


def parse_workload(raw: str) -> tuple[str, str, tuple[str, ...]]:
    """`deployment/web` or `deployment/web:app,sidecar` -> (kind, name, containers)."""
    match = _WORKLOAD.fullmatch(raw)
    if match is None:
        raise ValueError(
            f'"{raw}" is not a workload reference like deployment/web '
            f"(kinds: {', '.join(WORKLOAD_KINDS)}; optional :container,container)"
        )
    containers: tuple[str, ...] = ()
    if match.group(4):
        containers = tuple(c.strip() for c in match.group(4)[1:].split(","))
        for c in containers:
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", c):
                raise ValueError(f'"{c}" in "{raw}" is not a container name')
    return match.group(1), match.group(2), containers


def workload_key(raw: str) -> str:
    """The target name of a workload reference: `kind/name`, containers dropped."""
    kind, name, _ = parse_workload(raw)
    return f"{kind}/{name}"


class KubernetesSection(Strict):
    context: str | None = None
    kubeconfig: str | None = None  # a kubeconfig path (relative to this file); else KUBECONFIG
    namespace: str = Field(min_length=1, max_length=63)
    image: str
    workloads: tuple[str, ...] = Field(min_length=1)
    rollout_timeout: Duration = 600.0
    # How long the preflight waits for a rollout someone else started (0: refuse at once).
    rollout_wait: Duration = 0.0
    # Let ship change workloads a GitOps controller manages (a revert still fails the release).
    allow_gitops: bool = False
    # Change StatefulSets with OnDelete or a partition, reporting the pods left behind.
    statefulset_partitioned: bool = False

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        return check_template(v)

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", v):
            raise ValueError(f'"{v}" is not a Kubernetes namespace name')
        return v

    @field_validator("workloads")
    @classmethod
    def _workloads(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        keys = [workload_key(w) for w in v]
        dup = first_duplicate(keys)
        if dup:
            raise ValueError(f'workload "{dup}" is listed twice')
        return v


class Migrations(Strict):
    paths: tuple[str, ...] = ()
    command: tuple[str, ...] = Field(min_length=1)
    runner: Literal["kubernetes", "heroku"] = "kubernetes"
    timeout: Duration = 900.0
    bake: Duration = 60.0

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, v: object) -> object:
        if isinstance(v, str):
            raise ValueError(
                "command must be an argv list like [bin/rails, db:migrate], not a shell string"
            )
        return v


class StatusGateSection(Strict):
    url: str = "https://status.heroku.com/api/v4/current-status"
    systems: tuple[Literal["Apps", "Data", "Tools"], ...] = ("Apps", "Tools")
    timeout: Duration = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


class Gates(Strict):
    heroku_status: StatusGateSection | None = None


class LedgerSection(Strict):
    backend: Literal["sqlite", "kubernetes"] = "sqlite"
    path: str | None = None
    namespace: str | None = None


class LockSection(Strict):
    backend: Literal["sqlite", "kubernetes"] = "sqlite"
    ttl: Duration = 900.0
    path: str | None = None
    namespace: str | None = None


class Slack(Strict):
    webhook_url_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")


class Notify(Strict):
    slack: Slack | None = None


class RollbackSection(Strict):
    timeout: Duration = 600.0


class Versions(Strict):
    pattern: str = DEFAULT_VERSION_PATTERN

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


class TrafficBackend(Strict):
    """One side behind HAProxy: its servers (host:port; names are re-resolved through
    the `resolvers` section, which needs the health checks on) and its health check."""

    servers: tuple[str, ...] = Field(min_length=1)
    health: str = "/health"  # path of the HTTP health check
    tls: bool = False  # speak TLS to the servers (verified, SNI = host)
    host: str | None = None  # Host header (and SNI) to send, e.g. acme-web.herokuapp.com

    @field_validator("servers")
    @classmethod
    def _servers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for server in v:
            if not re.fullmatch(r"[A-Za-z0-9.-]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}", server):
                raise ValueError(f'"{server[:80]}" is not host:port')
        return v

    @field_validator("health")
    @classmethod
    def _health(cls, v: str) -> str:
        if not re.fullmatch(r"/[^\s]*", v):
            raise ValueError(f'"{v[:80]}" is not a path like /health')
        return v


class TrafficKey(Strict):
    """Where a request without a site cookie gets its stable key: a cookie or a header."""

    cookie: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")

    @model_validator(mode="after")
    def _one(self) -> TrafficKey:
        if (self.cookie is None) == (self.header is None):
            raise ValueError("traffic.key needs exactly one of cookie or header")
        return self


class TrafficSection(Strict):
    """The HAProxy in front of both sides (`ship traffic`)."""

    runtime: str = Field(min_length=1)  # the runtime API: a unix socket path, or host:port
    maps_dir: str = Field(min_length=1)  # the map files ship writes and HAProxy loads
    bind: str = "0.0.0.0:80"
    site_cookie: str = Field(default="site", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    key: TrafficKey = TrafficKey(cookie="visitor")
    heroku: TrafficBackend
    kubernetes: TrafficBackend
    timeout: Duration = 30.0  # to the first byte of the answer, as Heroku's router
    connect_timeout: Duration = 5.0
    health_interval: Duration = 2.0
    resolvers: tuple[str, ...] = ()  # nameservers host:port; none: /etc/resolv.conf
    log: str = "/dev/log"  # a syslog address, or stdout
    # drain: on a regression confined to one side during the bake, move its traffic to the
    # other side before the joint rollback, and undo that once the rollback is verified
    on_regression: Literal["none", "drain"] = "none"

    def backend(self, side: Side) -> TrafficBackend:
        """The backend `side`'s share goes to (a match mypy checks for every Side)."""
        match side:
            case Side.HEROKU:
                return self.heroku
            case Side.KUBERNETES:
                return self.kubernetes

    @model_validator(mode="after")
    def _positive(self) -> TrafficSection:
        if self.timeout <= 0 or self.connect_timeout <= 0 or self.health_interval <= 0:
            raise ValueError("traffic timeouts and health_interval must be above zero")
        return self


class Pipeline(Strict):
    """One pipeline file, as DESIGN.md describes it (the contract keys, plus a few)."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)
    heroku: HerokuSection | None = None
    kubernetes: KubernetesSection | None = None
    migrations: Migrations | None = None
    gates: Gates = Gates()
    verify: Verify = Verify()
    ledger: LedgerSection = LedgerSection()
    lock: LockSection = LockSection()
    notify: Notify = Notify()
    rollback: RollbackSection = RollbackSection()
    versions: Versions = Versions()
    traffic: TrafficSection | None = None
    preflight: PreflightSection | None = None  # the lessons checked before anything ships
    # Where the pipeline came from, for errors found after loading: the file as shown,
    # and the line of each key path.
    _source: str = PrivateAttr(default="")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    def where(self, *path: str | int) -> str:
        """`pipelines/web.yaml:14: kubernetes.workloads[0]`: the file, line and key of
        `path`, as far as the pipeline was loaded from a file."""
        line = line_for(path, self._lines) if self._lines else None
        shown = f"{self._source}:{line}" if self._source and line else self._source
        key = dotted(list(path))
        return f"{shown}: {key}" if shown else key

    @model_validator(mode="after")
    def _sides(self) -> Pipeline:
        if self.heroku is None and self.kubernetes is None:
            raise ValueError("a pipeline needs a heroku section, a kubernetes section, or both")
        if self.migrations and self.migrations.runner == "kubernetes" and not self.kubernetes:
            raise ValueError("migrations.runner kubernetes needs a kubernetes section")
        if self.migrations and self.migrations.runner == "heroku" and not self.heroku:
            raise ValueError("migrations.runner heroku needs a heroku section")
        for check in self.verify.checks:
            if getattr(self, check.side) is None:
                raise ValueError(
                    f'check "{check.name}" is on side {check.side}, '
                    f"which this pipeline does not have"
                )
        return self

    def with_rollout_wait(self, seconds: float) -> Pipeline:
        """This pipeline with `kubernetes.rollout_wait` set for one run (`--rollout-wait`)."""
        if self.kubernetes is None:
            raise PipelineError(
                f"--rollout-wait: pipeline {self.name} has no kubernetes section to wait on"
            )
        kube = self.kubernetes.model_copy(update={"rollout_wait": seconds})
        return self.model_copy(update={"kubernetes": kube})

    def policy(self) -> ReleasePolicy:
        """The core's view of this pipeline."""
        migrations = None
        if self.migrations is not None:
            migrations = MigrationPolicy(
                paths=self.migrations.paths,
                command=self.migrations.command,
                runner=self.migrations.runner,
                timeout_seconds=self.migrations.timeout,
                bake_seconds=self.migrations.bake,
            )
        return ReleasePolicy(
            pipeline=self.name,
            verify=VerifyPolicy(
                bake_seconds=self.verify.bake,
                interval_seconds=self.verify.interval,
                failure_limit=self.verify.failure_limit,
                inconclusive_limit=self.verify.inconclusive_limit,
            ),
            migrations=migrations,
            lock_ttl_seconds=self.lock.ttl,
            rollout_timeout_seconds=self.kubernetes.rollout_timeout if self.kubernetes else 600.0,
            rollback_timeout_seconds=self.rollback.timeout,
            version_pattern=self.versions.pattern,
            preflight=self.preflight.settings() if self.preflight else (),
            drain_on_regression=self.traffic is not None and self.traffic.on_regression == "drain",
        )
