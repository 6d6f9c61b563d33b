"""One app's rollback: put back exactly the release the snapshot recorded.

Heroku rolls back by creating a new release from an old one (`POST /apps/{app}/releases
{"release": <id>}`), which copies its slug and config and runs release phase again. The
snapshot's release id is used, never "the previous release": after a failed deploy the
previous release may be the failed one.

Before the POST, the app is read: is it already back, or a rollback to the release under
way (a retry, or a resume in a new process)? Is a build still running, or another
release in release phase, that would go live behind the rollback? All three can only
come from a release this process does not know the end of. So the first rollback in the
process whose deploy followed each app's release to its end, current, with its build
finished (`LeftLive`), posts at once: the failing bake is answered in one round trip.
The POST itself is adopted, never repeated, when its answer is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shipper.core.model import TargetResult, TargetState
from shipper.heroku.history import app_path
from shipper.heroku.labels import rollback_target
from shipper.heroku.resources import Release
from shipper.heroku.steps import AppSteps

log = logging.getLogger("shipper.heroku")

# How long a rollback waits for another version's release phase to end before going on
# (a deploy stopped after its build leaves one running; a stuck one never ends).
FOREIGN_RELEASE_WAIT = 30.0


@dataclass(frozen=True)
class LeftLive:
    """The release a deploy of this process followed to its end and left current on an
    app (every build it made had finished by then)."""

    release_id: str
    version: int

    @classmethod
    def of(cls, state: TargetState) -> LeftLive | None:
        release_id, version = state.detail.get("release_id"), state.detail.get("release_version")
        if not isinstance(release_id, str) or not isinstance(version, int):
            return None
        return cls(release_id, version)


def cancel_pending_builds(steps: AppSteps) -> None:
    """Cancel every build still pending on the app.

    A build of the version being rolled back (from a deploy that was fenced or
    interrupted while building) would otherwise finish after the rollback and release
    itself, making the bad version current again behind ship's back.
    """
    steps.history.read_both()  # the rollback reads the releases next: one round trip
    cancelled = False
    for build in steps.history.builds():
        if build.status != "pending":
            continue
        cancelled = True
        steps.op.intend(
            steps.target, "cancel build", {"build": build.id, "version": build.source_version}
        )
        steps.op.progress(
            steps.target,
            "rolling back",
            f"cancelling the build of {build.source_version or 'an unknown version'}",
        )
        steps.api.delete(
            f"{app_path(steps.app)}/builds/{build.id}", f"cancel a build on {steps.app}"
        )
    if cancelled:  # read the app afresh after changing it; else what was read still holds
        steps.refresh()


def roll_back_app(steps: AppSteps, to: TargetState, left: LeftLive | None = None) -> TargetResult:
    """Put back the release recorded in `to`, unless it (or a rollback to it) is
    already live or under way. Pending builds are cancelled first. `left`: what this
    process's deploy left live on the app, when it is another release than `to`'s: then
    nothing else can be under way, and the rollback is posted without reading first."""
    release_id = to.detail.get("release_id")
    version = to.detail.get("release_version")
    if not isinstance(release_id, str) or not isinstance(version, int):
        return steps.failed("the snapshot holds no Heroku release for this app")
    if left is not None and left.release_id != release_id:
        return _post_rollback(steps, to, release_id, version, floor=left.version)
    cancel_pending_builds(steps)
    label = to.version
    newest, current = steps.history.newest(), steps.history.current()
    if (
        newest
        and not newest.is_final
        and rollback_target(newest.description) != version
        and (current is None or newest.version > current.version)
    ):
        # A release of something else still in release phase (a deploy stopped after its
        # build, say) would go live after this rollback found nothing left to do. It
        # cannot be cancelled: give it FOREIGN_RELEASE_WAIT to end, then look again. One
        # stuck in release phase is not waited on for longer: the rollback goes on.
        steps.op.progress(
            steps.target,
            "rolling back",
            f"waiting for release v{newest.version} to finish its release phase first",
        )
        if steps.await_release_phase(newest, FOREIGN_RELEASE_WAIT) is None:
            said = (
                f"release v{newest.version} is still in release phase after "
                f"{FOREIGN_RELEASE_WAIT:g}s; rolling back without waiting for it"
            )
            log.warning("%s: %s", steps.app, said)
            steps.op.progress(steps.target, "rolling back", said)
        steps.refresh()
    current = steps.history.current()
    if (
        current
        and current.status == "succeeded"
        and (current.id == release_id or rollback_target(current.description) == version)
    ):
        return steps.done(current, label, f"already back on v{version}")
    newest = steps.history.newest()
    if (
        newest
        and not newest.is_final
        and rollback_target(newest.description) == version
        and (current is None or newest.version > current.version)
    ):
        return steps.follow_release(newest, label)
    return _post_rollback(steps, to, release_id, version, floor=newest.version if newest else 0)


def _post_rollback(
    steps: AppSteps, to: TargetState, release_id: str, version: int, *, floor: int
) -> TargetResult:
    """POST the rollback to `release_id` (v`version`) and follow it. `floor`: the newest
    release known before it, below which an ambiguous POST's release is not looked for."""
    label = to.version
    steps.op.intend(steps.target, "roll back", {"to_release": release_id, "to_version": version})
    steps.op.progress(steps.target, "rolling back", f"to v{version}")

    def find() -> Release | None:
        return next(
            (
                r
                for r in steps.refresh().releases()
                if r.version > floor and rollback_target(r.description) == version
            ),
            None,
        )

    release = steps.create_adopting(
        lambda: Release.parse(
            steps.api.post(
                f"{app_path(steps.app)}/releases",
                f"roll {steps.app} back to v{version}",
                {"release": release_id},
            )
        ),
        find,
        f"rollback to v{version}",
    )
    return steps.follow_release(release, label)
