"""`HerokuPlatform`: the Heroku side of a release, as the `Platform` port promises it.

Every app is handled in its own thread (`deploy`, `roll_back`, `snapshot`, `health`):
a release of five apps takes as long as the slowest, not the sum. A failure of one app
is that app's FAILED result; only a failure of the whole side (the token is refused)
raises, after every thread has stopped.

What this process read or did a moment ago is used instead of asking again, where that
cannot let a retry repeat anything: a deploy's live-state check takes the releases list,
and the builds list when the snapshot was told of the deploy, that the snapshot read under
this same lock (if younger than the ports' `FRESH_SECONDS`), and the first
rollback after this process's own deploy knows what that deploy left live (see
`shipper.heroku.rollback`). A resumed release, in a new process, reads everything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from shipper.core.model import (
    Finding,
    Measurement,
    MeasurementStatus,
    Side,
    Target,
    TargetResult,
    TargetState,
    Verdict,
    Version,
)
from shipper.errors import (
    MalformedAnswer,
    PlatformAuthError,
    PlatformError,
    PlatformUnavailable,
)
from shipper.heroku.api import HerokuApi
from shipper.heroku.health import AppHealth
from shipper.heroku.history import AppHistory, LabelCache, SlugCache
from shipper.heroku.image import ImageResolver
from shipper.heroku.poll import PollSettings
from shipper.heroku.rollback import LeftLive, roll_back_app
from shipper.heroku.states import release_state
from shipper.heroku.steps import AppSteps, Prepared
from shipper.pipeline import render
from shipper.ports import FRESH_SECONDS, Operation
from shipper.workers import Workers

log = logging.getLogger("shipper.heroku")

T = TypeVar("T")


@dataclass(frozen=True)
class HerokuArtifact:
    """How the apps get a version: built from a source tarball on every app (`source`),
    built once and its slug released on the others (`slug`), or a container image
    released through the formation (`image`)."""

    type: Literal["source", "slug", "image"]
    url: str | None = None  # source and slug: tarball URL template with {version}
    image: str | None = None  # image: image reference (or sha256 digest) template
    process_types: tuple[str, ...] = ("web",)


class HerokuPlatform:
    """Some Heroku apps running one application."""

    def __init__(
        self,
        api: HerokuApi,
        apps: Sequence[str],
        artifact: HerokuArtifact,
        *,
        poll: PollSettings | None = None,
        images: ImageResolver | None = None,
    ) -> None:
        self._api = api
        self._apps = tuple(apps)
        self._artifact = artifact
        self._poll = poll or PollSettings()
        self._images = images
        self._labels = LabelCache()
        self._slugs = SlugCache()
        self._health = AppHealth(api, self._history)
        self._read: dict[str, tuple[float, AppHistory]] = {}  # app -> when, what was read
        self._left: dict[str, LeftLive] = {}  # app -> what this process's deploy left live
        self._guard = threading.Lock()
        # one thread per app, started once and reused by every operation (`_parallel`)
        self._workers = Workers("heroku")

    @property
    def side(self) -> Side:
        return Side.HEROKU

    @property
    def api(self) -> HerokuApi:
        return self._api

    def targets(self) -> Sequence[Target]:
        return [Target(Side.HEROKU, app) for app in self._apps]

    # --- snapshot -----------------------------------------------------------------

    def snapshot(self, *, deploying: Version | None = None) -> Sequence[TargetState]:
        """Each app's current release (the first call starts the threads a rollback
        uses). With `deploying`, each app's builds list is read beside its releases: the
        deploy's first step asks whether a build of the version is under way, and would
        otherwise pay a round trip of its own before creating the build."""
        return self._each(lambda app: self._snapshot_app(app, deploying))

    def _snapshot_app(self, app: str, deploying: Version | None) -> TargetState:
        history = self._history(app)
        target = Target(Side.HEROKU, app)
        read_at = self._api.clock.monotonic()
        if deploying is not None:
            history.read_both()
        current = history.current()
        with self._guard:
            self._read[app] = (read_at, history)
        if current is None:
            return TargetState(target, None, {}, healthy=None, message="no current release")
        label = history.label(current)
        newest = history.newest()
        message = ""
        if newest and newest.version > current.version and not newest.is_final:
            message = f"release v{newest.version} is in release phase"
        elif label is None:
            slug = f"slug {current.slug_id}" if current.slug_id else "no slug"
            message = f"release v{current.version} ({slug}) carries no version ship can read"
        return replace(release_state(history, current, label), message=message)

    # --- preflight ----------------------------------------------------------------

    def preflight(self, version: Version) -> Sequence[Finding]:
        """Nothing to refuse on Heroku yet: the snapshot already proved every app readable
        with this token, and a release in release phase is waited out by the steps."""
        return []

    # --- deploy -------------------------------------------------------------------

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        before = self._api.calls
        results: Sequence[TargetResult]
        try:
            match self._artifact.type:
                case "source":
                    url = render(self._need(self._artifact.url, "url"), version)
                    results = self._each_result(
                        lambda app: self._finish(
                            self._checked(app, op).prepare_build(version, url), app, op, version
                        )
                    )
                case "slug":
                    results = self._deploy_slug(version, op)
                case "image":
                    results = self._deploy_image(version, op)
        finally:
            op.metric("heroku_api_calls", self._api.calls - before)
        self._remember(results)
        return results

    def _deploy_slug(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        """Build once on the first app, then release that slug everywhere."""
        url = render(self._need(self._artifact.url, "url"), version)
        first = self._apps[0]
        try:
            prepared = self._checked(first, op).prepare_build(version, url)
        except PlatformAuthError:
            raise
        except PlatformError as exc:
            prepared = Prepared(result=self._steps(first, op).failed(str(exc)))
        slug_id = prepared.slug_id
        if slug_id is None:
            head = prepared.result or self._steps(first, op).failed("the build made no slug")
            # The others changed nothing; they share the first app's verdict, so a build
            # that is merely still running (PENDING, TIMED_OUT) is not reported as failed.
            why = "failed" if head.verdict is Verdict.FAILED else "did not finish"
            rest = [
                TargetResult(
                    Target(Side.HEROKU, app),
                    head.verdict,
                    message=f"not released: the build on {first} {why}",
                )
                for app in self._apps[1:]
            ]
            return [head, *rest]

        def one(app: str) -> TargetResult:
            if app == first:
                return self._finish(prepared, app, op, version)
            steps = self._checked(app, op)
            running = steps.running(version)
            if running:
                return steps.done(running, version, f"already runs {version}")
            pending = steps.in_flight(version)
            release = pending or steps.release_slug(slug_id, version)
            return steps.follow_release(release, version)

        return self._each_result(one)

    def _deploy_image(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        reference = render(self._need(self._artifact.image, "image"), version)
        if self._images is None:
            raise PlatformError("no image resolver is configured for heroku.artifact type image")
        try:
            digest = self._images.config_digest(reference)
        except PlatformAuthError:
            raise
        except PlatformError as exc:
            return [self._steps(app, op).failed(str(exc)) for app in self._apps]
        types = self._artifact.process_types
        return self._each_result(
            lambda app: self._finish(
                self._checked(app, op).release_image(version, digest, types), app, op, version
            )
        )

    def _finish(self, prepared: Prepared, app: str, op: Operation, version: str) -> TargetResult:
        if prepared.result is not None:
            return prepared.result
        assert prepared.release is not None  # Prepared holds one or the other
        return self._steps(app, op).follow_release(prepared.release, version)

    # --- rollback -----------------------------------------------------------------

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        before = self._api.calls
        wanted = {state.target.name: state for state in to if state.target.side is Side.HEROKU}
        with self._guard:
            left, self._left = self._left, {}  # only the first rollback after the deploy
            self._read.clear()
        try:
            results = self._each_result(
                lambda app: roll_back_app(
                    self._steps(app, op, forward=False), wanted[app], left.get(app)
                ),
                [app for app in self._apps if app in wanted],
            )
        finally:
            op.metric("heroku_api_calls", self._api.calls - before)
        back = [r.target.name for r in results if r.ok]
        not_back = [r.target.name for r in results if not r.ok]
        log.info("Heroku rollback: back %s; not back %s", back or "none", not_back or "none")
        return results

    def manual_steps(self, to: TargetState) -> str:
        version = to.detail.get("release_version")
        if isinstance(version, int):
            return f"heroku rollback v{version} --app {to.target.name}"
        return f"heroku releases --app {to.target.name}  # then: heroku rollback vN"

    # --- health -------------------------------------------------------------------

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        """SUCCESSFUL when every app runs what `expected` records for it (see
        `AppHealth.problem`), finished release phase, and none of its dynos is crashed;
        INCONCLUSIVE when Heroku cannot be read."""
        wanted = {s.target.name: s for s in expected if s.target.side is Side.HEROKU}
        apps = [app for app in self._apps if app in wanted]
        try:
            problems = self._each(lambda app: self._health.problem(app, wanted[app]), apps)
        except PlatformAuthError:
            raise
        except (PlatformUnavailable, MalformedAnswer) as exc:
            return Measurement(MeasurementStatus.INCONCLUSIVE, message=str(exc))
        except PlatformError as exc:
            return Measurement(MeasurementStatus.FAILED, message=str(exc))
        found = [p for p in problems if p]
        ok = len(apps) - len(found)
        value = f"{ok}/{len(apps)} apps healthy on the expected release"
        if found:
            return Measurement(MeasurementStatus.FAILED, value, "; ".join(found))
        return Measurement(MeasurementStatus.SUCCESSFUL, value)

    # --- plumbing -----------------------------------------------------------------

    def _steps(
        self,
        app: str,
        op: Operation,
        *,
        forward: bool = True,
        history: AppHistory | None = None,
    ) -> AppSteps:
        """A deploy's steps (`forward`) wait out preboot once a release is live, so the
        bake never measures while the old release's web dynos still serve; a rollback's
        are done once the recorded release is live again."""
        return AppSteps(
            self._api,
            app,
            op,
            self._labels,
            self._poll,
            self._slugs,
            settle=forward,
            history=history,
            on_live=self._health.know,
        )

    def _checked(self, app: str, op: Operation) -> AppSteps:
        """A deploy's first steps on `app`, checking live state with what the snapshot
        read (its releases list, and its builds list when it was told of the deploy) when
        this process read it under this lock moments ago (used once: a later step reads
        afresh)."""
        with self._guard:
            read = self._read.pop(app, None)
        history = None
        if read is not None and self._api.clock.monotonic() - read[0] <= FRESH_SECONDS:
            history = read[1]
        return self._steps(app, op, history=history)

    def _remember(self, results: Sequence[TargetResult]) -> None:
        """What each app's deploy left live, for the first rollback after it: a release
        this deploy followed to its end, current, with no build of it still running."""
        with self._guard:
            self._read.clear()
            self._left = {
                r.target.name: left
                for r in results
                if r.verdict is Verdict.SUCCEEDED
                and r.state is not None
                and (left := LeftLive.of(r.state)) is not None
            }

    def _history(self, app: str) -> AppHistory:
        return AppHistory(self._api, app, self._labels, self._slugs)

    def _need(self, value: str | None, key: str) -> str:
        if not value:
            raise PlatformError(f"heroku.artifact needs {key} for type {self._artifact.type}")
        return value

    def _each(self, fn: Callable[[str], T], apps: Sequence[str] | None = None) -> list[T]:
        """`fn(app)` for every app at once, in app order; the first error is raised
        once every thread has returned (an auth error before any other)."""
        outcomes = self._parallel(fn, self._apps if apps is None else apps)
        _raise_first(outcomes)
        return [o for o in outcomes if not isinstance(o, BaseException)]

    def _each_result(
        self, fn: Callable[[str], TargetResult], apps: Sequence[str] | None = None
    ) -> list[TargetResult]:
        """Like `_each`, but an app's PlatformError becomes its FAILED result. An auth
        error, or any other ShipError (the lock was lost, the operator interrupted), is
        raised once every thread has returned, so none is left changing things."""
        names = list(self._apps if apps is None else apps)
        outcomes = self._parallel(fn, names)
        results: list[TargetResult | BaseException] = []
        for app, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, PlatformError) and not isinstance(outcome, PlatformAuthError):
                log.warning("%s: %s", app, outcome)
                outcome = TargetResult(
                    Target(Side.HEROKU, app), Verdict.FAILED, message=str(outcome)
                )
            results.append(outcome)
        _raise_first(results)
        return [r for r in results if not isinstance(r, BaseException)]

    def _parallel(self, fn: Callable[[str], T], names: Sequence[str]) -> list[T | BaseException]:
        def guarded(app: str) -> T | BaseException:
            try:
                return fn(app)
            except Exception as exc:  # handed back, raised by the caller after the join
                return exc

        futures = [self._workers.submit(guarded, app) for app in names]
        return [future.result() for future in futures]


def _raise_first(outcomes: Sequence[object]) -> None:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        if isinstance(error, PlatformAuthError):
            raise error
    if errors:
        raise errors[0]
