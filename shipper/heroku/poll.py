"""Frugal waiting on one Heroku resource: its output stream, else conditional GETs at
intervals that grow.

A build or a release command with an output stream is waited on through that stream
(`stream.py`): the resource is read again the moment the stream ends, and otherwise only
every `longest` seconds. The schedule below is for everything else, and for when a stream
fails or ends too early.

A build takes minutes and release phase can take an hour, while the account has 4,500
calls an hour for everything. So the first look comes soon (`first`, 0.5 s: a release
with a short release phase, or none, is done within about a second), and each look that
shows nothing new waits longer, x`growth` per look up to `longest` (20 s), but never
longer than `share` (a quarter) of the time already waited since the last change, nor
shorter than `first`. A change resets the wait. Unchanged resources cost a 304 (ETag /
If-None-Match) and no parsing.

Lateness: the end of a wait is noticed at most one interval after it happens, so at most a
quarter of the wait so far (an eighth on average) once past the first 2 s, and at most
0.5 s before; never more than 20 s. The previous schedule (3 s, then x1.5 up to 20 s)
noticed the sandbox's 1.5 s releases about 2 s late, and a 10 s wait up to 5 s late.

Cost (looks after the first, immediate one): a wait of T seconds takes 1 to 4 looks under
2 s, 12 for 10 s, 20 for a minute, 32 for a 5-minute build and 47 for 10 minutes (the
previous schedule: 1, 3, 7, 19 and 34): about 4 looks for the first 2 s, 4.5 per doubling
of T up to 80 s (where a quarter of the wait reaches the 20 s cap), then one per 20 s. A
source release waits twice (build, then release phase), so one app's release with a
5-minute build and a short release phase costs about 36 GETs instead of 22: at 8 apps that
is about 290 of the account's 4,500 calls an hour per release (110 more than before),
beside the bake's health checks, which cost more (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shipper.core.model import Verdict
from shipper.heroku.api import HerokuApi, Json
from shipper.heroku.stream import StreamWatch
from shipper.ports import Operation

T = TypeVar("T")


@dataclass(frozen=True)
class PollSettings:
    first: float = 0.5  # the first look, and the shortest interval
    growth: float = 1.5  # per look that shows nothing new ...
    longest: float = 20.0  # ... up to this
    share: float = 0.25  # ... and never past this share of the time waited so far

    def next_interval(self, interval: float, waited: float) -> float:
        """The interval after a look that showed nothing new, `waited` seconds into a wait."""
        return max(self.first, min(interval * self.growth, self.longest, self.share * waited))


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
    stream_of: Callable[[T], str | None] | None = None,
    first: T | None = None,
    until: float | None = None,
    settled: Callable[[T], T | None] | None = None,
) -> Watched[T]:
    """Poll `path` until `is_final`, the operation's deadline, or its cancellation.

    With `stream_of` (the resource's output stream URL, once it has one) the wait follows
    that stream instead, looking at the resource as soon as the stream ends and otherwise
    every `longest` seconds; a stream that fails, or ends before the resource is final,
    hands back to polling. `first` is the resource as the caller read it a moment ago:
    while it runs with a stream to wait on, it is not read again before the wait.
    `until` (monotonic) ends the wait sooner than the operation's deadline. `settled`:
    once the stream has reached its end, a cheaper proof of the final state than reading
    the resource (the final value, or None to read it as usual)."""
    etag: str | None = None
    interval = settings.first
    since = op.clock.monotonic()  # when the resource last changed (or the wait began)
    usable = (
        first is not None
        and not is_final(first)
        and stream_of is not None
        and bool(stream_of(first))
    )
    if first is None or not usable:
        page = api.get_if_changed(path, action, etag)
        value = parse(page.body)
        etag = page.etag
    else:
        value = first
    if on_change:
        on_change(value)
    watch: StreamWatch | None = None
    streaming: StreamWatch | None = None  # the watch while its end is still to be seen
    try:
        while not is_final(value):
            if op.cancelled:
                return Watched(value, Verdict.PENDING)
            deadline = op.deadline if until is None else min(op.deadline, until)
            left = deadline - op.clock.monotonic()
            if left <= 0:
                return Watched(value, Verdict.TIMED_OUT)
            if watch is None and stream_of is not None and (url := stream_of(value)):
                watch = streaming = StreamWatch(api, url)
            if streaming is not None:
                streaming.wait(op, min(settings.longest, left))
                if not streaming.alive:  # one look after its end, then polling
                    ended, streaming = streaming.ended, None
                    proved = settled(value) if ended and settled is not None else None
                    if proved is not None:
                        value = proved
                        if on_change:
                            on_change(value)
                        continue
            else:
                op.pause(min(interval, left))
            if op.cancelled:
                return Watched(value, Verdict.PENDING)
            page = api.get_if_changed(path, action, etag)
            if page.body is None:
                interval = settings.next_interval(interval, op.clock.monotonic() - since)
                continue
            new = parse(page.body)
            etag = page.etag
            if new != value:
                interval = settings.first
                since = op.clock.monotonic()
                if on_change:
                    on_change(new)
            else:
                interval = settings.next_interval(interval, op.clock.monotonic() - since)
            value = new
        return Watched(value, None)
    finally:
        if watch is not None:
            watch.close()
