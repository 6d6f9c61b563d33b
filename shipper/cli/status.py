"""`ship status` (what runs where now) and `ship history` (the ledger): read-only."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shipper.cli.common import load, wire
from shipper.cli.guard import err, reported
from shipper.cli.options import DebugOpt, OutputOpt, PipelineOpt, mode_of
from shipper.errors import BadInput


def status(
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """What runs where now: both sides, the skew, the lock, the platform, a release in progress.

    Exits like `kubectl rollout status`: 0 every target readable, healthy, on one version;
    1 something unhealthy or skewed; 4 a side can't be read."""
    with reported(debug):
        loaded = load(pipeline, debug)
        wiring = wire(loaded)
        from shipper.inspection import read_status

        view = read_status(wiring, warn=err)
        from shipper.report.factory import render_status

        render_status(view, sys.stdout, mode_of(output))
        raise typer.Exit(view.exit_code)


def history(
    number: Annotated[int | None, typer.Argument(help="Show one release with its events.")] = None,
    limit: Annotated[int, typer.Option("-n", "--limit", help="How many releases.")] = 20,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail", metavar="", help="With --output json: each target's full platform record."
        ),
    ] = False,
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The ledger, newest first (JSON lines when piped)."""
    with reported(debug):
        loaded = load(pipeline, debug)
        ledger = wire(loaded).ledger()
        mode = mode_of(output)
        from shipper.report.factory import render_history, render_release

        if number is None:
            render_history(ledger.releases(limit=max(1, limit)), sys.stdout, mode, detail=detail)
            return
        from shipper.core.model import ReleaseNo

        release = ledger.get(ReleaseNo(number))
        if release is None:
            raise BadInput(f"there is no release {number} in the ledger of {loaded.name}")
        render_release(release, ledger.entries(release.number), sys.stdout, mode, detail=detail)
