"""Where adapters' logs go: `ship.log` in the state folder (stderr with --debug), redacted.

Adapters log retries and request ids; that detail helps afterwards and is noise on an
operator's terminal while a release runs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from shipper.cli.guard import Session


class _RedactingFilter:
    """Scrubs secret values from log records before any handler writes them."""

    def filter(self, record: object) -> bool:
        if isinstance(record, logging.LogRecord):
            record.msg = Session.redactor.clean(record.getMessage())
            record.args = None
        return True


def configure_logging(folder: Path, debug: bool) -> None:
    """Send the process's log records to `folder/ship.log` (stderr with --debug), once."""
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
