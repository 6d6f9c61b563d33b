"""`ship validate [--online]` and `ship preflight [VERSION]`: checks that change nothing."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from shipper.cli.common import load, version_of, wire
from shipper.cli.guard import reported
from shipper.cli.options import DebugOpt, OutputOpt, PipelineOpt, mode_of
from shipper.errors import ExitCode
from shipper.report.output import OutputMode

if TYPE_CHECKING:
    from shipper.core.model import Version
    from shipper.wiring import Wiring


def validate(
    pipeline: PipelineOpt = None,
    online: Annotated[
        bool, typer.Option("--online", metavar="", help="Also reach every target, read-only.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check the pipeline file (and, with --online, that every target answers)."""
    with reported(debug):
        from shipper.core.model import Side
        from shipper.pipeline import display_path, resolve_pipeline_path

        path = resolve_pipeline_path(pipeline)
        loaded = load(pipeline, debug)
        sides = [s.value for s in Side if getattr(loaded, s.value) is not None]
        typer.echo(f"{display_path(path)}: valid pipeline {loaded.name} ({', '.join(sides)})")
        from shipper.state.shared import in_ci, unshared_warning

        shared = unshared_warning(loaded, os.environ, ci=False)
        if shared:
            prefix = "warning" if in_ci(os.environ) else "note"
            typer.echo(f"{display_path(path)}: {prefix}: {shared}")
        if not online:
            return
        from shipper.inspection import reach_everything

        wiring = wire(loaded)
        problems = reach_everything(wiring, say=typer.echo)
        if problems:
            raise typer.Exit(ExitCode.FAILED)
        code = run_preflight(wiring, None, OutputMode.HUMAN)
        if code:
            raise typer.Exit(code)


def preflight(
    version: Annotated[
        str | None, typer.Argument(help="The version about to ship (default: what runs).")
    ] = None,
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The preflight checks alone, read-only: a table (or JSON lines); exit 3 on a block."""
    with reported(debug):
        loaded = load(pipeline, debug)
        wiring = wire(loaded)
        wanted = version_of(loaded, version) if version else None
        raise typer.Exit(run_preflight(wiring, wanted, mode_of(output)))


def run_preflight(wiring: Wiring, version: Version | None, mode: OutputMode) -> ExitCode:
    """Run and print the preflight; BLOCKED when a finding blocks, else OK."""
    from shipper.preflight.command import preflight as run
    from shipper.report.preflight import render_preflight

    result = run(wiring, version)
    render_preflight(wiring.pipeline.name, result, sys.stdout, mode, wiring.clock.now())
    return ExitCode.BLOCKED if result.blocks else ExitCode.OK
