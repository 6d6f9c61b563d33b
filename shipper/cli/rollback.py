"""`ship rollback [--to N]`: both sides back to what ran before, as a release of its own."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shipper.cli.common import (
    check_freeze_override,
    confirm,
    duration,
    load,
    releaser_for,
    warn_unshared,
    wire,
)
from shipper.cli.guard import err, finish, reported
from shipper.cli.options import (
    DebugOpt,
    ForceLockOpt,
    LockWaitOpt,
    OutputOpt,
    PipelineOpt,
    ReasonOpt,
    YesOpt,
    mode_of,
)
from shipper.cli.signals import stop_on_signals
from shipper.errors import BadInput, ExitCode


def rollback(
    to: Annotated[
        int | None, typer.Option("--to", help="Return to what release N deployed.")
    ] = None,
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    yes: YesOpt = False,
    reason: ReasonOpt = "",
    force_lock: ForceLockOpt = False,
    lock_wait: LockWaitOpt = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", metavar="", help="Check only the rollouts' health after.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", metavar="", help="Print what would run again; change nothing."),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Return both sides to what ran before the latest release (or to what release N deployed)."""
    with reported(debug):
        loaded = load(pipeline, debug)
        wait = duration(lock_wait, "--lock-wait")
        if to is not None and to < 1:
            raise BadInput("--to takes a release number from `ship history`")
        mode = mode_of(output)
        wiring = wire(loaded)
        from shipper.core.model import ReleaseNo
        from shipper.core.rollback import plan_rollback

        if not dry_run:
            warn_unshared(loaded)
            if force_lock:
                check_freeze_override(wiring, reason)
        chosen = plan_rollback(wiring.ledger(), ReleaseNo(to) if to is not None else None)
        if dry_run:
            from shipper.report.plan import render_rollback_plan

            now = wiring.releaser([]).snapshot()
            render_rollback_plan(chosen, now, sys.stdout, mode)
            raise typer.Exit(ExitCode.OK)
        err(f"ship: {loaded.name}: will roll back both sides to {chosen.target_text}")
        confirm(chosen.question(), yes, mode)
        from shipper.core.run import RollbackRequest
        from shipper.wiring import me

        releaser = releaser_for(wiring, mode)
        request = RollbackRequest(
            holder=me(wiring.env),
            to=ReleaseNo(to) if to is not None else None,
            reason=reason,
            force_lock=force_lock,
            lock_wait_seconds=wait,
            verify=not no_verify,
        )
        with stop_on_signals(releaser):
            try:
                outcome = releaser.rollback(request)
            finally:
                releaser.ports.emitter.close()
        finish(outcome)
