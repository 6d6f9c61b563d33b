"""The guard around every command: a `ShipError` becomes one stderr line and its exit code,
anything else is a bug whose traceback goes to a crash file, never to the terminal.

`Session` holds what the guard needs to know about the process: where crash files go,
which secrets to redact, and whether anything may have changed (an internal error or bad
configuration is then exit 4, not 1 or 2: the state is no longer "nothing happened").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from shipper import __version__
from shipper.errors import ExitCode, ShipError
from shipper.redact import Redactor

if TYPE_CHECKING:
    from shipper.core.run import Outcome, Releaser


class Session:
    """Process-wide facts the guard needs (one command runs per process)."""

    redactor = Redactor(os.environ)
    releaser: Releaser | None = None
    state_dir: Path | None = None


def one_line(text: str) -> str:
    """Escape what a terminal or `splitlines` would break the line at (a YAML key or a
    version may hold control characters): every message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def err(line: str) -> None:
    """One redacted line on stderr."""
    sys.stderr.write(one_line(Session.redactor.clean(line)) + "\n")
    sys.stderr.flush()


def _changed() -> bool:
    return Session.releaser is not None and Session.releaser.changed


def began() -> bool:
    """Whether this command opened a release in the ledger (so it has a place to stop at)."""
    releaser = Session.releaser
    return releaser is not None and releaser.ports.emitter.release is not None


@contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Turn a ShipError into one stderr line plus its exit code. Anything else is a bug:
    its traceback goes to a crash file, never to the terminal."""
    try:
        yield
    except typer.Exit:
        raise
    except ShipError as exc:
        err(f"ship: {exc}")
        code = exc.exit_code
        # bad configuration found after a change is no longer "nothing happened"
        raise typer.Exit(
            ExitCode.OPERATOR if _changed() and code == ExitCode.BAD_INPUT else code
        ) from None
    except KeyboardInterrupt:
        if began():
            err("ship: interrupted; `ship status` shows where it stopped")
        else:
            err("ship: interrupted before any release began; nothing was changed")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except Exception as exc:
        if debug:
            raise
        path = _crash_report(exc)
        err(f"ship: internal error ({type(exc).__name__}); details in {path}; please report it")
        raise typer.Exit(ExitCode.OPERATOR if _changed() else ExitCode.FAILED) from None


def _crash_report(exc: BaseException) -> str:
    import tempfile
    import time
    import traceback

    text = "".join(traceback.format_exception(exc))  # no local variables, ever
    text = Session.redactor.clean(text)
    folder = Session.state_dir or Path(tempfile.gettempdir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ship-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
        path.write_text(f"ship {__version__}\n{text}", encoding="utf-8")
        return str(path)
    except OSError:
        return "(could not write a crash file)"


def finish(outcome: Outcome) -> NoReturn:
    """Say how a release ended and leave with its exit code."""
    err(f"ship: {outcome.message}")
    raise typer.Exit(outcome.exit_code)
