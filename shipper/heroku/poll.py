"""Frugal waiting on one Heroku resource: conditional GETs at intervals that grow.

A build takes minutes and release phase can take an hour, while the account has 4,500
calls an hour for everything. So the first look comes soon, each look that shows nothing
new waits longer (up to `longest`), and a change resets the interval. Unchanged
resources cost a 304 (ETag / If-None-Match) and no parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shipper.core.model import Verdict
from shipper.heroku.api import HerokuApi, Json
from shipper.ports import Operation

T = TypeVar("T")


@dataclass(frozen=True)
class PollSettings:
    first: float = 3.0
    growth: float = 1.5
    longest: float = 20.0


@dataclass(frozen=True)
class Watched(Generic[T]):
    """The last state seen, and why the wait ended: None when the resource reached a
    final state, PENDING when the operation was cancelled, TIMED_OUT at its deadline."""

    value: T
    stopped: Verdict | None


def follow(
    api: HerokuApi,
    path: str,
    action: str,
    parse: Callable[[Json], T],
    is_final: Callable[[T], bool],
    op: Operation,
    settings: PollSettings,
    on_change: Callable[[T], None] | None = None,
) -> Watched[T]:
    """Poll `path` until `is_final`, the operation's deadline, or its cancellation."""
    etag: str | None = None
    interval = settings.first
    page = api.get_if_changed(path, action, etag)
    value = parse(page.body)
    etag = page.etag
    if on_change:
        on_change(value)
    while not is_final(value):
        if op.cancelled:
            return Watched(value, Verdict.PENDING)
        left = op.deadline - op.clock.monotonic()
        if left <= 0:
            return Watched(value, Verdict.TIMED_OUT)
        op.pause(min(interval, left))
        if op.cancelled:
            return Watched(value, Verdict.PENDING)
        page = api.get_if_changed(path, action, etag)
        if page.body is None:
            interval = min(interval * settings.growth, settings.longest)
            continue
        new = parse(page.body)
        etag = page.etag
        if new != value:
            interval = settings.first
            if on_change:
                on_change(new)
        else:
            interval = min(interval * settings.growth, settings.longest)
        value = new
    return Watched(value, None)
