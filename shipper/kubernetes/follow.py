"""Following one object through the watch API until a decision is reached.

The loop kubectl and the reference recommend: LIST (state and a resourceVersion), decide
on the listed object, WATCH from that version with a server-side timeout, decide on every
ADDED/MODIFIED, and start again: from the last version seen when the stream simply ended,
from a fresh LIST after 410 Gone. It wakes at least every `poll` seconds even when no
event arrives, to look at pods, the deadline and cancellation, so it never sleeps blindly
and never waits on a stream past the caller's deadline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from shipper.core.model import Verdict
from shipper.errors import PlatformUnavailable
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.errors import KubeGone
from shipper.kubernetes.rollout import Graces, Reading


@dataclass(frozen=True)
class Tuning:
    """How the adapter waits. Tests shorten these; production keeps the defaults."""

    poll: float = 2.0  # the longest stretch without looking at pods, deadline, cancel
    watch_seconds: int = 60  # the longest single watch request
    graces: Graces = field(default_factory=Graces)
    unavailable_limit: int = 5  # consecutive failed watch/list rounds before giving up
    job_ttl_seconds: int = 7 * 24 * 3600  # migration Jobs stay a week for their logs


@dataclass
class Outcome:
    reading: Reading
    obj: Obj | None
    cancelled: bool = False


Decide = Callable[[Obj], Reading]
Tick = Callable[[Obj], Reading | None]


def follow(
    api: KubeApi,
    kind: str,
    name: str,
    *,
    decide: Decide,
    tick: Tick,
    deadline: float,
    cancelled: Callable[[], bool],
    tuning: Tuning,
    pause: Callable[[float], None],
    created: Obj | None = None,
) -> Outcome:
    """Watch `kind/name` until `decide` (on the object) or `tick` (on pods, say) returns a
    final verdict, the monotonic `deadline` passes (TIMED_OUT), or `cancelled()`.

    `created` is the object as the create or patch call just returned it: the watch
    starts from its resourceVersion without a LIST, and the first `tick` waits for the
    first wake-up, since nothing can have happened yet to what was just made or changed
    (a patched Deployment has no new pods a moment later)."""
    clock = api.clock
    selector = f"metadata.name={name}"
    obj: Obj | None = created
    last = Reading(Verdict.PENDING, "waiting")
    rv: str | None = None
    if created is not None:
        rv = str((created.get("metadata") or {}).get("resourceVersion") or "") or None
        last = decide(created)
        if last.verdict.is_final:  # already there (a resumed deploy, say): nothing to watch
            return Outcome(last, created)
    fresh = rv is not None
    failures = 0
    while True:
        if cancelled():
            return Outcome(last, obj, cancelled=True)
        now = clock.monotonic()
        if now >= deadline:
            return Outcome(Reading(Verdict.TIMED_OUT, last.message, last.ready, last.desired), obj)
        try:
            if rv is None:
                items, rv = api.list(kind, field_selector=selector)
                if not items:
                    return Outcome(Reading(Verdict.FAILED, f"{kind}/{name} no longer exists"), None)
                obj = items[0]
                last = decide(obj)
                if last.verdict.is_final:
                    return Outcome(last, obj)
            if obj is not None and not fresh:
                extra = tick(obj)
                if extra is not None and extra.verdict.is_final:
                    return Outcome(extra, obj)
            fresh = False
            wait = max(1, math.ceil(min(tuning.poll, deadline - clock.monotonic())))
            for event in api.watch(
                kind,
                resource_version=rv,
                timeout=min(wait, tuning.watch_seconds),
                field_selector=selector,
            ):
                rv = event.resource_version or rv
                if event.type == "DELETED":
                    return Outcome(
                        Reading(Verdict.FAILED, f"{kind}/{name} was deleted during the rollout"),
                        None,
                    )
                if event.type in ("ADDED", "MODIFIED"):
                    obj = event.object
                    last = decide(obj)
                    if last.verdict.is_final:
                        return Outcome(last, obj)
                if cancelled() or clock.monotonic() >= deadline:
                    break
            failures = 0
        except KubeGone:
            rv = None  # history compacted: list again, then watch from the list's version
        except PlatformUnavailable:
            failures += 1
            if failures >= tuning.unavailable_limit:
                raise
            rv = None
            pause(min(2.0**failures * 0.25, 5.0))
