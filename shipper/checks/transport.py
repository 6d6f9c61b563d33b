"""What the HTTP-based checks share: naming a transport failure without leaking secrets.

A measurement's message ends up in the console, the JSON event stream and the ledger,
so it must never carry a URL's user:password, a token in a query string or a header
value. Messages are therefore built from fixed phrases plus the status code, never from
`str(exc)` of an httpx error (which can quote the URL), and `redact` runs over anything
that came back from a server before it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

SNIPPET = 80  # characters of a server's answer worth showing in a one-line message


def describe_transport_error(exc: Exception, timeout: float, url: str = "") -> str:
    """A one-line reason for a request that got no answer, naming `url` as `shown_url`
    prints it (no user:password, no query string), never as httpx quotes it."""
    to = f" to {shown_url(url)}" if url else ""
    at = f" from {shown_url(url)}" if url else ""
    of = f" ({shown_url(url)})" if url else ""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect{to} within {timeout:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer{at} within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect{to} (refused, unreachable or DNS failure)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the connection or spoke invalid HTTP{of}"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"too many redirects{of}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"the URL cannot be requested (check its scheme and host){of}"
    return f"request failed ({type(exc).__name__}){of}"


def is_connect_failure(exc: Exception) -> bool:
    """Whether no connection was made at all (nothing answered, not even slowly)."""
    return isinstance(
        exc,
        httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol | httpx.InvalidURL,
    )


def shown_url(url: str) -> str:
    """`url` as it may be shown anywhere: scheme, host, port and path; a user:password
    and a query string (which may carry a token) are left out."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a URL that cannot be parsed)"
    if not parts.scheme or not host:
        return "(a URL without scheme or host)"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


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
