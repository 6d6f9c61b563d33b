"""What a command asks for (requests) and how it ends (Outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from shipper.core.model import (
    Holder,
    ReleaseNo,
    ReleaseState,
    Snapshot,
    Version,
)
from shipper.errors import ExitCode


@dataclass(frozen=True)
class DeployRequest:
    version: Version
    holder: Holder
    reason: str = ""
    migrations: bool | None = None  # None: detect from git
    skip_gate_reason: str = ""  # non-empty: --skip-status-gate --reason TEXT
    force_lock: bool = False
    lock_wait_seconds: float = 0.0
    force: bool = False  # deploy even if the version already runs everywhere
    migrations_only: bool = False  # `ship migrate`
    commit: str | None = None  # the git SHA `version` names, where the project can tell


@dataclass(frozen=True)
class RollbackRequest:
    holder: Holder
    to: ReleaseNo | None = None
    reason: str = ""
    force_lock: bool = False
    lock_wait_seconds: float = 0.0
    verify: bool = True


@dataclass(frozen=True)
class Outcome:
    """How a command ended: the exit code of DESIGN.md and the one line that says why."""

    exit_code: ExitCode
    message: str
    state: ReleaseState | None = None
    release: ReleaseNo | None = None
    running: Snapshot | None = None
