"""`ship --version` answered before the command tree loads, and help pages drawn by typer's
renderer loaded lean: the same text as ever, for less start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from shipper import __version__
from shipper.cli import app
from shipper.cli.lean_help import DEFERRED, asks_for_help

# `ship ARGS` through the console entry point; with FULL first, typer's help renderer is
# loaded as typer loads it (with Markdown and Traceback), so the lean path is skipped
MAIN = "import sys; from shipper.cli import main; sys.argv[0] = 'ship'; main()"
FULL = "import typer.rich_utils; " + MAIN


def _run(
    code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )


@pytest.mark.parametrize(
    "args",
    [(), ("--help",), ("-h",), ("deploy", "--help"), ("traffic", "--help"), ("lock",)],
    ids=["no-args", "help", "h", "deploy", "traffic", "lock-group"],
)
def test_help_pages_are_the_same_with_the_renderer_loaded_lean(args: tuple[str, ...]) -> None:
    """Every help page reads the same, colours included, as with typer's full renderer."""
    colour = {"FORCE_COLOR": "1"}
    lean, full = _run(MAIN, *args, env=colour), _run(FULL, *args, env=colour)
    assert lean.stdout == full.stdout and lean.stderr == full.stderr
    assert (lean.returncode, full.returncode) in ((0, 0), (2, 2))
    assert "Usage" in lean.stdout and "ship" in lean.stdout


def test_help_leaves_markdown_and_traceback_unloaded() -> None:
    """Drawing `ship --help` loads neither of the rich renderers it never draws."""
    done = _run(MAIN, "--help", env={"PYTHONPROFILEIMPORTTIME": "1"})
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "typer.rich_utils" in loaded
    assert loaded.isdisjoint(DEFERRED)


def test_version_is_answered_before_typer_loads() -> None:
    """`ship --version` and `ship -V` print the same line as typer's option, without
    importing typer or the command tree."""
    typer_says = CliRunner().invoke(app, ["--version"]).stdout
    for flag in ("--version", "-V"):
        done = _run(MAIN, flag, env={"PYTHONPROFILEIMPORTTIME": "1"})
        loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        assert done.returncode == 0
        assert done.stdout == typer_says == f"ship {__version__}\n"
        assert "typer" not in loaded and "shipper.cli.commands" not in loaded


def test_a_deferred_renderer_still_works_when_used() -> None:
    """A stand-in used after all (a markdown help text) builds the real rich class, and
    an `import rich.markdown` afterwards gets the real module."""
    code = (
        "from shipper.cli.lean_help import load_help_renderer; load_help_renderer(); "
        "import sys, typer.rich_utils as r; "
        "assert 'rich.markdown' not in sys.modules; "
        "md = r.Markdown('*x*'); import rich.markdown; "
        "assert isinstance(md, rich.markdown.Markdown), type(md); "
        "assert isinstance(md, r.Markdown); print('ok')"
    )
    done = _run(code)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    ("args", "wanted"),
    [([], True), (["--help"], True), (["deploy", "-h"], True), (["status"], False)],
)
def test_which_command_lines_ask_for_help(args: list[str], wanted: bool) -> None:
    """No arguments, -h and --help draw a help page; a command does not."""
    assert asks_for_help(args) is wanted
