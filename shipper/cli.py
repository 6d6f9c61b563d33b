"""The `ship` command. Thin: parse, wire adapters to the core, render, map errors to exit codes.

Heavy imports (httpx, kubernetes, rich's live display) happen inside the commands that
need them, so `ship --help` and `ship --version` start fast.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from shipper import __version__
from shipper.errors import BadInput, BadVersion, ExitCode, ShipError
from shipper.redact import Redactor
from shipper.traffic.cli import traffic_app

if TYPE_CHECKING:
    from shipper.core.model import Version
    from shipper.core.run import Outcome, Releaser
    from shipper.pipeline import Pipeline
    from shipper.wiring import Wiring

app = typer.Typer(
    name="ship",
    help="Release one application to Heroku and Kubernetes at once, safely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion
    context_settings={"help_option_names": ["-h", "--help"]},
)
lock_app = typer.Typer(
    help="The pipeline lock: look at it, or hold it by hand as a deploy freeze.",
    no_args_is_help=True,
)
app.add_typer(lock_app, name="lock")
app.add_typer(traffic_app, name="traffic")


def _mount_sandbox() -> None:
    from shipper.sandbox.cli import sandbox_app

    app.add_typer(sandbox_app, name="sandbox")


_mount_sandbox()


class Output(StrEnum):
    human = "human"
    json = "json"


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
    Output | None,
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


# --- the guard around every command ---------------------------------------------------


class _Session:
    """Process-wide facts the guard needs: where crash reports go, what to redact, and
    whether anything may have changed (an internal error then exits 4, not 1)."""

    redactor = Redactor(os.environ)
    releaser: Releaser | None = None
    state_dir: Path | None = None


def _one_line(text: str) -> str:
    """Escape what a terminal or `splitlines` would break the line at (a YAML key or a
    version may hold control characters): every message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _err(line: str) -> None:
    sys.stderr.write(_one_line(_Session.redactor.clean(line)) + "\n")
    sys.stderr.flush()


@contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Turn a ShipError into one stderr line plus its exit code. Anything else is a bug:
    its traceback goes to a crash file, never to the terminal."""
    try:
        yield
    except typer.Exit:
        raise
    except ShipError as exc:
        _err(f"ship: {exc}")
        changed = _Session.releaser is not None and _Session.releaser.changed
        # bad configuration found after a change is no longer "nothing happened"
        code = exc.exit_code
        raise typer.Exit(
            ExitCode.OPERATOR if changed and code == ExitCode.BAD_INPUT else code
        ) from None
    except KeyboardInterrupt:
        if _began():
            _err("ship: interrupted; `ship status` shows where it stopped")
        else:
            _err("ship: interrupted before any release began; nothing was changed")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except Exception as exc:
        if debug:
            raise
        path = _crash_report(exc)
        changed = _Session.releaser is not None and _Session.releaser.changed
        _err(f"ship: internal error ({type(exc).__name__}); details in {path}; please report it")
        raise typer.Exit(ExitCode.OPERATOR if changed else ExitCode.FAILED) from None


def _began() -> bool:
    """Whether this command opened a release in the ledger (so it has a place to stop at)."""
    releaser = _Session.releaser
    return releaser is not None and releaser.ports.emitter.release is not None


def _crash_report(exc: BaseException) -> str:
    import tempfile
    import time
    import traceback

    text = "".join(traceback.format_exception(exc))  # no local variables, ever
    text = _Session.redactor.clean(text)
    folder = _Session.state_dir or Path(tempfile.gettempdir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ship-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
        path.write_text(f"ship {__version__}\n{text}", encoding="utf-8")
        return str(path)
    except OSError:
        return "(could not write a crash file)"


def _finish(outcome: Outcome) -> NoReturn:
    _err(f"ship: {outcome.message}")
    raise typer.Exit(outcome.exit_code)


# --- shared steps ---------------------------------------------------------------------


class _RedactingFilter:
    """Scrubs secret values from log records before any handler writes them."""

    def filter(self, record: object) -> bool:
        import logging

        if isinstance(record, logging.LogRecord):
            record.msg = _Session.redactor.clean(record.getMessage())
            record.args = None
        return True


def _configure_logging(folder: Path, debug: bool) -> None:
    """Adapters log retries and request ids; that detail goes to `ship.log` in the state
    folder (or stderr with --debug), never as noise on an operator's terminal."""
    import logging

    root = logging.getLogger()
    if getattr(root, "_ship_configured", False):
        return
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    handler: logging.Handler
    if debug:
        handler = logging.StreamHandler(sys.stderr)
    else:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(folder / "ship.log", encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    )
    root.addHandler(handler)
    for noisy in ("urllib3", "httpx", "httpcore", "kubernetes"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._ship_configured = True  # type: ignore[attr-defined]


def _load(pipeline: str | None, debug: bool = False) -> Pipeline:
    from shipper.pipeline import load_pipeline, resolve_pipeline_path
    from shipper.state.paths import state_dir

    loaded = load_pipeline(resolve_pipeline_path(pipeline))
    _Session.state_dir = state_dir(os.environ)
    _configure_logging(_Session.state_dir, debug)
    if loaded.notify.slack is not None:
        _Session.redactor.add_env(loaded.notify.slack.webhook_url_env)
    for spec in loaded.verify.checks:
        if spec.prometheus is not None and spec.prometheus.auth is not None:
            auth = spec.prometheus.auth
            for name in (auth.bearer_token_env, auth.username_env, auth.password_env):
                if name:
                    _Session.redactor.add_env(name)
    return loaded


def _mode(output: Output | None) -> str:
    if output is not None:
        return output.value
    return "human" if sys.stdout.isatty() else "json"


def _version(pipeline: Pipeline, raw: str) -> Version:
    checked = pipeline.policy().check_version(raw)
    if checked != raw:  # anything but the version itself is the reason it was refused
        raise BadVersion(f"bad version: {checked}")
    from shipper.core.model import Version

    return Version(raw)


def _duration(raw: str | None, flag: str) -> float:
    if raw is None:
        return 0.0
    from shipper.pipeline import parse_duration

    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise BadInput(f"{flag}: {exc}") from None


def _warn_unshared(pipeline: Pipeline) -> None:
    """In CI, a ledger or lock kept on the runner is said once, with the fix (on GitHub
    Actions as a warning annotation, so it shows on the run's page)."""
    from shipper.state.shared import unshared_warning

    warning = unshared_warning(pipeline, os.environ, ci=True)
    if not warning:
        return
    if os.environ.get("GITHUB_ACTIONS", "").lower() == "true":
        _err(f"::warning title=ship: ledger not shared::{warning}")
    else:
        _err(f"ship: warning: {warning}")


def _check_freeze_override(wiring: Wiring, reason: str) -> None:
    """--force-lock over a deploy freeze needs --reason: the override is recorded (the
    release's reason, and the takeover in its events) and the freeze is put back after."""
    info = wiring.lock().show()
    if info is not None and info.manual and not reason.strip():
        raise BadInput(
            f'{wiring.pipeline.name} is frozen by {info.holder} (reason: "{info.reason}"); '
            "--force-lock over a freeze needs --reason TEXT (recorded; the freeze is put back "
            "afterwards)"
        )


def _wire(pipeline: Pipeline) -> Wiring:
    from shipper.wiring import wire

    return wire(pipeline)


def _releaser(wiring: Wiring, mode: str) -> Releaser:
    from shipper.report.factory import build_sinks, human_stream

    human = human_stream(mode, stdout=sys.stdout, stderr=sys.stderr)  # type: ignore[arg-type]
    sinks = build_sinks(
        mode,  # type: ignore[arg-type]
        pipeline=wiring.pipeline,
        env=wiring.env,
        stdout=sys.stdout,
        stderr=sys.stderr,
        is_tty=human.isatty(),
        redact=_Session.redactor.clean,
    )
    releaser = wiring.releaser(sinks)
    _Session.releaser = releaser
    return releaser


def _confirm(question: str, yes: bool, mode: str) -> None:
    from shipper.report.factory import confirm

    interactive = mode == "human" and sys.stdin.isatty() and sys.stderr.isatty()
    if not confirm(
        question, assume_yes=yes, is_tty=interactive, stdin=sys.stdin, stderr=sys.stderr
    ):
        _err("ship: not confirmed; nothing was changed")
        raise typer.Exit(ExitCode.FAILED)


@contextmanager
def _signals(releaser: Releaser) -> Iterator[None]:
    """SIGINT and SIGTERM ask the release to stop changing things and record where it
    stopped; a second SIGINT stops at once. Before a release began (waiting for the lock,
    reading what runs) there is nothing to record: they stop at once, exit 130."""
    seen = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        if not _began() or (seen > 1 and signum == signal.SIGINT):
            raise KeyboardInterrupt
        _err("ship: stopping: no new changes; recording where the release stopped")
        releaser.interrupt()

    old = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# --- commands -------------------------------------------------------------------------


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


@app.command()
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Print the plan only.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Deploy even if the version already runs.")
    ] = False,
    debug: DebugOpt = False,
    rollout_wait: RolloutWaitOpt = None,
) -> None:
    """Ship VERSION to every Heroku app and Kubernetes workload, migrations first."""
    _release(
        version,
        pipeline,
        output,
        yes,
        migrations,
        skip_status_gate,
        reason,
        force_lock,
        lock_wait,
        dry_run,
        force,
        debug,
        migrations_only=False,
        rollout_wait=rollout_wait,
    )


@app.command()
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Print the plan only.")
    ] = False,
    debug: DebugOpt = False,
    rollout_wait: RolloutWaitOpt = None,
) -> None:
    """Run the migration release of VERSION alone, ahead of its code."""
    _release(
        version,
        pipeline,
        output,
        yes,
        True,
        skip_status_gate,
        reason,
        force_lock,
        lock_wait,
        dry_run,
        False,
        debug,
        migrations_only=True,
        rollout_wait=rollout_wait,
    )


def _release(
    raw_version: str,
    pipeline_opt: str | None,
    output: Output | None,
    yes: bool,
    migrations: bool | None,
    skip_status_gate: bool,
    reason: str,
    force_lock: bool,
    lock_wait: str | None,
    dry_run: bool,
    force: bool,
    debug: bool,
    *,
    migrations_only: bool,
    rollout_wait: str | None = None,
) -> None:
    with reported(debug):
        pipeline = _load(pipeline_opt, debug)
        if rollout_wait is not None:  # this run only, over kubernetes.rollout_wait
            pipeline = pipeline.with_rollout_wait(_duration(rollout_wait, "--rollout-wait"))
        version = _version(pipeline, raw_version)
        if skip_status_gate and not reason.strip():
            raise BadInput("--skip-status-gate needs --reason TEXT (it is recorded)")
        wait = _duration(lock_wait, "--lock-wait")
        mode = _mode(output)
        wiring = _wire(pipeline)
        if not dry_run:
            _warn_unshared(pipeline)
            if force_lock:
                _check_freeze_override(wiring, reason)
        if dry_run:
            from shipper.report.factory import render_plan

            plan = wiring.releaser([]).plan(version, migrations, _commit_of(version))
            render_plan(plan, sys.stdout, mode, pipeline=pipeline)  # type: ignore[arg-type]
            raise typer.Exit(ExitCode.OK)
        what = "the migrations of" if migrations_only else "deploy"
        _confirm(f"{what} {version} to {pipeline.name} (both sides)?", yes, mode)
        from shipper.core.run import DeployRequest
        from shipper.wiring import me

        releaser = _releaser(wiring, mode)
        request = DeployRequest(
            version=version,
            commit=_commit_of(version),
            holder=me(wiring.env),
            reason=reason,
            migrations=migrations,
            skip_gate_reason=reason if skip_status_gate else "",
            force_lock=force_lock,
            lock_wait_seconds=wait,
            force=force,
            migrations_only=migrations_only,
        )
        with _signals(releaser):
            try:
                outcome = releaser.deploy(request)
            finally:
                releaser.ports.emitter.close()
        _finish(outcome)


def _commit_of(version: Version) -> str | None:
    """The git SHA `version` names in the project at hand, when it is a git repository."""
    from shipper.git_history import GitHistory

    return GitHistory(Path.cwd()).commit_of(version)


@app.command()
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
        loaded = _load(pipeline, debug)
        wait = _duration(lock_wait, "--lock-wait")
        if to is not None and to < 1:
            raise BadInput("--to takes a release number from `ship history`")
        mode = _mode(output)
        wiring = _wire(loaded)
        from shipper.core.model import ReleaseNo
        from shipper.core.rollback import plan_rollback

        if not dry_run:
            _warn_unshared(loaded)
            if force_lock:
                _check_freeze_override(wiring, reason)
        chosen = plan_rollback(wiring.ledger(), ReleaseNo(to) if to is not None else None)
        if dry_run:
            from shipper.report.plan import render_rollback_plan

            now = wiring.releaser([]).snapshot()
            render_rollback_plan(chosen, now, sys.stdout, mode)  # type: ignore[arg-type]
            raise typer.Exit(ExitCode.OK)
        _err(f"ship: {loaded.name}: will roll back both sides to {chosen.target_text}")
        _confirm(chosen.question(), yes, mode)
        from shipper.core.run import RollbackRequest
        from shipper.wiring import me

        releaser = _releaser(wiring, mode)
        request = RollbackRequest(
            holder=me(wiring.env),
            to=ReleaseNo(to) if to is not None else None,
            reason=reason,
            force_lock=force_lock,
            lock_wait_seconds=wait,
            verify=not no_verify,
        )
        with _signals(releaser):
            try:
                outcome = releaser.rollback(request)
            finally:
                releaser.ports.emitter.close()
        _finish(outcome)


@app.command()
def status(
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """What runs where now: both sides, the skew, the lock, the platform, a release in progress.

    Exits like `kubectl rollout status`: 0 every target readable, healthy, on one version;
    1 something unhealthy or skewed; 4 a side can't be read."""
    with reported(debug):
        loaded = _load(pipeline, debug)
        wiring = _wire(loaded)
        from shipper.status import read_status

        view = read_status(wiring, warn=_err)
        from shipper.report.factory import render_status

        render_status(view, sys.stdout, _mode(output))  # type: ignore[arg-type]
        raise typer.Exit(view.exit_code)


@app.command()
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
        loaded = _load(pipeline, debug)
        ledger = _wire(loaded).ledger()
        mode = _mode(output)
        from shipper.report.factory import render_history, render_release

        if number is None:
            render_history(ledger.releases(limit=max(1, limit)), sys.stdout, mode, detail=detail)  # type: ignore[arg-type]
            return
        from shipper.core.model import ReleaseNo

        release = ledger.get(ReleaseNo(number))
        if release is None:
            raise BadInput(f"there is no release {number} in the ledger of {loaded.name}")
        render_release(release, ledger.entries(release.number), sys.stdout, mode, detail=detail)  # type: ignore[arg-type]


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
        loaded = _load(pipeline, debug)
        from shipper.wiring import manual_holder

        wiring = _wire(loaded)
        lease = wiring.lock().acquire(
            manual_holder(wiring.env), reason, None, force=force_lock, manual=True
        )
        taken = f" (took it over from {lease.took_over.holder})" if lease.took_over else ""
        _err(
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
        loaded = _load(pipeline, debug)
        from shipper.wiring import manual_holder

        wiring = _wire(loaded)
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
            _err(f"ship: {loaded.name} was not locked")
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
        _err(f"ship: {text}")


@lock_app.command("show")
def lock_show(
    pipeline: PipelineOpt = None, output: OutputOpt = None, debug: DebugOpt = False
) -> None:
    """Who holds the lock, why, and since when."""
    with reported(debug):
        loaded = _load(pipeline, debug)
        wiring = _wire(loaded)
        info = wiring.lock().show()
        from shipper.report.status import render_lock

        render_lock(loaded.name, info, wiring.clock.now(), sys.stdout, _mode(output))  # type: ignore[arg-type]


@app.command()
def validate(
    pipeline: PipelineOpt = None,
    online: Annotated[
        bool, typer.Option("--online", metavar="", help="Also reach every target, read-only.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check the pipeline file (and, with --online, that every target answers)."""
    with reported(debug):
        from shipper.pipeline import display_path, resolve_pipeline_path

        path = resolve_pipeline_path(pipeline)
        loaded = _load(pipeline, debug)
        sides = [s for s in ("heroku", "kubernetes") if getattr(loaded, s) is not None]
        typer.echo(f"{display_path(path)}: valid pipeline {loaded.name} ({', '.join(sides)})")
        from shipper.state.shared import in_ci, unshared_warning

        shared = unshared_warning(loaded, os.environ, ci=False)
        if shared:
            prefix = "warning" if in_ci(os.environ) else "note"
            typer.echo(f"{display_path(path)}: {prefix}: {shared}")
        if not online:
            return
        from shipper.status import reach_everything

        wiring = _wire(loaded)
        problems = reach_everything(wiring, say=typer.echo)
        if problems:
            raise typer.Exit(ExitCode.FAILED)
        code = _preflight(wiring, None, "human")
        if code:
            raise typer.Exit(code)


@app.command()
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
        loaded = _load(pipeline, debug)
        wiring = _wire(loaded)
        code = _preflight(wiring, _version(loaded, version) if version else None, _mode(output))
        raise typer.Exit(code)


def _preflight(wiring: Wiring, version: Version | None, mode: str) -> ExitCode:
    """Run and print the preflight; 3 when a finding blocks, else 0."""
    from shipper.preflight.command import preflight as run
    from shipper.report.preflight import render_preflight

    result = run(wiring, version)
    render_preflight(wiring.pipeline.name, result, sys.stdout, mode, wiring.clock.now())
    return ExitCode.BLOCKED if result.blocks else ExitCode.OK


def main() -> None:
    """Console entry point.

    A finished command leaves through `_leave`, not the interpreter's teardown."""
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, int | None):
            _leave(done.code or 0)
        raise


def _leave(code: int) -> NoReturn:
    """Exit now: the interpreter's teardown of every loaded module (the Kubernetes client
    alone brings hundreds) took 0.17 s after a deploy, time a person or a CI job waits for
    nothing. Nothing is lost by skipping it: every ledger write was committed when made,
    the lock is released, threads still working (a check's last request, say) are waited
    for as the interpreter would, and stdout, stderr and the log are flushed here."""
    import logging
    import threading

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    try:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
