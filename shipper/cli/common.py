"""Steps the commands share: load the pipeline, read a version or a duration, wire the
adapters, build the releaser with its sinks, ask for confirmation.

Heavy imports (httpx, kubernetes, rich's live display) happen inside these functions, so
`ship --help` and `ship --version` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shipper.cli.guard import Session, err
from shipper.cli.logs import configure_logging
from shipper.errors import BadInput, BadVersion, ExitCode
from shipper.report.output import OutputMode

if TYPE_CHECKING:
    from shipper.core.model import Version
    from shipper.core.run import Releaser
    from shipper.pipeline import Pipeline
    from shipper.wiring import Wiring


def load(pipeline: str | None, debug: bool = False) -> Pipeline:
    """The pipeline named by -p (or found in pipelines/), with logging and redaction set up."""
    from shipper.pipeline import load_pipeline, resolve_pipeline_path
    from shipper.state.paths import state_dir

    loaded = load_pipeline(resolve_pipeline_path(pipeline))
    Session.state_dir = state_dir(os.environ)
    configure_logging(Session.state_dir, debug)
    if loaded.notify.slack is not None:
        Session.redactor.add_env(loaded.notify.slack.webhook_url_env)
    for spec in loaded.verify.checks:
        if spec.prometheus is not None and spec.prometheus.auth is not None:
            auth = spec.prometheus.auth
            for name in (auth.bearer_token_env, auth.username_env, auth.password_env):
                if name:
                    Session.redactor.add_env(name)
    return loaded


def version_of(pipeline: Pipeline, raw: str) -> Version:
    """`raw` as a Version, if the pipeline's policy accepts it (else exit 2 saying why)."""
    checked = pipeline.policy().check_version(raw)
    if checked != raw:  # anything but the version itself is the reason it was refused
        raise BadVersion(f"bad version: {checked}")
    from shipper.core.model import Version

    return Version(raw)


def duration(raw: str | None, flag: str) -> float:
    """Seconds of a DURATION flag (0 when not given); bad input names the flag."""
    if raw is None:
        return 0.0
    from shipper.pipeline import parse_duration

    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise BadInput(f"{flag}: {exc}") from None


def commit_of(version: Version) -> str | None:
    """The git SHA `version` names in the project at hand, when it is a git repository."""
    from shipper.git_history import GitHistory

    return GitHistory(Path.cwd()).commit_of(version)


def warn_unshared(pipeline: Pipeline) -> None:
    """In CI, a ledger or lock kept on the runner is said once, with the fix (on GitHub
    Actions as a warning annotation, so it shows on the run's page)."""
    from shipper.state.shared import unshared_warning

    warning = unshared_warning(pipeline, os.environ, ci=True)
    if not warning:
        return
    if os.environ.get("GITHUB_ACTIONS", "").lower() == "true":
        err(f"::warning title=ship: ledger not shared::{warning}")
    else:
        err(f"ship: warning: {warning}")


def check_freeze_override(wiring: Wiring, reason: str) -> None:
    """--force-lock over a deploy freeze needs --reason: the override is recorded (the
    release's reason, and the takeover in its events) and the freeze is put back after."""
    info = wiring.lock().show()
    if info is not None and info.manual and not reason.strip():
        raise BadInput(
            f'{wiring.pipeline.name} is frozen by {info.holder} (reason: "{info.reason}"); '
            "--force-lock over a freeze needs --reason TEXT (recorded; the freeze is put back "
            "afterwards)"
        )


def wire(pipeline: Pipeline) -> Wiring:
    """The adapters for `pipeline`, each built on first use."""
    from shipper.wiring import wire

    return wire(pipeline)


def releaser_for(wiring: Wiring, mode: OutputMode) -> Releaser:
    """The releaser with the event sinks of `mode`, known to the guard from now on."""
    from shipper.report.factory import build_sinks, human_stream

    human = human_stream(mode, stdout=sys.stdout, stderr=sys.stderr)
    sinks = build_sinks(
        mode,
        pipeline=wiring.pipeline,
        env=wiring.env,
        stdout=sys.stdout,
        stderr=sys.stderr,
        is_tty=human.isatty(),
        redact=Session.redactor.clean,
    )
    releaser = wiring.releaser(sinks)
    Session.releaser = releaser
    return releaser


def confirm(question: str, yes: bool, mode: OutputMode) -> None:
    """Ask on a terminal (unless --yes); not confirmed is exit 1 with nothing changed."""
    from shipper.report.factory import confirm as ask

    interactive = mode == OutputMode.HUMAN and sys.stdin.isatty() and sys.stderr.isatty()
    if not ask(question, assume_yes=yes, is_tty=interactive, stdin=sys.stdin, stderr=sys.stderr):
        err("ship: not confirmed; nothing was changed")
        raise typer.Exit(ExitCode.FAILED)
