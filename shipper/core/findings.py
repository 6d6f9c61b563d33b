"""What a read-only look before any change finds: preflight findings with their
severity, and whether a check could reach what it measures (`Probe`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shipper.core.target import JSONDict, Target


class Severity(enum.StrEnum):
    """How much a preflight finding weighs: BLOCK stops the release before any change,
    WARN is said and recorded, INFO is a figure worth seeing (never a problem)."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing a preflight found about a target (or a whole side when `target` is None).

    `check` names the rule (`paused`, `gitops`, `permissions`), `message` says what was
    found and how to fix it, in one line. `table` is the arithmetic behind it, when it has
    some: a header row, then one row per line (strings, shown as a small table)."""

    target: Target | None
    check: str
    severity: Severity
    message: str
    table: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> JSONDict:
        out: JSONDict = {
            "target": self.target.key if self.target else None,
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.table:
            out["table"] = [list(row) for row in self.table]
        return out


@dataclass(frozen=True)
class Probe:
    """One read-only try of a check before any change: did it reach what it measures?

    `where` is the URL (without credentials or query string) or the query, for people;
    `reached` False means no connection at all (refused, DNS, TLS, timeout connecting);
    `ok` False with `reached` True means it answered, but not usably (a 401, a bad query).
    """

    reached: bool
    ok: bool
    where: str
    answer: str
