"""`ship --help` and `ship --version` start without the heavy clients."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer

from shipper import cli
from shipper.cli import guard

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

    guard.Session.releaser = Changed()  # type: ignore[assignment]  # only .changed is read here
    try:
        with pytest.raises(typer.Exit) as info, guard.reported():
            raise KeyError("bug")
    finally:
        guard.Session.releaser = None
    assert info.value.exit_code == 4
    assert "internal error" in capsys.readouterr().err


class _Left(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _capture_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exit(code: int) -> None:
        raise _Left(code)

    monkeypatch.setattr(os, "_exit", fake_exit)  # the os module fast_exit leaves through


def test_a_finished_command_leaves_at_once_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main` skips the interpreter's teardown, after the output is out, code intact."""
    _capture_exit(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["ship", "--version"])
    with pytest.raises(_Left) as left:
        cli.main()
    assert left.value.code == 0
    assert capsys.readouterr().out.startswith("ship ")
    monkeypatch.setattr(sys, "argv", ["ship", "deploy"])  # missing argument: usage error
    with pytest.raises(_Left) as left:
        cli.main()
    assert left.value.code == 2


def test_work_still_running_in_a_thread_is_waited_for_before_leaving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A non-daemon thread still working when the command ends is finished first, as the
    interpreter's own exit would: it is not cut off."""
    import threading
    import time

    _capture_exit(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["ship", "--version"])
    finished: list[bool] = []

    def finish_later() -> None:
        time.sleep(0.3)
        finished.append(True)

    worker = threading.Thread(target=finish_later)
    worker.start()
    with pytest.raises(_Left) as left:
        cli.main()
    assert left.value.code == 0
    assert finished == [True]
