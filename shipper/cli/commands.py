"""The `ship` command tree: one command group per module (deploy.py: deploy and migrate;
rollback.py; status.py: status and history; lock.py; validate.py: validate and preflight;
traffic and sandbox from their own packages) under the top-level options.

Building it imports typer and every command module, but nothing a command needs only
when it runs: heavy imports (httpx, kubernetes, rich's live view, the pipeline schema) are
inside the commands, so `ship --help` pays only for the tree.
"""

from __future__ import annotations

from typing import Annotated

import typer

from shipper.cli import deploy, rollback, status, validate, version_line
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
        typer.echo(version_line())
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


__all__ = ["app"]
