"""Version skew: the two sides (or two targets of one side) running different versions.

During a migration off Heroku, skew is the thing on-call most needs to notice: one side
quietly left on last week's version after a failed rollback. It is measured here, purely,
so `ship status` can highlight it in words and in JSON alike, with how far apart the
versions are (in ledger releases and in time when the ledger knows, else by the numbers
in the version strings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shipper.core.model import JSONDict, Release, ReleaseKind, ReleaseState, TargetState
from shipper.report import fmt

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class Skew:
    """Which versions run where, and how far apart they are (None when it cannot be told)."""

    by_side: dict[str, list[str]]  # side -> distinct versions, sorted ("?" for unknown)
    between_sides: bool
    within: list[str]  # sides whose own targets disagree
    releases_apart: int | None
    seconds_apart: float | None
    numbers_apart: int | None
    oldest: str | None
    newest: str | None

    @property
    def describe(self) -> str:
        """One sentence: `heroku runs v41, kubernetes runs v42: 3 releases (2h10m) apart`."""
        runs = ", ".join(f"{side} runs {' and '.join(v)}" for side, v in self.by_side.items())
        how = self.distance()
        return f"{runs}: {how}" if how else runs

    def distance(self) -> str:
        if self.releases_apart is not None:
            unit = "release" if self.releases_apart == 1 else "releases"
            when = f" ({fmt.duration(self.seconds_apart)})" if self.seconds_apart else ""
            return f"{self.releases_apart} {unit}{when} apart"
        if self.numbers_apart is not None:
            unit = "version" if self.numbers_apart == 1 else "versions"
            return f"{self.numbers_apart} {unit} apart"
        return "versions differ" if self.oldest != self.newest else ""

    def to_json(self) -> JSONDict:
        return {
            "between_sides": self.between_sides,
            "within_sides": list(self.within),
            "versions": {side: list(v) for side, v in self.by_side.items()},
            "releases_apart": self.releases_apart,
            "seconds_apart": self.seconds_apart,
            "numbers_apart": self.numbers_apart,
            "oldest": self.oldest,
            "newest": self.newest,
            "summary": self.describe,
        }


def measure_skew(targets: Sequence[TargetState], releases: Sequence[Release] = ()) -> Skew | None:
    """The skew among `targets`, or None when every target runs the same version."""
    by_side: dict[str, set[str]] = {}
    for state in targets:
        by_side.setdefault(state.target.side.value, set()).add(fmt.version(state.version))
    every = set().union(*by_side.values()) if by_side else set()
    if len(every) <= 1:
        return None
    within = [side for side, versions in by_side.items() if len(versions) > 1]
    between = len({frozenset(v) for v in by_side.values()}) > 1
    known = sorted(v for v in every if v != "?")
    shipped = _shipped(releases)
    oldest, newest, releases_apart, seconds_apart = _by_ledger(known, shipped)
    numbers_apart = None
    if releases_apart is None and len(known) == 2:
        numbers_apart = _by_numbers(known[0], known[1])
        if numbers_apart is not None:
            oldest, newest = sorted(known, key=lambda v: _number(v) or 0)
    return Skew(
        by_side={side: sorted(v) for side, v in sorted(by_side.items())},
        between_sides=between,
        within=sorted(within),
        releases_apart=releases_apart,
        seconds_apart=seconds_apart,
        numbers_apart=numbers_apart,
        oldest=oldest,
        newest=newest,
    )


def _shipped(releases: Sequence[Release]) -> dict[str, Release]:
    """Version -> the newest release that put it in place."""
    out: dict[str, Release] = {}
    for release in sorted(releases, key=lambda r: r.number):
        if release.kind is ReleaseKind.MIGRATION:
            continue
        # A rollback's version is the one it restored: it put that version in place too.
        if release.state in (ReleaseState.SUCCEEDED, ReleaseState.UNCHANGED):
            out[release.version] = release
    return out


def _by_ledger(
    known: list[str], shipped: dict[str, Release]
) -> tuple[str | None, str | None, int | None, float | None]:
    found = [shipped[v] for v in known if v in shipped]
    if len(found) != len(known) or len(found) < 2:
        return None, None, None, None
    found.sort(key=lambda r: r.number)
    first, last = found[0], found[-1]
    code_between = [
        n for n in (r.number for r in shipped.values()) if first.number < n <= last.number
    ]
    seconds = (last.started_at - first.started_at).total_seconds()
    return first.version, last.version, len(code_between), seconds


def _number(version: str) -> int | None:
    match = _TRAILING_NUMBER.match(version)
    return int(match.group(2)) if match else None


def _by_numbers(a: str, b: str) -> int | None:
    ma, mb = _TRAILING_NUMBER.match(a), _TRAILING_NUMBER.match(b)
    if not ma or not mb or ma.group(1) != mb.group(1):
        return None
    return abs(int(ma.group(2)) - int(mb.group(2)))
