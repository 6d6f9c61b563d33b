"""A last line of defence for secrets on the way out of every sink.

Adapters never put a token in a message, and the Slack URL never leaves its sink; still,
a message quoted from a platform can carry what it should not. Every stream the sinks
write to can be wrapped so that whatever is written passes through the CLI's redactor
first: one place, whatever the sink, including text rich renders.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TextIO, cast

Redact = Callable[[str], str]


class RedactingStream(io.TextIOBase):
    """Writes to `inner` what `redact` leaves of each write; everything else is `inner`'s."""

    def __init__(self, inner: TextIO, redact: Redact) -> None:
        self._inner = inner
        self._redact = redact

    def write(self, text: str) -> int:
        self._inner.write(self._redact(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", None) or "utf-8"


def redacting(stream: TextIO, redact: Redact | None) -> TextIO:
    """`stream`, cleaned by `redact` when there is one."""
    if redact is None:
        return stream
    return cast(TextIO, RedactingStream(stream, redact))
