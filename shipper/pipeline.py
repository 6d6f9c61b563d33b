"""Pipeline files: YAML in, validated models out, errors that name file, line and key.

The models are pydantic (strict where a typo would change behaviour: unknown keys are
errors). `load_pipeline` never returns a half-valid pipeline: it raises PipelineError
with one line, `pipelines/web.yaml:14: verify.bake: expected a duration like 90s or 5m,
got "five"`, which the CLI prints as is with exit 2.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from shipper.core.config import (
    DEFAULT_VERSION_PATTERN,
    MigrationPolicy,
    ReleasePolicy,
    VerifyPolicy,
)
from shipper.errors import PipelineError
from shipper.preflight.section import PreflightSection

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 20
MAX_NODES = 100_000  # YAML aliases can expand a tiny file into billions of values

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?")


def parse_duration(raw: object) -> float:
    """`90s`, `15m`, `1h`, `1h30m`, `500ms` -> seconds. Bare numbers are refused: is
    `bake: 5` five seconds or five minutes? The file must say."""
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise ValueError(f"expected a duration like 90s or 5m, got {_show(raw)}")
    text = raw.strip()
    match = _DURATION.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"expected a duration like 90s or 5m, got {_show(raw)}")
    h, m, s, ms = (int(g) if g else 0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000


def _show(raw: object) -> str:
    if isinstance(raw, str):
        return f'"{raw[:60]}"'
    return repr(raw)[:60]


Duration = Annotated[float, BeforeValidator(parse_duration)]

_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


def check_template(raw: str) -> str:
    """A template must contain `{version}` and no other placeholder: rendering is plain
    substitution, never str.format (which would let `{version.__class__}` reach Python)."""
    fields = _TEMPLATE_FIELD.findall(raw)
    others = [f for f in fields if f != "version"]
    if others:
        raise ValueError(f'only {{version}} may be used in a template, got "{{{others[0]}}}"')
    if "version" not in fields:
        raise ValueError(f'template must contain {{version}}, got "{raw[:80]}"')
    return raw


def render(template: str, version: str) -> str:
    return template.replace("{version}", version)


Template = Annotated[str, BeforeValidator(lambda v: v), Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


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
        dup = _first_duplicate(v)
        if dup:
            raise ValueError(f'app "{dup}" is listed twice')
        return v

    @field_validator("api_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v)


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
        dup = _first_duplicate(keys)
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
        return _check_url(v)


class Gates(Strict):
    heroku_status: StatusGateSection | None = None


class HttpCheck(Strict):
    url: str
    status: tuple[int, ...] = ()  # empty: any 2xx
    body_contains: str | None = None
    json_field: str | None = None  # dotted path into the JSON answer
    equals: str | None = None  # what json_field must equal ({version} allowed)
    max_latency: Duration | None = None
    timeout: Duration = 5.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v)

    @model_validator(mode="after")
    def _pair(self) -> HttpCheck:
        if (self.json_field is None) != (self.equals is None):
            raise ValueError("json_field and equals go together")
        return self


class PrometheusAuth(Strict):
    bearer_token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None


class PrometheusCheck(Strict):
    url: str
    query: str = Field(min_length=1)
    max: float | None = None
    min: float | None = None
    on_empty: Literal["inconclusive", "pass", "fail"] = "inconclusive"
    auth: PrometheusAuth | None = None
    timeout: Duration = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v)

    @model_validator(mode="after")
    def _threshold(self) -> PrometheusCheck:
        if self.max is None and self.min is None:
            raise ValueError("a prometheus check needs max or min")
        return self


class CheckSpec(Strict):
    name: str = Field(min_length=1, max_length=63)
    side: Literal["heroku", "kubernetes"]
    http: HttpCheck | None = None
    prometheus: PrometheusCheck | None = None

    @model_validator(mode="after")
    def _one(self) -> CheckSpec:
        if (self.http is None) == (self.prometheus is None):
            raise ValueError(f'check "{self.name}" needs exactly one of http or prometheus')
        return self


class Verify(Strict):
    bake: Duration = 300.0
    interval: Duration = 15.0
    failure_limit: int = Field(default=2, ge=0, le=100)
    inconclusive_limit: int = Field(default=3, ge=0, le=100)
    checks: tuple[CheckSpec, ...] = ()

    @field_validator("checks")
    @classmethod
    def _unique(cls, v: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
        dup = _first_duplicate([c.name for c in v])
        if dup:
            raise ValueError(f'check "{dup}" is defined twice')
        return v

    @model_validator(mode="after")
    def _interval(self) -> Verify:
        if self.interval <= 0:
            raise ValueError("interval must be above zero")
        return self


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
        line = _line_for(path, self._lines) if self._lines else None
        shown = f"{self._source}:{line}" if self._source and line else self._source
        key = _dotted(list(path))
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


def _first_duplicate(items: Any) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return str(item)
        seen.add(item)
    return None


def _check_url(v: str) -> str:
    if not re.match(r"^https?://[^\s/]+", v):
        raise ValueError(f'"{v[:80]}" is not an http(s) URL')
    return v


# --- loading ---------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader: plain data only. Tags that would construct objects are errors."""


def _lines(
    node: yaml.Node,
    path: tuple[str | int, ...],
    out: dict[tuple[str | int, ...], int],
    depth: int = 0,
) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if len(out) > MAX_NODES:
        raise ValueError(f"more than {MAX_NODES} values once YAML aliases are expanded")
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            out[(*path, key)] = key_node.start_mark.line + 1
            _lines(value_node, (*path, key), out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, depth + 1)


def _duplicate_keys(node: yaml.Node, path: str = "") -> tuple[str, int] | None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = f"{path}.{key}" if path else key
            if key in seen:
                return where, key_node.start_mark.line + 1
            seen.add(key)
            found = _duplicate_keys(value_node, where)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_keys(item, f"{path}[{i}]")
            if found:
                return found
    return None


def resolve_pipeline_path(name_or_path: str | None, root: Path | None = None) -> Path:
    """`-p web` -> pipelines/web.yaml; a path is taken as is; nothing -> the single file
    in pipelines/. Without `root`, pipelines/ is looked for in the current directory, then
    in each parent (as git finds .git), so ship works from any folder of the project."""
    if name_or_path:
        candidate = Path(name_or_path)
        if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
            return candidate if candidate.is_absolute() else (root or Path.cwd()) / candidate
    base = root or find_project_root(Path.cwd())
    if name_or_path:
        for suffix in (".yaml", ".yml"):
            path = base / "pipelines" / f"{name_or_path}{suffix}"
            if path.exists():
                return path
        raise PipelineError(f"pipelines/{name_or_path}.yaml: no such pipeline file")
    folder = base / "pipelines"
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []
    if len(files) == 1:
        return files[0]
    if not files:
        raise PipelineError(
            "no pipeline file in pipelines/ (looked here and in every parent folder); "
            "pass one with -p NAME_OR_PATH"
        )
    names = ", ".join(f.stem for f in files)
    raise PipelineError(f"several pipelines in pipelines/ ({names}); choose one with -p NAME")


def find_project_root(start: Path) -> Path:
    """The nearest of `start` and its parents holding a pipelines/ folder; `start` when
    none does (the error then names pipelines/ as before)."""
    for folder in (start, *start.parents):
        if (folder / "pipelines").is_dir():
            return folder
    return start


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_pipeline(path: Path) -> Pipeline:
    """Read, parse and validate one pipeline file, or raise PipelineError (one line)."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PipelineError(f"{shown}: no such pipeline file") from None
    except OSError as exc:
        raise PipelineError(f"{shown}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PipelineError(f"{shown}: {len(raw)} bytes is too large for a pipeline file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(f"{shown}: not UTF-8 text") from None
    return _anchor_paths(parse_pipeline(text, shown), path.parent.resolve())


def parse_pipeline(text: str, shown: str) -> Pipeline:
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        if node is None:
            raise PipelineError(f"{shown}: the file is empty")
        lines: dict[tuple[str | int, ...], int] = {}
        _lines(node, (), lines)
        dup = _duplicate_keys(node)
        if dup:
            raise PipelineError(f"{shown}:{dup[1]}: {dup[0]}: key appears twice")
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PipelineError(f"{shown}{line}: YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"{shown}: YAML: {str(exc).splitlines()[0]}") from None
    except (ValueError, RecursionError) as exc:
        raise PipelineError(f"{shown}: {exc}") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{shown}:1: the file must be a mapping of keys, like name: web")
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as exc:
        raise PipelineError(_first_error(exc, shown, lines)) from None
    pipeline._source, pipeline._lines = shown, lines
    return pipeline


def _anchor_paths(pipeline: Pipeline, folder: Path) -> Pipeline:
    """Make the file paths a pipeline names relative to the pipeline file, not the cwd."""
    if pipeline.heroku and pipeline.heroku.netrc:
        heroku = pipeline.heroku.model_copy(
            update={"netrc": str(folder / Path(pipeline.heroku.netrc).expanduser())}
        )
        pipeline = pipeline.model_copy(update={"heroku": heroku})
    if pipeline.kubernetes and pipeline.kubernetes.kubeconfig:
        kube = pipeline.kubernetes.model_copy(
            update={"kubeconfig": str(folder / Path(pipeline.kubernetes.kubeconfig).expanduser())}
        )
        pipeline = pipeline.model_copy(update={"kubernetes": kube})
    if pipeline.traffic is not None:
        traffic = pipeline.traffic
        # normalised (`a/../b` is `b`): HAProxy knows a map by the exact path it loaded
        update = {"maps_dir": os.path.normpath(folder / Path(traffic.maps_dir).expanduser())}
        if "/" in traffic.runtime or not re.fullmatch(r"[^:]+:\d+", traffic.runtime):
            update["runtime"] = os.path.normpath(folder / Path(traffic.runtime).expanduser())
        moved_traffic = traffic.model_copy(update=update)
        pipeline = pipeline.model_copy(update={"traffic": moved_traffic})
    for section in ("ledger", "lock"):
        current = getattr(pipeline, section)
        if current.path:
            moved = current.model_copy(
                update={"path": str(folder / Path(current.path).expanduser())}
            )
            pipeline = pipeline.model_copy(update={section: moved})
    return pipeline


def _first_error(exc: ValidationError, shown: str, lines: dict[tuple[str | int, ...], int]) -> str:
    err = exc.errors(include_url=False)[0]
    # pydantic may put validator or union tags in loc (`function-after[...]`); keep keys.
    key_path = [p for p in err["loc"] if isinstance(p, int) or "[" not in p]
    line = _line_for(tuple(key_path), lines)
    dotted = _dotted(key_path)
    message = _message(err)
    where = f"{shown}:{line}" if line else shown
    return f"{where}: {dotted}: {message}" if dotted else f"{where}: {message}"


def _line_for(path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _dotted(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(err: Any) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against pipelines/example.yaml)"
    if kind == "missing":
        return "required key is missing"
    if kind == "too_short":
        return "must not be empty"
    text = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    text = f"{text[0].lower()}{text[1:]}"
    if kind.startswith(
        ("int_", "float_", "string_", "bool_", "list_", "tuple_", "dict_", "model_", "literal_")
    ):
        return f"{text}, got {_show(value)}"
    return text
