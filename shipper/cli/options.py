"""Options that several commands share, spelled once, and the output mode they choose."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shipper.report.output import OutputMode

PipelineOpt = Annotated[
    str | None,
    typer.Option(
        "--pipeline",
        "-p",
        envvar="SHIP_PIPELINE",
        help="Pipeline name (pipelines/NAME.yaml) or path; default: $SHIP_PIPELINE.",
        show_envvar=False,
    ),
]
OutputOpt = Annotated[
    OutputMode | None,
    typer.Option("--output", "-o", help="human or json (default: human on a terminal)."),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", metavar="", help="Do not ask for confirmation.")
]
DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug", metavar="", help="Adapter logs and tracebacks on stderr, not ship.log."
    ),
]
ForceLockOpt = Annotated[
    bool,
    typer.Option("--force-lock", metavar="", help="Take the lock over from its holder (recorded)."),
]
LockWaitOpt = Annotated[
    str | None,
    typer.Option("--lock-wait", metavar="DURATION", help="Wait this long for a held lock."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
RolloutWaitOpt = Annotated[
    str | None,
    typer.Option(
        "--rollout-wait",
        metavar="DURATION",
        help="Wait this long for a workload's unfinished rollout (kubernetes.rollout_wait).",
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", metavar="", help="Print the plan only.")]


def mode_of(output: OutputMode | None) -> OutputMode:
    """The mode asked for, else human on a terminal and json otherwise."""
    if output is not None:
        return output
    return OutputMode.HUMAN if sys.stdout.isatty() else OutputMode.JSON
