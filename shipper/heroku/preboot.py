"""Preboot: Heroku keeps the previous release's web dynos serving beside the new ones for
minutes after a release is current. A deploy waits that out, so the bake that follows
measures only the new code.

The dyno list is asked directly, whether or not the app has the preboot feature: it names
each dyno's release and state, so one call answers both "is preboot on?" and "is it over?"
(an app without preboot has no older web dyno serving once its release is current), and
an app whose old web dynos outlive their release for any other reason is waited out too."""

from __future__ import annotations

from shipper.core.model import Target, Verdict
from shipper.heroku.api import HerokuApi
from shipper.heroku.history import app_path
from shipper.heroku.poll import PollSettings
from shipper.heroku.resources import Dyno, Release, parse_list
from shipper.ports import Operation


def await_preboot(
    api: HerokuApi,
    app: str,
    target: Target,
    op: Operation,
    poll: PollSettings,
    release: Release,
    first: list[Dyno] | None = None,
) -> Verdict | None:
    """Wait until no web dyno of a release older than `release` is up or starting. None
    when that happened; PENDING (cancelled) or TIMED_OUT (the operation's deadline).
    `first`: the dyno list as read a moment ago, taken as the first look."""
    interval, waited = poll.first, 0.0
    while True:
        dynos = first if first is not None else list_dynos(api, app)
        first = None
        old = [
            d
            for d in dynos
            if d.type == "web"
            and d.release_version is not None
            and d.release_version < release.version
            and d.state in ("up", "starting")
        ]
        if not old:
            return None
        if op.cancelled:
            return Verdict.PENDING
        if op.clock.monotonic() >= op.deadline:
            return Verdict.TIMED_OUT
        op.progress(
            target,
            "preboot",
            f"waiting for preboot to finish: {len(old)} web dyno(s) of release "
            f"v{old[0].release_version} still serve",
        )
        op.pause(interval)
        waited += interval
        interval = poll.next_interval(interval, waited)


def list_dynos(api: HerokuApi, app: str) -> list[Dyno]:
    return parse_list(
        api.get(f"{app_path(app)}/dynos", f"list the dynos of {app}"), Dyno.parse, "dynos"
    )


def runs_on(dynos: list[Dyno], release: Release) -> bool:
    """Whether a formation dyno runs `release`: Heroku boots none on a release before its
    release phase has succeeded and it went live (release-phase and one-off dynos, which
    run earlier, do not count)."""
    return any(not d.one_off and d.release_id == release.id for d in dynos)
