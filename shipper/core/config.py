"""The parts of a pipeline file the core acts on, as plain frozen values.

`shipper.pipeline` turns YAML into these; the core never sees pydantic or YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipper.core.model import Severity, Version

# The grammar of a container image tag: a version becomes one (and part of a Heroku
# source URL), so nothing that could change a path, a URL or a shell command gets in.
DEFAULT_VERSION_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}"


@dataclass(frozen=True)
class VerifyPolicy:
    """The bake window and how many bad measurements a check may have.

    Counting as Argo Rollouts' code does (`failed > failureLimit`, strictly greater),
    over consecutive measurements: with `failure_limit: 2` a check fails on its third
    failed measurement in a row, so detection takes at most `interval * failure_limit`
    after the first bad reading (plus one request). A release is never passed on missing
    data: more than `inconclusive_limit` inconclusive measurements in a row fail it too.
    """

    bake_seconds: float = 300.0
    interval_seconds: float = 15.0
    failure_limit: int = 2
    inconclusive_limit: int = 3


@dataclass(frozen=True)
class MigrationPolicy:
    paths: tuple[str, ...]
    command: tuple[str, ...]
    runner: str = "kubernetes"
    timeout_seconds: float = 900.0
    bake_seconds: float = 60.0


@dataclass(frozen=True)
class CheckSetting:
    """The pipeline's word on one preflight check: its severity, or off (with a reason)."""

    name: str
    severity: Severity | None = None  # None: the check's own
    off: bool = False
    reason: str = ""


@dataclass(frozen=True)
class ReleasePolicy:
    """Everything the release state machine needs to know about one pipeline."""

    pipeline: str
    verify: VerifyPolicy
    migrations: MigrationPolicy | None = None
    lock_ttl_seconds: float = 900.0
    rollout_timeout_seconds: float = 600.0
    rollback_timeout_seconds: float = 600.0
    version_pattern: str = DEFAULT_VERSION_PATTERN
    preflight: tuple[CheckSetting, ...] = ()  # the pipeline's `preflight:` overrides
    drain_on_regression: bool = False  # `traffic.on_regression: drain`

    def check_version(self, raw: str) -> Version | str:
        """The version if acceptable, else a one-line reason it is not."""
        if not raw:
            return "the version is empty"
        if len(raw) > 128:
            return f"the version is {len(raw)} characters long; at most 128 are allowed"
        if re.fullmatch(DEFAULT_VERSION_PATTERN, raw) is None:
            return (
                f"version {raw[:40]!r} has characters ship does not accept "
                "(an image tag: letters, digits, . _ and -, not starting with . or -)"
            )
        if (
            self.version_pattern != DEFAULT_VERSION_PATTERN
            and re.fullmatch(self.version_pattern, raw) is None
        ):
            return f"version {raw!r} does not match versions.pattern {self.version_pattern!r}"
        return Version(raw)
