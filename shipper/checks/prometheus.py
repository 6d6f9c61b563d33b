"""A Prometheus instant query as a regression check, with a `max` and/or `min` threshold.

Modelled on Argo Rollouts' Prometheus provider, with the decisions its users otherwise
write by hand into every success condition made once here:

- Every series counts. A vector answer passes only when every sample is within the
  threshold; Argo hands the list to an expression that usually reads `result[0]` and
  silently ignores the other series.
- Thresholds are inclusive: `max: 0.01` passes at exactly 0.01 and fails above it.
- No data is never a pass unless the file says so (`on_empty`, default inconclusive).
- NaN is missing data, not a number: a ratio like errors/requests is NaN when there was
  no traffic. NaN samples are left out, and a result with nothing but NaN is handled as
  empty (`on_empty`). +Inf and -Inf are compared as the numbers they are: a p99 of +Inf
  (the quantile fell into the last histogram bucket) breaks any `max`.
- Prometheus trouble (unreachable, timeout, 4xx/5xx, `status: error`, an answer that is
  not JSON, a range vector or string result) is INCONCLUSIVE: ship has no reading, which
  is not proof the release is bad, and the inconclusive limit still fails the release if
  the trouble lasts. Only a reading beyond the threshold is FAILED.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal

import httpx

from shipper.checks.transport import (
    describe_transport_error,
    is_connect_failure,
    redact,
    shown_url,
    snippet,
)
from shipper.core.model import JSON, Measurement, MeasurementStatus, Probe, Side, Version
from shipper.pipeline import render

OnEmpty = Literal["inconclusive", "pass", "fail"]
QUERY_PATH = "/api/v1/query"


@dataclass(frozen=True)
class PrometheusCredentials:
    """Either a bearer token or a username and password, read from the environment.

    `source` names where they came from (the env variable names, never the values), so a
    refusal can say which variable to check.
    """

    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    source: str = ""

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.bearer_token, self.password) if s)

    def __repr__(self) -> str:  # a stray repr() in a log must not print a token
        return f"PrometheusCredentials(source={self.source!r})"


@dataclass(frozen=True)
class _Sample:
    labels: str
    value: float


class PrometheusCheck:
    """Run one instant query per interval and compare every sample with the threshold.

    `query` may hold `{version}` (plain substitution), for example to select the new
    version's pods by label. The query is evaluated at the server's current time with
    Prometheus' own evaluation `timeout` set to ours, so a slow query is stopped there too.
    """

    def __init__(
        self,
        name: str,
        side: Side,
        *,
        url: str,
        query: str,
        client: httpx.Client,
        maximum: float | None = None,
        minimum: float | None = None,
        on_empty: OnEmpty = "inconclusive",
        timeout: float = 10.0,
        credentials: PrometheusCredentials | None = None,
    ) -> None:
        if maximum is None and minimum is None:
            raise ValueError("a prometheus check needs max or min")
        self._name = name
        self._side = side
        self._endpoint = _endpoint(url)
        self._query = query
        self._client = client
        self._max = maximum
        self._min = minimum
        self._on_empty: OnEmpty = on_empty
        self._timeout = timeout
        self._credentials = credentials or PrometheusCredentials()

    @property
    def name(self) -> str:
        return self._name

    @property
    def side(self) -> Side:
        return self._side

    @property
    def timeout_seconds(self) -> float:
        """The limit on each network wait of a measurement (and on Prometheus' evaluation)."""
        return self._timeout

    @property
    def threshold(self) -> str:
        parts = []
        if self._min is not None:
            parts.append(f">= {self._min:g}")
        if self._max is not None:
            parts.append(f"<= {self._max:g}")
        return f"every series {' and '.join(parts)} (no data: {self._on_empty})"

    @property
    def uses_version(self) -> bool:
        return "{version}" in self._query

    def measure(self, version: Version) -> Measurement:
        """Query once and judge the answer; never raises (see the module docstring)."""
        try:
            response = self._query_once(version)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            return self._inconclusive(
                "", f"Prometheus: {describe_transport_error(exc, self._timeout, self._endpoint)}"
            )
        return self._judge(response)

    def probe(self, version: Version) -> Probe:
        """Run the query once before any change: reached, and data or "no data"."""
        where = f"{shown_url(self._endpoint)} query {snippet(self._query)}"
        try:
            response = self._query_once(version)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            reached = not is_connect_failure(exc)
            answer = f"Prometheus: {describe_transport_error(exc, self._timeout)}"
            return Probe(reached, False, where, redact(answer, self._credentials.secrets()))
        m = self._judge(response)
        if m.value in ("no data", "NaN"):
            return Probe(True, True, where, f"answered: no data ({m.value}) for now")
        if m.status is MeasurementStatus.INCONCLUSIVE:
            return Probe(True, False, where, m.message)
        return Probe(True, True, where, f"answered: {m.value}")

    def _query_once(self, version: Version) -> httpx.Response:
        return self._client.get(
            self._endpoint,
            params={
                "query": render(self._query, version),
                "timeout": f"{round(self._timeout * 1000)}ms",
            },
            headers=self._headers(),
            auth=self._auth(),
            timeout=self._timeout,
            follow_redirects=False,
        )

    def _judge(self, response: httpx.Response) -> Measurement:
        code = response.status_code
        try:
            body: JSON = json.loads(response.content)
        except ValueError:
            return self._inconclusive(
                "",
                f"Prometheus answered {code} with something that is not JSON: "
                f"{snippet(response.text)!r}",
            )
        if code in (401, 403):
            where = f"; check {self._credentials.source}" if self._credentials.source else ""
            return self._inconclusive("", f"Prometheus refused the request ({code}){where}")
        if not isinstance(body, dict) or body.get("status") != "success" or code >= 300:
            return self._inconclusive("", f"Prometheus answered {code}: {_api_error(body)}")
        samples = _samples(body.get("data"))
        if isinstance(samples, str):
            return self._inconclusive("", samples)
        numbers = [s for s in samples if not math.isnan(s.value)]
        if not numbers:
            return self._empty("NaN" if samples else "no data")
        return self._compare(numbers)

    def _compare(self, samples: list[_Sample]) -> Measurement:
        if self._max is not None:
            over = [s for s in samples if s.value > self._max]
            if over:
                worst = _highest(over)
                return _measured(
                    MeasurementStatus.FAILED,
                    worst,
                    f"{_fmt(worst.value)} > max {self._max:g}{_where(worst, samples)}",
                )
        if self._min is not None:
            under = [s for s in samples if s.value < self._min]
            if under:
                worst = _lowest(under)
                return _measured(
                    MeasurementStatus.FAILED,
                    worst,
                    f"{_fmt(worst.value)} < min {self._min:g}{_where(worst, samples)}",
                )
        nearest = _highest(samples) if self._max is not None else _lowest(samples)
        return _measured(MeasurementStatus.SUCCESSFUL, nearest, "")

    def _empty(self, what: str) -> Measurement:
        reason = f"the query returned {what} (on_empty: {self._on_empty})"
        if self._on_empty == "pass":
            return Measurement(MeasurementStatus.SUCCESSFUL, what, reason)
        if self._on_empty == "fail":
            return Measurement(MeasurementStatus.FAILED, what, reason)
        return Measurement(MeasurementStatus.INCONCLUSIVE, what, reason)

    def _inconclusive(self, value: str, message: str) -> Measurement:
        return Measurement(
            MeasurementStatus.INCONCLUSIVE, value, redact(message, self._credentials.secrets())
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._credentials.bearer_token:
            headers["Authorization"] = f"Bearer {self._credentials.bearer_token}"
        return headers

    def _auth(self) -> httpx.BasicAuth | None:
        creds = self._credentials
        if creds.username is not None and creds.password is not None:
            return httpx.BasicAuth(creds.username, creds.password)
        return None


def _endpoint(url: str) -> str:
    """The query endpoint under `url`, which may carry a path prefix or be the endpoint."""
    base = url.rstrip("/")
    return base if base.endswith(QUERY_PATH) else base + QUERY_PATH


def _samples(data: JSON) -> list[_Sample] | str:
    """The samples of a scalar or instant-vector answer, or why there are none to read."""
    if not isinstance(data, dict):
        return "Prometheus answered success without data"
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        value = _number(result)
        return [_Sample("", value)] if value is not None else "Prometheus sent a bad scalar"
    if kind == "vector" and isinstance(result, list):
        samples: list[_Sample] = []
        for item in result:
            value = _number(item.get("value")) if isinstance(item, dict) else None
            if value is None:
                return "Prometheus sent a vector sample ship cannot read"
            metric = item.get("metric") if isinstance(item, dict) else None
            samples.append(_Sample(_labels(metric), value))
        return samples
    if kind == "matrix":
        return (
            "the query returns a range vector; make it an instant one "
            "(for example max_over_time(...[5m]) or rate(...[5m]))"
        )
    return f"the query returns {kind!s:.20}, not a number; ship compares scalars and vectors"


def _number(pair: JSON) -> float | None:
    """The value of a `[timestamp, "value"]` pair: "NaN", "+Inf" and "-Inf" included."""
    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], str):
        return None
    try:
        return float(pair[1])
    except ValueError:
        return None


def _labels(metric: JSON) -> str:
    if not isinstance(metric, dict) or not metric:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"


def _api_error(body: JSON) -> str:
    if isinstance(body, dict) and (body.get("error") or body.get("errorType")):
        return snippet(f"{body.get('errorType') or 'error'}: {body.get('error') or ''}")
    return "no success status in the answer"


def _highest(samples: list[_Sample]) -> _Sample:
    return max(samples, key=lambda s: s.value)


def _lowest(samples: list[_Sample]) -> _Sample:
    return min(samples, key=lambda s: s.value)


def _measured(status: MeasurementStatus, sample: _Sample, message: str) -> Measurement:
    return Measurement(status, _fmt(sample.value), message)


def _where(sample: _Sample, samples: list[_Sample]) -> str:
    series = f" of {len(samples)} series" if len(samples) > 1 else ""
    return f" for {snippet(sample.labels)}{series}" if sample.labels else series


def _fmt(value: float) -> str:
    """Prometheus' own spelling of the special values, `%g` for the rest."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}"
