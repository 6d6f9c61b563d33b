"""The Heroku Platform API client: one httpx client, Heroku's headers, retries, paging.

It speaks JSON in and out and knows nothing of releases or deploys (that is
`platform.py`). Everything that can go wrong leaves it as a ShipError from
`shipper.heroku.errors`, never as an httpx type. It counts every call it makes, because
the account's budget is 4,500 calls an hour and a release should say what it spent.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shipper import __version__
from shipper.errors import PlatformError
from shipper.heroku.auth import Token
from shipper.heroku.errors import from_response, from_transport, malformed
from shipper.heroku.retry import CREATE, IDEMPOTENT, READ, STREAM, Retrier, RetryPolicy
from shipper.ports import Clock
from shipper.tls import shared_context

log = logging.getLogger("shipper.heroku")

ACCEPT = "application/vnd.heroku+json; version=3"
# Container releases: PATCH /apps/{app}/formation with docker_image needs this variant
# (the Heroku CLI's container:release; not in the schema).
ACCEPT_DOCKER = "application/vnd.heroku+json; version=3.docker-releases"
USER_AGENT = f"ship/{__version__}"

# Heroku refills about 75 calls a minute, 0.8 s per call. Below this many calls left,
# each request waits longer the closer the bucket is to empty (see `_throttle`).
THROTTLE_BELOW = 100
REFILL_SECONDS_PER_CALL = 0.8
MAX_PAGES = 50
STREAM_TAIL_BYTES = 16 * 1024
STREAM_MAX_BYTES = 4 * 1024 * 1024

Json = Any  # a decoded JSON value; platform.py reads it through resources.py


class _Bearer(httpx.Auth):
    """Adds the token per request, so it is never part of the client's default headers."""

    def __init__(self, token: Token) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.value}"
        yield request

    def __repr__(self) -> str:
        return "<Bearer [redacted]>"


@dataclass(frozen=True)
class Page:
    """A conditional GET's answer: `body` is None when the resource is unchanged (304)."""

    body: Json
    etag: str | None


class HerokuApi:
    """Calls to one Heroku Platform API base URL with one token."""

    def __init__(
        self,
        client: httpx.Client,
        token: Token,
        *,
        clock: Clock,
        retrier: Retrier | None = None,
        stream_client: httpx.Client | None = None,
    ) -> None:
        self._client = client
        self._auth = _Bearer(token)
        self._token = token
        self._clock = clock
        self._retrier = retrier or Retrier(clock)
        # Output streams are capabilities on other hosts: no Authorization goes there.
        self._streams = stream_client or httpx.Client(
            timeout=httpx.Timeout(15.0), verify=shared_context()
        )
        self._guard = threading.Lock()
        self._calls = 0
        self._remaining: int | None = None

    @property
    def calls(self) -> int:
        """API calls made so far (every request, 304s and failures included)."""
        with self._guard:
            return self._calls

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def rate_limit_remaining(self) -> int | None:
        with self._guard:
            return self._remaining

    def redact(self, text: str) -> str:
        return self._token.redact(text)

    # --- the calls ------------------------------------------------------------------

    def get(self, path: str, action: str) -> Json:
        return self._retrier.call(READ, lambda: self._json(self._send("GET", path, action), action))

    def get_if_changed(self, path: str, action: str, etag: str | None) -> Page:
        """GET with If-None-Match: an unchanged resource costs a 304 and no parsing."""

        def once() -> Page:
            headers = {"If-None-Match": etag} if etag else {}
            response = self._send("GET", path, action, headers=headers)
            if response.status_code == 304:
                return Page(None, etag)
            return Page(self._json(response, action), response.headers.get("ETag"))

        return self._retrier.call(READ, once)

    def get_list(
        self, path: str, action: str, range_header: str | None = None, *, follow: bool = True
    ) -> list[Json]:
        """Every item of a list (following 206 + Next-Range), or only the first page
        when `follow` is false: "the newest N" must not walk the whole history."""
        items: list[Json] = []
        next_range = range_header
        for _ in range(MAX_PAGES):
            current = next_range

            def once(current: str | None = current) -> httpx.Response:
                headers = {"Range": current} if current else {}
                return self._send("GET", path, action, headers=headers)

            response = self._retrier.call(READ, once)
            body = self._json(response, action)
            if not isinstance(body, list):
                raise malformed(action, "expected a list", response.headers.get("Request-Id", ""))
            items.extend(body)
            next_range = response.headers.get("Next-Range")
            if response.status_code != 206 or not next_range or not follow:
                return items
        log.warning("stopped paging %s after %d pages", action, MAX_PAGES)
        return items

    def post(self, path: str, action: str, body: Mapping[str, Json]) -> Json:
        """A POST that creates something: retried only when it surely did not arrive."""
        return self._retrier.call(
            CREATE, lambda: self._json(self._send("POST", path, action, body=body), action)
        )

    def patch(
        self,
        path: str,
        action: str,
        body: Mapping[str, Json],
        *,
        accept: str = ACCEPT,
        policy: RetryPolicy = IDEMPOTENT,
    ) -> Json:
        def once() -> Json:
            response = self._send("PATCH", path, action, body=body, headers={"Accept": accept})
            return self._json(response, action) if response.content else None

        return self._retrier.call(policy, once)

    def delete(self, path: str, action: str) -> Json:
        """A DELETE (cancelling a build): repeating it is harmless, so it is retried."""

        def once() -> Json:
            response = self._send("DELETE", path, action)
            return self._json(response, action) if response.content else None

        return self._retrier.call(IDEMPOTENT, once)

    def stream_tail(self, url: str, lines: int = 20) -> str:
        """The last `lines` lines of a build or release output stream, best effort: an
        output that never started, or any failure to read it, gives ""."""
        try:
            return self._retrier.call(STREAM, lambda: self._read_stream(url, lines))
        except PlatformError as exc:
            log.info("could not read an output stream: %s", exc)
            return ""

    def stream_chunks(
        self, url: str, offset: int = 0, *, quiet: float | None = None
    ) -> Iterator[bytes]:
        """An output stream's bytes as they come, from byte `offset` (a resumed read
        sends `Range`). Not a Platform API call: the URL is a capability on another
        host, so it carries no token and spends nothing of the account's budget.
        Failures raise PlatformError (a 404: the command has not started yet). `quiet`:
        how long the stream may say nothing before it counts as cut (default: the stream
        client's read timeout)."""
        action = "read an output stream"
        headers = {"User-Agent": USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            timeout = (
                httpx.Timeout(self._streams.timeout.connect or 15.0, read=quiet)
                if quiet is not None
                else httpx.USE_CLIENT_DEFAULT
            )
            with self._streams.stream("GET", url, headers=headers, timeout=timeout) as resp:
                if resp.status_code >= 300:
                    resp.read()
                    raise from_response(resp, action, self.redact)
                yield from resp.iter_bytes()
        except httpx.RequestError as exc:
            raise from_transport(exc, action) from None

    # --- plumbing -------------------------------------------------------------------

    def _read_stream(self, url: str, lines: int) -> str:
        buffer = bytearray()
        total = 0
        for chunk in self.stream_chunks(url):
            total += len(chunk)
            buffer.extend(chunk)
            del buffer[:-STREAM_TAIL_BYTES]
            if total > STREAM_MAX_BYTES:
                break
        text = buffer.decode("utf-8", errors="replace")
        # Event-stream framing ("data: ...") is kept as plain lines.
        tail = [ln.removeprefix("data: ") for ln in text.splitlines() if ln.strip()]
        return self.redact("\n".join(tail[-lines:]))

    def _throttle(self) -> None:
        """Slow down before the bucket is empty instead of running into 429s."""
        with self._guard:
            remaining = self._remaining
        if remaining is None or remaining >= THROTTLE_BELOW:
            return
        closeness = (THROTTLE_BELOW - max(remaining, 0)) / THROTTLE_BELOW
        self._clock.sleep(REFILL_SECONDS_PER_CALL * (1 + 9 * closeness))

    def _send(
        self,
        method: str,
        path: str,
        action: str,
        *,
        body: Mapping[str, Json] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        self._throttle()
        sent_headers = {
            "Accept": ACCEPT,
            "User-Agent": USER_AGENT,
            "Request-Id": str(uuid.uuid4()),
            **(headers or {}),
        }
        with self._guard:
            self._calls += 1
        try:
            response = self._client.request(
                method,
                path,
                headers=sent_headers,
                json=dict(body) if body is not None else None,
                auth=self._auth,
            )
        except httpx.RequestError as exc:
            raise from_transport(exc, action) from None
        self._note(response, action)
        if response.status_code == 304 or 200 <= response.status_code < 300:
            return response
        raise from_response(response, action, self.redact)

    def _note(self, response: httpx.Response, action: str) -> None:
        raw = response.headers.get("RateLimit-Remaining")
        if raw is not None:
            try:
                remaining = int(raw)
            except ValueError:
                remaining = None
            if remaining is not None:
                with self._guard:
                    self._remaining = remaining
        for name in ("X-Heroku-Warning", "Warning-Message"):
            warning = response.headers.get(name)
            if warning:
                log.warning("Heroku warns about %s: %s", action, self.redact(warning)[:300])

    def _json(self, response: httpx.Response, action: str) -> Json:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise malformed(
                action, "the body is not JSON", response.headers.get("Request-Id", "")
            ) from None
