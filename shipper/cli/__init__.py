"""The `ship` command. Thin: parse, wire adapters to the core, render, map errors to exit codes.

This module builds the command tree, one command group per module (deploy.py: deploy and
migrate; rollback.py; status.py: status and history; lock.py; validate.py: validate and
preflight; traffic and sandbox from their own packages), and `main`, the console entry
point. The guard (guard.py), signals (signals.py) and the fast exit (leave.py) each live in
one place. Heavy imports happen inside the commands, so `ship --help` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from shipper import __version__
from shipper.cli import deploy, rollback, status, validate
from shipper.cli.fast_exit import leave
from shipper.cli.lock import lock_app
from shipper.errors import ExitCode
from shipper.sandbox.cli import sandbox_app
from shipper.traffic.cli import traffic_app

app = typer.Typer(
    name="ship",
    help="Release one application to Heroku and Kubernetes at once, safely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion
    context_settings={"help_option_names": ["-h", "--help"]},
)
for command in (
    deploy.deploy,
    deploy.migrate,
    rollback.rollback,
    status.status,
    status.history,
    validate.validate,
    validate.preflight,
):
    app.command()(command)
app.add_typer(lock_app, name="lock")
app.add_typer(traffic_app, name="traffic")
app.add_typer(sandbox_app, name="sandbox")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ship {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            metavar="",
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Release one application to Heroku and Kubernetes at once, safely.

    Exit codes: 0 done; 1 failed and rolled back (or nothing changed); 2 bad input;
    3 blocked, nothing changed; 4 a person must act; 130 interrupted.
    """


def main() -> None:
    """Console entry point. A finished command leaves through `leave`, not the
    interpreter's teardown."""
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, int | None):
            leave(done.code or ExitCode.OK)
        raise


__all__ = ["app", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
