"""Every bad pipeline file gets one line naming file, line and key, and exit 2.

The cases are data: each file in bad/ starts with `# expect: TEXT`, the text its one-line
error must contain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.errors import PipelineError
from shipper.pipeline import load_pipeline

BAD = sorted((Path(__file__).parent / "bad").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its # expect: line"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_gives_one_clear_line(path: Path) -> None:
    """The error is one line, names the file, and says what is wrong where."""
    with pytest.raises(PipelineError) as info:
        load_pipeline(path)
    message = str(info.value)
    assert "\n" not in message
    assert path.name in message
    assert expected(path) in message
    assert info.value.exit_code == 2


def test_there_are_at_least_twenty_bad_files() -> None:
    """The catalogue of bad files stays broad."""
    assert len(BAD) >= 20
