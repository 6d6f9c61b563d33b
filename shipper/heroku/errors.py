"""The one place where Heroku's answers and httpx's failures become ShipErrors.

Every message is one line that says what failed and what to do, names the Heroku request
id when there is one (support asks for it), and has been through the token's `redact`:
Heroku echoes parts of requests in some messages, and a token must never reach a log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx

from shipper.errors import (
    MalformedAnswer,
    PlatformAuthError,
    PlatformError,
    PlatformNotFound,
    PlatformRejected,
    PlatformUnavailable,
)

log = logging.getLogger("shipper.heroku")


class HerokuUnavailable(PlatformUnavailable):
    """429, 5xx or a transport failure: worth retrying where the call allows it.

    `sent` tells whether Heroku may have acted on the request (a 5xx or a read timeout)
    or certainly did not (a 429, a refused connection): a POST that creates something is
    retried only in the second case, and looked for in the first.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.sent = sent


class RangeNotSatisfiable(PlatformRejected):
    """416: the Range header names a field or form this endpoint does not accept."""


def _redacted(redact: Callable[[str], str], text: str) -> str:
    return redact(" ".join(text.split()))[:300]


def api_message(response: httpx.Response) -> tuple[str, str]:
    """Heroku's error `id` and `message`, or ("", "") when the body is not its JSON."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("id") or ""), str(body.get("message") or "")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header in its delta form; dates and junk are ignored."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def from_response(
    response: httpx.Response, action: str, redact: Callable[[str], str]
) -> PlatformError:
    """The ShipError for a non-2xx answer to `action` (e.g. "create a build on acme-web")."""
    code = response.status_code
    err_id, message = api_message(response)
    request_id = response.headers.get("Request-Id", "")
    suffix = f" (Heroku request id {request_id})" if request_id else ""
    said = f": {_redacted(redact, message)}" if message else ""
    log.warning(
        "Heroku answered %s (%s) to %s; request id %s",
        code,
        err_id or "no id",
        action,
        request_id or "none",
    )
    if code == 403 and err_id == "two_factor":
        return PlatformAuthError(
            f"Heroku requires a second factor to {action}; ship cannot prompt for one, so "
            f"use an API key of an account or app that does not require it{suffix}"
        )
    if code in (401, 403):
        return PlatformAuthError(
            f"Heroku refused to {action} ({code}{' ' + err_id if err_id else ''}); check "
            f"HEROKU_API_KEY or the netrc entry and its access to the app{suffix}"
        )
    if code == 404:
        return PlatformNotFound(
            f"Heroku has no such resource when trying to {action}{said}; check the app "
            f"names in heroku.apps and that the token can see them{suffix}"
        )
    if code == 416:
        return RangeNotSatisfiable(f"Heroku refused the Range header to {action}{said}{suffix}")
    if code == 429:
        return HerokuUnavailable(
            f"Heroku's rate limit was reached trying to {action}; wait a few minutes{suffix}",
            status=code,
            retry_after=retry_after(response),
            sent=False,
        )
    if code >= 500:
        return HerokuUnavailable(
            f"Heroku answered {code} trying to {action}; it may be having trouble, see "
            f"status.heroku.com{suffix}",
            status=code,
            retry_after=retry_after(response),
            sent=True,
        )
    if code == 422:
        return PlatformRejected(f"Heroku rejected the request to {action}{said}{suffix}")
    return PlatformRejected(
        f"Heroku answered {code}{' ' + err_id if err_id else ''} to {action}{said}{suffix}"
    )


def from_transport(exc: httpx.RequestError, action: str) -> PlatformError:
    """Any httpx request failure, mapped here and nowhere else.

    Was the request possibly processed? Only if it may have been sent: a refused
    connection, a pool timeout or an unsupported URL never reached Heroku. An answer
    that could not be decoded (or redirected in circles) did arrive: it is malformed.
    """
    if not isinstance(exc, httpx.TransportError):
        log.warning("the answer to %s could not be read: %s", action, type(exc).__name__)
        return malformed(action, f"{type(exc).__name__}")
    never_sent = isinstance(
        exc,
        httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol,
    )
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    log.warning("request to %s %s: %s", action, kind, type(exc).__name__)
    return HerokuUnavailable(
        f"the request to {action} {kind} ({type(exc).__name__}); check the network "
        f"and status.heroku.com",
        sent=not never_sent,
    )


def malformed(action: str, what: str, request_id: str = "") -> MalformedAnswer:
    suffix = f" (Heroku request id {request_id})" if request_id else ""
    return MalformedAnswer(
        f"Heroku's answer to {action} is not what ship expects ({what}); "
        f"retry, and report it if it persists{suffix}"
    )
