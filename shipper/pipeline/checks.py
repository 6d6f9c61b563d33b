"""The `verify:` section: HTTP and Prometheus checks per side, the bake and its limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from shipper.core.model import Side
from shipper.pipeline.values import Duration, Strict, check_url, first_duplicate


class HttpCheck(Strict):
    url: str
    status: tuple[int, ...] = ()  # empty: any 2xx
    body_contains: str | None = None
    json_field: str | None = None  # dotted path into the JSON answer
    equals: str | None = None  # what json_field must equal ({version} allowed)
    max_latency: Duration | None = None
    timeout: Duration = 5.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @model_validator(mode="after")
    def _pair(self) -> HttpCheck:
        if (self.json_field is None) != (self.equals is None):
            raise ValueError("json_field and equals go together")
        return self


class PrometheusAuth(Strict):
    bearer_token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None


class PrometheusCheck(Strict):
    url: str
    query: str = Field(min_length=1)
    max: float | None = None
    min: float | None = None
    on_empty: Literal["inconclusive", "pass", "fail"] = "inconclusive"
    auth: PrometheusAuth | None = None
    timeout: Duration = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @model_validator(mode="after")
    def _threshold(self) -> PrometheusCheck:
        if self.max is None and self.min is None:
            raise ValueError("a prometheus check needs max or min")
        return self


class CheckSpec(Strict):
    name: str = Field(min_length=1, max_length=63)
    side: Side
    http: HttpCheck | None = None
    prometheus: PrometheusCheck | None = None

    @model_validator(mode="after")
    def _one(self) -> CheckSpec:
        if (self.http is None) == (self.prometheus is None):
            raise ValueError(f'check "{self.name}" needs exactly one of http or prometheus')
        return self


class Verify(Strict):
    bake: Duration = 300.0
    interval: Duration = 15.0
    failure_limit: int = Field(default=2, ge=0, le=100)
    inconclusive_limit: int = Field(default=3, ge=0, le=100)
    checks: tuple[CheckSpec, ...] = ()

    @field_validator("checks")
    @classmethod
    def _unique(cls, v: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
        dup = first_duplicate([c.name for c in v])
        if dup:
            raise ValueError(f'check "{dup}" is defined twice')
        return v

    @model_validator(mode="after")
    def _interval(self) -> Verify:
        if self.interval <= 0:
            raise ValueError("interval must be above zero")
        return self
