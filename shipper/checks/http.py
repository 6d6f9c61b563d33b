"""An HTTP probe as a regression check: status, body, one JSON field and latency.

One GET per measurement. Redirects are not followed: a health URL that redirects is
reported with its status, so the pipeline names the final URL (or lists the 3xx code in
`status`) instead of ship silently probing some other page.
"""

from __future__ import annotations

import json
import math

import httpx

from shipper.checks.transport import (
    describe_transport_error,
    is_connect_failure,
    shown_url,
    snippet,
)
from shipper.core.clock import SystemClock
from shipper.core.model import JSON, Measurement, MeasurementStatus, Probe, Side, Version
from shipper.pipeline import render
from shipper.ports import Clock

MAX_BODY_BYTES = 1024 * 1024  # a health answer is small; more is read no further


class HttpCheck:
    """Probe `url` once per interval; see `measure` for what passing means.

    `url`, `body_contains` and `equals` may hold `{version}`, replaced by plain
    substitution with the version under test, so a check can insist that the new
    version is the one answering. The whole request, body included, must finish within
    `timeout`; a timeout or a connection error is a FAILED measurement (the thing under
    test did not answer), never an inconclusive one.
    """

    def __init__(
        self,
        name: str,
        side: Side,
        *,
        url: str,
        client: httpx.Client,
        statuses: tuple[int, ...] = (),
        body_contains: str | None = None,
        json_field: str | None = None,
        equals: str | None = None,
        max_latency: float | None = None,
        timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        if (json_field is None) != (equals is None):
            raise ValueError("json_field and equals go together")
        self._name = name
        self._side = side
        self._url = url
        self._client = client
        self._statuses = statuses
        self._body_contains = body_contains
        self._json_field = json_field
        self._equals = equals
        self._max_latency = max_latency
        self._timeout = timeout
        self._clock: Clock = clock or SystemClock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def side(self) -> Side:
        return self._side

    @property
    def timeout_seconds(self) -> float:
        """The longest one measurement takes: detection needs interval x limit plus this."""
        return self._timeout

    @property
    def threshold(self) -> str:
        parts = [f"HTTP {self._status_words()}"]
        if self._body_contains is not None:
            parts.append(f'body contains "{self._body_contains}"')
        if self._json_field is not None:
            parts.append(f'{self._json_field} == "{self._equals}"')
        if self._max_latency is not None:
            parts.append(f"within {self._max_latency:g}s")
        return ", ".join(parts)

    @property
    def uses_version(self) -> bool:
        templates = (self._url, self._body_contains, self._equals)
        return any(t is not None and "{version}" in t for t in templates)

    def measure(self, version: Version) -> Measurement:
        """GET the URL and judge the answer; never raises.

        SUCCESSFUL when the status is expected (any 2xx unless `statuses` lists codes),
        the latency is at most `max_latency`, the body contains `body_contains` and the
        JSON field equals `equals`; otherwise FAILED, naming the first thing that was off.
        """
        start = self._clock.monotonic()
        url = render(self._url, version)
        try:
            status, body, complete = self._fetch(url, start)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            return Measurement(
                MeasurementStatus.FAILED, "", describe_transport_error(exc, self._timeout, url)
            )
        elapsed = self._clock.monotonic() - start
        value = f"HTTP {status} in {elapsed:.3f}s"
        if not complete:
            return _failed(value, f"the answer did not finish within {self._timeout:g}s")
        if not self._status_ok(status):
            return _failed(value, f"answered {status}, expected {self._status_words()}")
        if self._max_latency is not None and elapsed > self._max_latency:
            return _failed(value, f"took {elapsed:.3f}s, limit {self._max_latency:g}s")
        text = body.decode("utf-8", errors="replace")
        if self._body_contains is not None:
            wanted = render(self._body_contains, version)
            if wanted not in text:
                return _failed(value, f'body does not contain "{wanted}": {snippet(text)!r}')
        if self._json_field is not None and self._equals is not None:
            problem = _json_problem(text, self._json_field, render(self._equals, version))
            if problem:
                return _failed(value, problem)
        return Measurement(MeasurementStatus.SUCCESSFUL, value, "")

    def probe(self, version: Version) -> Probe:
        """One GET before any change: does the URL answer at all? Any answer counts as
        reached (the old code may well fail the check the new code is to pass); only a
        status the check would refuse is said as not ok. A URL naming `{version}` is not
        tried: that version does not run anywhere yet."""
        where = shown_url(self._url)
        if "{version}" in self._url:
            return Probe(True, True, where, "not probed: the URL names the version to release")
        start = self._clock.monotonic()
        try:
            status, _, _ = self._fetch(self._url, start)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            reached = not is_connect_failure(exc)
            return Probe(reached, False, where, describe_transport_error(exc, self._timeout))
        elapsed = self._clock.monotonic() - start
        if not self._status_ok(status):
            answer = f"answered HTTP {status} in {elapsed:.3f}s, expected {self._status_words()}"
            return Probe(True, False, where, answer)
        return Probe(True, True, where, f"answered HTTP {status} in {elapsed:.3f}s")

    def _fetch(self, url: str, start: float) -> tuple[int, bytes, bool]:
        """Status, the body (capped) and whether it all arrived within the timeout.

        httpx's timeout bounds each network wait, not the whole request, so a server
        trickling bytes is cut off here by the clock.
        """
        chunks: list[bytes] = []
        size = 0
        with self._client.stream(
            "GET",
            url,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"Accept": "application/json, text/plain;q=0.9, */*;q=0.5"},
        ) as response:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if self._clock.monotonic() - start > self._timeout:
                    return response.status_code, b"".join(chunks), False
                if size >= MAX_BODY_BYTES:
                    break
            return response.status_code, b"".join(chunks)[:MAX_BODY_BYTES], True

    def _status_ok(self, status: int) -> bool:
        return status in self._statuses if self._statuses else 200 <= status < 300

    def _status_words(self) -> str:
        return " or ".join(str(s) for s in self._statuses) if self._statuses else "2xx"


def _failed(value: str, message: str) -> Measurement:
    return Measurement(MeasurementStatus.FAILED, value, message)


def _json_problem(text: str, path: str, expected: str) -> str:
    """Why the field at dotted `path` does not equal `expected`, or "" when it does."""
    try:
        data: JSON = json.loads(text)
    except ValueError:
        return f"the answer is not JSON, so {path} cannot be read: {snippet(text)!r}"
    present, found = _lookup(data, path)
    if not present:
        return f"{path} is missing from the answer"
    shown = _as_text(found)
    if shown != expected:
        return f'{path} is "{snippet(shown)}", expected "{expected}"'
    return ""


def _lookup(data: JSON, path: str) -> tuple[bool, JSON]:
    """Follow `a.b.0.c` through objects (by key) and arrays (by index): (found, value)."""
    node: JSON = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _as_text(value: JSON) -> str:
    """A JSON value as the pipeline file would write it: strings bare, the rest as JSON.

    So `equals: "42"` matches both `42` and `"42"`, and `equals: "true"` matches `true`.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":"))
