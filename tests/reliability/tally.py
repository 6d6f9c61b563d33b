"""The reliability suite's figures: what each test injected, attempted and found.

Each test's `Tally` rides on its teardown report as a user property, so the figures
reach the process that prints the summary even when pytest-xdist runs the tests in
workers. The hooks at the bottom add them up and print one line at the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

PROPERTY = "reliability_tally"


@dataclass
class Tally:
    """Counts for one test (or, summed, for the whole suite)."""

    faults: int = 0
    attempted: int = 0
    converged: int = 0
    duplicates: int = 0
    leaks: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_property(self) -> tuple[str, dict[str, int]]:
        return (PROPERTY, asdict(self))

    def line(self) -> str:
        return (
            f"reliability: {self.faults} faults injected, {self.attempted} releases attempted, "
            f"{self.converged} releases converged, {self.duplicates} duplicate mutations found, "
            f"{self.leaks} secrets leaked"
        )


_TOTAL = Tally()
_SEEN = [False]


def pytest_runtest_logreport(report: Any) -> None:
    """Add up the tallies carried by teardown reports (they hold the whole test's)."""
    if report.when != "teardown":
        return
    for name, value in getattr(report, "user_properties", ()):
        if name == PROPERTY and isinstance(value, dict):
            _TOTAL.add(Tally(**value))
            _SEEN[0] = True


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the suite's one summary line when any reliability test ran."""
    if _SEEN[0]:
        terminalreporter.write_sep("-", "reliability summary")
        terminalreporter.write_line(_TOTAL.line())
