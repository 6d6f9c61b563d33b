"""ship's exit codes and error tree.

`ExitCode` is the one source of DESIGN.md's exit codes: errors, the core's outcomes and the
CLI all name a member, never an integer. Every expected failure is a `ShipError` whose
`str()` is one line: what happened, where, and what to do next; its class carries its exit
code, so the CLI maps an error to its code in one place. Anything else is a bug.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """DESIGN.md's exit codes (contract)."""

    OK = 0  # done; everything runs the requested version
    FAILED = 1  # failed; rolled back and healthy (or nothing had changed yet)
    BAD_INPUT = 2  # usage, pipeline file, version string, configuration found before a change
    BLOCKED = 3  # blocked, nothing changed: platform status, lock held, preflight
    OPERATOR = 4  # rollback failed or state unknown: a person must act
    INTERRUPTED = 130  # SIGINT or SIGTERM; the ledger says where it stopped


class ShipError(Exception):
    """An outcome the operator can act on. str(exc) is one line: what, where, next step."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED


# --- exit 1: failed; both sides rolled back and healthy (or nothing had changed yet) ---


class PlatformError(ShipError):
    """A platform refused or failed an operation (the base of adapter errors)."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or answered 429/5xx: retryable."""


class PlatformRejected(PlatformError):
    """The platform answered with a definite refusal (4xx other than 429)."""


class PlatformAuthError(PlatformRejected):
    """Credentials were missing, wrong or insufficient: configuration, so exit 2 when
    found before any change (the CLI makes it 4 once something had changed, and inside a
    release a side's refusal is that side's failure, rolled back like any other)."""

    exit_code = ExitCode.BAD_INPUT


class PlatformNotFound(PlatformRejected):
    """The app, release, workload or object does not exist."""


class MalformedAnswer(PlatformError):
    """The platform answered something ship cannot read."""


# --- exit 2: bad input ---


class BadInput(ShipError):
    """Usage, pipeline file or version string is wrong. Nothing was touched."""

    exit_code = ExitCode.BAD_INPUT


class PipelineError(BadInput):
    """The pipeline file is wrong: message is `file:line: key: what`."""


class BadVersion(BadInput):
    """The version string is not acceptable."""


class MigrationsUndecided(BadInput):
    """ship cannot tell whether the version brings migrations and will not guess."""


# --- exit 3: blocked, nothing changed ---


class Blocked(ShipError):
    """ship refused to start (or to continue) without changing anything."""

    exit_code = ExitCode.BLOCKED


class LockHeld(Blocked):
    """Somebody else holds the pipeline's lock."""


class LockLost(Blocked):
    """This process lost the lock to somebody else and stopped changing things (fencing)."""


class ReleaseInProgress(Blocked):
    """An unfinished release of another version must be finished or rolled back first."""


# --- exit 4: a person must act ---


class NeedsOperator(ShipError):
    """State is unknown or a rollback failed: the message says what runs where."""

    exit_code = ExitCode.OPERATOR


class LedgerError(NeedsOperator):
    """The ledger cannot be read or written; it is never reset silently."""


class StateDirUnusable(LedgerError):
    """The state directory (or ledger.path) can't be created or written: configuration
    found before any change, so exit 2, with the setting that fixes it named."""

    exit_code = ExitCode.BAD_INPUT


# --- exit 130 ---


class Interrupted(ShipError):
    """SIGINT or SIGTERM: ship stopped changing things and recorded where it stopped."""

    exit_code = ExitCode.INTERRUPTED
