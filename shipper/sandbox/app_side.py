"""The application as one side serves it: `/health`, and a Prometheus for its metrics.

Each side gets its own endpoint, reading the version it runs from the stand-ins' live
state (the current Heroku release, the image of the Kubernetes pods that are ready), so
a check answers about what really runs there now, not about what ship asked for.

- `GET /health` -> 200 `{"status": "ok", "version": "v2", "side": ..., "targets": {...}}`,
  or 503 with `"status": "failing"` while any target runs a version that fails its health
  checks (see `scenarios`), or `"status": "starting"` while nothing serves yet.
- `GET|POST /api/v1/query` (the Prometheus HTTP API) -> an instant vector with the side's
  5xx ratio: about 0.2 % normally, climbing to 35 % within a second of a broken version
  starting to serve. The query `up` answers 1. Scripted answers for the reliability
  suite: `mode` = `empty` (no series), `nan`, or `error` (HTTP 422, `bad_data`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from shipper.sandbox import scenarios
from shipper.sandbox.faults import Fault, FaultPlan
from shipper.sandbox.web import Answer, Request

RAMP_SECONDS = 1.0
MODES = ("normal", "empty", "nan", "error")

VersionSource = Callable[[], Mapping[str, str | None]]


def is_unhealthy(version: str | None) -> bool:
    return scenarios.fails_health(version) or scenarios.crashes_dynos(version)


class AppSide:
    """The application's endpoints on one side, over a live view of what runs there."""

    def __init__(
        self, side: str, versions: VersionSource, clock: Callable[[], float] = time.time
    ) -> None:
        self.side = side
        self.versions = versions
        self.faults = FaultPlan()
        self.mode = "normal"
        self.health_reads = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str | None, float]] = {}  # target -> (version, since)

    def handle(self, request: Request) -> Answer:
        if request.path == "/health" and request.method in ("GET", "HEAD"):
            return self._health()
        if request.path == "/api/v1/query" and request.method in ("GET", "POST"):
            return self._query(request)
        return Answer.of_json(404, {"status": "error", "error": "not found"})

    def fault_answer(self, fault: Fault) -> Answer:
        return Answer.of_text(fault.status, "upstream connect error\n")

    def _observe(self) -> dict[str, tuple[str | None, float]]:
        """Each target's version and since when it has served it (for the error ramp)."""
        now = self._clock()
        current = dict(self.versions())
        with self._lock:
            for target, version in current.items():
                seen = self._seen.get(target)
                if seen is None or seen[0] != version:
                    self._seen[target] = (version, now)
            return {t: self._seen[t] for t in current}

    def _health(self) -> Answer:
        with self._lock:
            self.health_reads += 1
        seen = self._observe()
        targets = {t: v for t, (v, _) in seen.items()}
        primary = next(iter(targets.values()), None)
        body: dict[str, Any] = {"side": self.side, "version": primary, "targets": targets}
        if not targets or any(v is None for v in targets.values()):
            return Answer.of_json(503, {**body, "status": "starting"})
        if any(is_unhealthy(v) for v in targets.values()):
            return Answer.of_json(503, {**body, "status": "failing"})
        return Answer.of_json(200, {**body, "status": "ok"})

    def error_rate(self) -> float:
        """The side's 5xx ratio now: the worst of its targets."""
        now = self._clock()
        worst = scenarios.HEALTHY_ERROR_RATE
        for version, since in self._observe().values():
            if is_unhealthy(version):
                ramp = min(1.0, max(0.0, now - since) / RAMP_SECONDS)
                rate = scenarios.HEALTHY_ERROR_RATE + ramp * (
                    scenarios.BROKEN_ERROR_RATE - scenarios.HEALTHY_ERROR_RATE
                )
                worst = max(worst, rate)
        return worst

    def _query(self, request: Request) -> Answer:
        query = request.arg("query")
        if request.method == "POST" and query is None:
            form = parse_qs(request.body.decode("utf-8", "replace"))
            query = next(iter(form.get("query", [])), None)
        if not query:
            return _prom_error(400, "bad_data", 'invalid parameter "query": no query given')
        if self.mode == "error":
            return _prom_error(422, "execution", "query processing would load too many samples")
        now = self._clock()
        if self.mode == "empty":
            return _vector([])
        value = 1.0 if query.strip() == "up" else self.error_rate()
        if self.mode == "nan":
            value = math.nan
        text = "NaN" if math.isnan(value) else f"{value:.6g}"
        metric = {"side": self.side, "job": f"{self.side}-app"}
        return _vector([{"metric": metric, "value": [round(now, 3), text]}])


def _vector(result: list[Any]) -> Answer:
    return Answer.of_json(
        200, {"status": "success", "data": {"resultType": "vector", "result": result}}
    )


def _prom_error(status: int, kind: str, message: str) -> Answer:
    return Answer.of_json(status, {"status": "error", "errorType": kind, "error": message})
