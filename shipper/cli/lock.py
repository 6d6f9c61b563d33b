"""`ship lock acquire / release / show`: the pipeline lock, held by hand as a deploy freeze."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shipper.cli.common import load, wire
from shipper.cli.guard import err, reported
from shipper.cli.options import DebugOpt, ForceLockOpt, OutputOpt, PipelineOpt, mode_of
from shipper.errors import BadInput

lock_app = typer.Typer(
    help="The pipeline lock: look at it, or hold it by hand as a deploy freeze.",
    no_args_is_help=True,
)


@lock_app.command("acquire")
def lock_acquire(
    reason: Annotated[str, typer.Option("--reason", help="Why deploys are frozen.")],
    pipeline: PipelineOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Hold the lock by hand (a deploy freeze) until `ship lock release`."""
    with reported(debug):
        if not reason.strip():
            raise BadInput("--reason must say why deploys are frozen")
        loaded = load(pipeline, debug)
        from shipper.wiring import manual_holder

        wiring = wire(loaded)
        lease = wiring.lock().acquire(
            manual_holder(wiring.env), reason, None, force=force_lock, manual=True
        )
        taken = f" (took it over from {lease.took_over.holder})" if lease.took_over else ""
        err(
            f"ship: {loaded.name} is frozen by {lease.info.holder}: {reason}{taken}; "
            "`ship lock release` lifts it"
        )


@lock_app.command("release")
def lock_release(
    pipeline: PipelineOpt = None,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Lift someone else's freeze (recorded).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Lift the lock: your freeze, or a lock left by a dead process (--force: another's freeze)."""
    with reported(debug):
        loaded = load(pipeline, debug)
        from shipper.wiring import manual_holder

        wiring = wire(loaded)
        lock = wiring.lock()
        me = manual_holder(wiring.env)
        info = lock.show()
        theirs = info is not None and info.manual and info.holder.name != me.name
        if theirs and not force:
            assert info is not None
            raise BadInput(
                f'{loaded.name} is frozen by {info.holder} (reason: "{info.reason}"), not by '
                f"{me}; `ship lock release --force` lifts someone else's freeze (recorded)"
            )
        lifted = lock.release_any()
        if lifted is None:
            err(f"ship: {loaded.name} was not locked")
            return
        text = (
            f"released the lock of {loaded.name} held by {lifted.holder} "
            f'(reason: "{lifted.reason}")'
        )
        if lifted.manual and lifted.holder.name != me.name:
            text = f"{me} lifted the freeze of {loaded.name} by {lifted.holder} " + (
                f'(reason: "{lifted.reason}") with --force'
            )
            import logging

            logging.getLogger("ship.audit").warning(text)  # ship.log in the state folder
        err(f"ship: {text}")


@lock_app.command("show")
def lock_show(
    pipeline: PipelineOpt = None, output: OutputOpt = None, debug: DebugOpt = False
) -> None:
    """Who holds the lock, why, and since when."""
    with reported(debug):
        loaded = load(pipeline, debug)
        wiring = wire(loaded)
        info = wiring.lock().show()
        from shipper.report.status import render_lock

        render_lock(loaded.name, info, wiring.clock.now(), sys.stdout, mode_of(output))
