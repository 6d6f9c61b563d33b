"""One app's rollback: put back exactly the release the snapshot recorded.

Heroku rolls back by creating a new release from an old one (`POST /apps/{app}/releases
{"release": <id>}`), which copies its slug and config and runs release phase again. The
snapshot's release id is used, never "the previous release": after a failed deploy the
previous release may be the failed one.
"""

from __future__ import annotations

import logging

from shipper.core.model import TargetResult, TargetState
from shipper.heroku.history import app_path
from shipper.heroku.labels import rollback_target
from shipper.heroku.resources import Release
from shipper.heroku.steps import AppSteps

log = logging.getLogger("shipper.heroku")

# How long a rollback waits for another version's release phase to end before going on
# (a deploy stopped after its build leaves one running; a stuck one never ends).
FOREIGN_RELEASE_WAIT = 30.0


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


def roll_back_app(steps: AppSteps, to: TargetState) -> TargetResult:
    """Put back the release recorded in `to`, unless it (or a rollback to it) is
    already live or under way. Pending builds are cancelled first."""
    release_id = to.detail.get("release_id")
    version = to.detail.get("release_version")
    if not isinstance(release_id, str) or not isinstance(version, int):
        return steps.failed("the snapshot holds no Heroku release for this app")
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
    floor = newest.version if newest else 0
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
