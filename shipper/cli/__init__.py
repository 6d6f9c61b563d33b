"""The `ship` command. Thin: parse, wire adapters to the core, render, map errors to exit codes.

`main` is the console entry point. It answers `ship --version` itself, before typer and
the command tree (`commands.py`) are imported: a version check, the most frequent call a
script makes, then costs little more than the interpreter's own start. Everything else
goes through the tree; a help page is drawn by typer's renderer, loaded lean
(lean_help.py). The guard (guard.py), signals (signals.py) and the fast exit
(fast_exit.py) each live in one place.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from shipper import __version__
from shipper.cli.fast_exit import leave
from shipper.cli.lean_help import asks_for_help, load_help_renderer
from shipper.errors import ExitCode

if TYPE_CHECKING:
    import typer

VERSION_FLAGS = (["--version"], ["-V"])


def version_line() -> str:
    """What `ship --version` prints, whichever way it is asked."""
    return f"ship {__version__}"


def main() -> None:
    """Console entry point. A finished command leaves through `leave`, not the
    interpreter's teardown."""
    args = sys.argv[1:]
    if args in VERSION_FLAGS:
        print(version_line())
        leave(ExitCode.OK)
    if asks_for_help(args):
        load_help_renderer()
    from shipper.cli.commands import app

    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, int | None):
            leave(done.code or ExitCode.OK)
        raise


def __getattr__(name: str) -> typer.Typer:
    """`shipper.cli.app`, the typer application, built on first use (tests drive it)."""
    if name == "app":
        from shipper.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
