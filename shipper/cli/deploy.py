"""`ship deploy VERSION` and `ship migrate VERSION`: one release flow, two entry points."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated

import typer

from shipper.cli.common import (
    check_freeze_override,
    commit_of,
    confirm,
    duration,
    load,
    releaser_for,
    version_of,
    warn_unshared,
    wire,
)
from shipper.cli.guard import finish, reported
from shipper.cli.options import (
    DebugOpt,
    DryRunOpt,
    ForceLockOpt,
    LockWaitOpt,
    OutputOpt,
    PipelineOpt,
    ReasonOpt,
    RolloutWaitOpt,
    YesOpt,
    mode_of,
)
from shipper.cli.signals import stop_on_signals
from shipper.errors import BadInput, ExitCode
from shipper.report.output import OutputMode


@dataclass(frozen=True)
class ReleaseOptions:
    """What `ship deploy` or `ship migrate` was asked, as typed on the command line."""

    version: str
    pipeline: str | None
    output: OutputMode | None
    yes: bool = False
    migrations: bool | None = None  # None: detect from git
    skip_status_gate: bool = False
    reason: str = ""
    force_lock: bool = False
    lock_wait: str | None = None
    dry_run: bool = False
    force: bool = False
    debug: bool = False
    migrations_only: bool = False
    rollout_wait: str | None = None


def deploy(
    version: Annotated[str, typer.Argument(help="The version to ship (a git tag or sha).")],
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    yes: YesOpt = False,
    migrations: Annotated[
        bool | None,
        typer.Option(
            "--migrations/--no-migrations",
            metavar="",
            help="Whether the version brings migrations (default: git diff).",
        ),
    ] = None,
    skip_status_gate: Annotated[
        bool,
        typer.Option("--skip-status-gate", metavar="", help="Ship despite the platform status."),
    ] = False,
    reason: ReasonOpt = "",
    force_lock: ForceLockOpt = False,
    lock_wait: LockWaitOpt = None,
    dry_run: DryRunOpt = False,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Deploy even if the version already runs.")
    ] = False,
    debug: DebugOpt = False,
    rollout_wait: RolloutWaitOpt = None,
) -> None:
    """Ship VERSION to every Heroku app and Kubernetes workload, migrations first."""
    release(
        ReleaseOptions(
            version=version,
            pipeline=pipeline,
            output=output,
            yes=yes,
            migrations=migrations,
            skip_status_gate=skip_status_gate,
            reason=reason,
            force_lock=force_lock,
            lock_wait=lock_wait,
            dry_run=dry_run,
            force=force,
            debug=debug,
            rollout_wait=rollout_wait,
        )
    )


def migrate(
    version: Annotated[str, typer.Argument(help="The version whose migrations to run.")],
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    yes: YesOpt = False,
    skip_status_gate: Annotated[
        bool,
        typer.Option("--skip-status-gate", metavar="", help="Run despite the platform status."),
    ] = False,
    reason: ReasonOpt = "",
    force_lock: ForceLockOpt = False,
    lock_wait: LockWaitOpt = None,
    dry_run: DryRunOpt = False,
    debug: DebugOpt = False,
    rollout_wait: RolloutWaitOpt = None,
) -> None:
    """Run the migration release of VERSION alone, ahead of its code."""
    release(
        ReleaseOptions(
            version=version,
            pipeline=pipeline,
            output=output,
            yes=yes,
            migrations=True,
            skip_status_gate=skip_status_gate,
            reason=reason,
            force_lock=force_lock,
            lock_wait=lock_wait,
            dry_run=dry_run,
            debug=debug,
            migrations_only=True,
            rollout_wait=rollout_wait,
        )
    )


def release(asked: ReleaseOptions) -> None:
    """Check the input, print the plan (--dry-run) or confirm, then run the release."""
    with reported(asked.debug):
        pipeline = load(asked.pipeline, asked.debug)
        if asked.rollout_wait is not None:  # this run only, over kubernetes.rollout_wait
            pipeline = pipeline.with_rollout_wait(duration(asked.rollout_wait, "--rollout-wait"))
        version = version_of(pipeline, asked.version)
        if asked.skip_status_gate and not asked.reason.strip():
            raise BadInput("--skip-status-gate needs --reason TEXT (it is recorded)")
        wait = duration(asked.lock_wait, "--lock-wait")
        mode = mode_of(asked.output)
        wiring = wire(pipeline)
        if not asked.dry_run:
            warn_unshared(pipeline)
            if asked.force_lock:
                check_freeze_override(wiring, asked.reason)
        if asked.dry_run:
            from shipper.report.factory import render_plan

            plan = wiring.releaser([]).plan(version, asked.migrations, commit_of(version))
            render_plan(plan, sys.stdout, mode, pipeline=pipeline)
            raise typer.Exit(ExitCode.OK)
        what = "the migrations of" if asked.migrations_only else "deploy"
        confirm(f"{what} {version} to {pipeline.name} (both sides)?", asked.yes, mode)
        from shipper.core.run import DeployRequest
        from shipper.wiring import me

        releaser = releaser_for(wiring, mode)
        request = DeployRequest(
            version=version,
            commit=commit_of(version),
            holder=me(wiring.env),
            reason=asked.reason,
            migrations=asked.migrations,
            skip_gate_reason=asked.reason if asked.skip_status_gate else "",
            force_lock=asked.force_lock,
            lock_wait_seconds=wait,
            force=asked.force,
            migrations_only=asked.migrations_only,
        )
        with stop_on_signals(releaser):
            try:
                outcome = releaser.deploy(request)
            finally:
                releaser.ports.emitter.close()
        finish(outcome)
