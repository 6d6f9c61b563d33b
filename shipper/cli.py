"""The `ship` command. Thin: parse, wire adapters to the core, render, map errors to exit codes."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ship",
    help="Release one application to Heroku and Kubernetes at once, safely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def main() -> None:
    app()
