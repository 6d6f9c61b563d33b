from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.preflight.pg import Server, start


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real PostgreSQL server on loopback (max_connections 20, 3 reserved)."""
    yield from start(Path(tmp_path_factory.mktemp("pg")) / "server")
