"""What the HTTP-based checks share: naming a transport failure without leaking secrets.

A measurement's message ends up in the console, the JSON event stream and the ledger,
so it must never carry a URL's user:password, a token in a query string or a header
value. Messages are therefore built from fixed phrases plus the status code, never from
`str(exc)` of an httpx error (which can quote the URL), and `redact` runs over anything
that came back from a server before it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

SNIPPET = 80  # characters of a server's answer worth showing in a one-line message


def describe_transport_error(exc: Exception, timeout: float) -> str:
    """A one-line reason for a request that got no answer, without the URL."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect within {timeout:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect (refused, unreachable or DNS failure)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the connection or spoke invalid HTTP"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "the URL cannot be requested (check its scheme and host)"
    return f"request failed ({type(exc).__name__})"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def snippet(text: str) -> str:
    """The start of `text` on one line, short enough for a one-line message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"
