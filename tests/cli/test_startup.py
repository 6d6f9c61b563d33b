"""`ship --help` and `ship --version` start without the heavy clients."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from shipper import cli

PROBE = (
    "import sys, shipper.cli; "
    "heavy = [m for m in ('httpx', 'kubernetes', 'rich.live', 'urllib3') if m in sys.modules]; "
    "print(','.join(heavy))"
)


def test_cli_import_loads_no_platform_client() -> None:
    """Importing the CLI (what --help and --version need) loads neither httpx nor kubernetes."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_internal_error_after_a_change_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    """A bug once something may have changed leaves the state unknown: exit 4."""

    class Changed:
        changed = True

    cli._Session.releaser = Changed()  # type: ignore[assignment]
    try:
        with pytest.raises(typer.Exit) as info, cli.reported():
            raise KeyError("bug")
    finally:
        cli._Session.releaser = None
    assert info.value.exit_code == 4
    assert "internal error" in capsys.readouterr().err
