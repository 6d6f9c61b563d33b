"""Fixtures of the reliability suite: a tally per test, and a canaried sandbox whose
stand-ins are audited after every test for duplicate mutations and leaked secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.stage import Stage, start_stage
from tests.reliability.tally import Tally


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    counts = Tally()
    yield counts
    request.node.user_properties.append(counts.as_property())


@pytest.fixture
def stage(tmp_path: Path, tally: Tally) -> Iterator[Stage]:
    """A fresh sandbox (both sides at v1); afterwards no duplicate and no leak."""
    where = start_stage(tmp_path)
    try:
        yield where
        tally.faults += where.faults_fired()
        duplicates = where.duplicates()
        leaks = where.leaked()
        tally.duplicates += len(duplicates)
        tally.leaks += len(leaks)
        assert duplicates == [], f"duplicate mutations: {duplicates}"
        assert leaks == [], f"secrets leaked: {leaks}"
    finally:
        where.close()
