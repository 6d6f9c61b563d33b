"""`HerokuPlatform`: the Heroku side of a release, as the `Platform` port promises it.

Every app is handled in its own thread (`deploy`, `roll_back`, `snapshot`, `health`):
a release of five apps takes as long as the slowest, not the sum. A failure of one app
is that app's FAILED result; only a failure of the whole side (the token is refused)
raises, after every thread has stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    PlatformNotFound,
    PlatformUnavailable,
)
from shipper.heroku.api import HerokuApi
from shipper.heroku.history import AppHistory, LabelCache, SlugCache, app_path
from shipper.heroku.image import ImageResolver
from shipper.heroku.labels import identity, rollback_target
from shipper.heroku.poll import PollSettings
from shipper.heroku.resources import Dyno, Release, parse_list
from shipper.heroku.rollback import roll_back_app
from shipper.heroku.steps import AppSteps, Prepared, release_state
from shipper.pipeline import render
from shipper.ports import Operation

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
        self._preboots: dict[str, bool] = {}
        self._releases: dict[str, Release] = {}  # by id: what a dyno's release runs
        self._guard = threading.Lock()

    @property
    def side(self) -> Side:
        return Side.HEROKU

    @property
    def api(self) -> HerokuApi:
        return self._api

    def targets(self) -> Sequence[Target]:
        return [Target(Side.HEROKU, app) for app in self._apps]

    # --- snapshot -----------------------------------------------------------------

    def snapshot(self) -> Sequence[TargetState]:
        return self._each(self._snapshot_app)

    def _snapshot_app(self, app: str) -> TargetState:
        history = self._history(app)
        target = Target(Side.HEROKU, app)
        current = history.current()
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
        try:
            match self._artifact.type:
                case "source":
                    url = render(self._need(self._artifact.url, "url"), version)
                    return self._each_result(
                        lambda app: self._finish(
                            self._steps(app, op).prepare_build(version, url), app, op, version
                        )
                    )
                case "slug":
                    return self._deploy_slug(version, op)
                case "image":
                    return self._deploy_image(version, op)
        finally:
            op.metric("heroku_api_calls", self._api.calls - before)

    def _deploy_slug(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        """Build once on the first app, then release that slug everywhere."""
        url = render(self._need(self._artifact.url, "url"), version)
        first = self._apps[0]
        try:
            prepared = self._steps(first, op).prepare_build(version, url)
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
            steps = self._steps(app, op)
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
                self._steps(app, op).release_image(version, digest, types), app, op, version
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
        try:
            results = self._each_result(
                lambda app: roll_back_app(self._steps(app, op, forward=False), wanted[app]),
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
        `_app_health`), finished release phase, and none of its dynos is crashed;
        INCONCLUSIVE when Heroku cannot be read."""
        wanted = {s.target.name: s for s in expected if s.target.side is Side.HEROKU}
        apps = [app for app in self._apps if app in wanted]
        try:
            problems = self._each(lambda app: self._app_health(app, wanted[app]), apps)
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

    def _app_health(self, app: str, expected: TargetState) -> str:
        """ "" when the app runs `expected`, else what is wrong.

        "Runs `expected`" is Heroku's identity, never a label: the release the app's
        dynos run is the recorded one, or a rollback release to it (what ship's rollback
        call created, or `heroku rollback`) running the recorded slug. One call: the dyno
        list names each dyno's release and state; a release other than the expected one
        is read once (what it runs never changes). The newest release among the
        formation's dynos is the one that counts (older ones are preboot's leftovers);
        an app scaled to zero is judged by its releases instead."""
        dynos = parse_list(
            self._api.get(f"{app_path(app)}/dynos", f"list the dynos of {app}"),
            Dyno.parse,
            "dynos",
        )
        serving = [d for d in dynos if not d.one_off and d.release_id and d.state != "down"]
        history = self._history(app)
        if not serving:
            current = history.current()
            if current is None:
                return f"{app} has no current release"
            problem = _not_expected(current, expected, history)
            if problem:
                return f"{app} {problem}"
            return (
                ""
                if current.status == "succeeded"
                else (f"{app} release v{current.version} is {current.status}")
            )
        newest = max(serving, key=lambda d: d.release_version or 0)
        if newest.release_id != expected.detail.get("release_id"):
            problem = _not_expected(self._release(app, newest), expected, history)
            if problem:
                return f"{app} {problem}"
        crashed = [
            d.name
            for d in serving
            if d.state == "crashed" and d.release_version == newest.release_version
        ]
        if crashed:
            return f"{app} has crashed dynos: {', '.join(sorted(crashed))}"
        return ""

    def _release(self, app: str, dyno: Dyno) -> Release:
        """The release a dyno runs, read once per run: its slug and description (what
        decides whether it is the expected code) never change."""
        assert dyno.release_id is not None
        with self._guard:
            known = self._releases.get(dyno.release_id)
        if known is not None:
            return known
        release = Release.parse(
            self._api.get(
                f"{app_path(app)}/releases/{dyno.release_id}",
                f"read release v{dyno.release_version} of {app}",
            )
        )
        with self._guard:
            self._releases[release.id] = release
        return release

    # --- plumbing -----------------------------------------------------------------

    def _steps(self, app: str, op: Operation, *, forward: bool = True) -> AppSteps:
        """A deploy's steps (`forward`) wait out preboot once a release is live, so the
        bake never measures while the old release's web dynos still serve; a rollback's
        are done once the recorded release is live again."""
        preboot = (lambda: self._preboot(app)) if forward else None
        return AppSteps(self._api, app, op, self._labels, self._poll, self._slugs, preboot)

    def _preboot(self, app: str) -> bool:
        """Whether the app has preboot on (`GET /apps/{app}/features/preboot`), read once
        per run. A feature Heroku does not know for the app reads as off."""
        with self._guard:
            if app in self._preboots:
                return self._preboots[app]
        try:
            body = self._api.get(
                f"{app_path(app)}/features/preboot", f"read the preboot feature of {app}"
            )
            enabled = isinstance(body, dict) and body.get("enabled") is True
        except PlatformNotFound:
            enabled = False
        with self._guard:
            self._preboots[app] = enabled
        return enabled

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

        if not names:
            return []
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="heroku") as pool:
            return list(pool.map(guarded, names))


def _raise_first(outcomes: Sequence[object]) -> None:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        if isinstance(error, PlatformAuthError):
            raise error
    if errors:
        raise errors[0]


def _not_expected(current: Release, expected: TargetState, history: AppHistory) -> str:
    """ "" when `current` is the release `expected` records, or a rollback to it that runs
    the same code; else what runs instead, in words that name Heroku's ids."""
    release_id = expected.detail.get("release_id")
    number = expected.detail.get("release_version")
    if not isinstance(release_id, str) or not isinstance(number, int):
        return "has no recorded release to compare with"
    if current.id == release_id:
        return ""
    went_back = rollback_target(current.description) == number
    slug = expected.detail.get("slug_id")
    # a state recorded before identities were (an older ledger) has its slug in detail
    wanted = expected.identity or identity(slug if isinstance(slug, str) else None, release_id)
    if went_back and history.identity(current) == wanted:
        return ""
    label = history.label(current)
    running = f"{label} " if label else ""
    slug = f"slug {current.slug_id}" if current.slug_id else "no slug"
    return f"runs {running}(release v{current.version}, {slug}), not release v{number}" + (
        f" ({expected.version})" if expected.version else ""
    )
