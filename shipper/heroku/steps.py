"""The steps of one app's deploy, each checking live state before acting.

Every step first asks Heroku what is already there (the app runs the version, a build
or release of it is under way) and adopts it; only then does it create something, after
`op.intend`. A POST that failed ambiguously (a 5xx or a timeout after sending) is never
repeated: the step looks for what it may have created and follows that instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from shipper.core.model import (
    Side,
    Target,
    TargetResult,
    TargetState,
    Verdict,
    names_version,
)
from shipper.heroku.api import ACCEPT_DOCKER, HerokuApi, Json
from shipper.heroku.errors import HerokuUnavailable
from shipper.heroku.history import AppHistory, LabelCache, SlugCache, app_path
from shipper.heroku.labels import ship_description
from shipper.heroku.poll import PollSettings, Watched, follow
from shipper.heroku.preboot import await_preboot, list_dynos, runs_on
from shipper.heroku.resources import Build, Dyno, Release
from shipper.heroku.retry import CREATE
from shipper.heroku.states import release_state
from shipper.ports import Operation

log = logging.getLogger("shipper.heroku")

T = TypeVar("T")

# After an ambiguous POST, how often to look for what it may have made (Heroku's lists
# can lag the POST by a moment) and how long to wait between looks.
ADOPT_LOOKS = 3
ADOPT_PAUSE = 2.0
TAIL_LINES = 20


def public_url(url: str) -> str:
    """`url` without its query: pre-signed URLs carry their credential there."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Prepared:
    """Where an app's deploy stands once its build is done: either finished (`result`)
    or a release to follow (`release`). `slug_id` is the slug the version runs on."""

    result: TargetResult | None = None
    release: Release | None = None
    slug_id: str | None = None


class AppSteps:
    """The deploy and rollback steps of one app within one operation."""

    def __init__(
        self,
        api: HerokuApi,
        app: str,
        op: Operation,
        labels: LabelCache,
        poll: PollSettings,
        slugs: SlugCache | None = None,
        *,
        settle: bool = False,
        history: AppHistory | None = None,
        on_live: Callable[[Release], None] | None = None,
    ) -> None:
        self.api = api
        self.app = app
        self.op = op
        self.target = Target(Side.HEROKU, app)
        self._labels = labels
        self._poll = poll
        self._slugs = slugs if slugs is not None else SlugCache()
        # wait, once a release is live, for the older release's web dynos to stop serving
        # (preboot keeps them up for minutes): a deploy's steps, not a rollback's
        self._settle = settle
        # `history`: the app as read a moment ago under this lock (the snapshot's list)
        self.history = history or AppHistory(api, app, labels, self._slugs)
        self._on_live = on_live  # told of every release these steps saw go live
        self._dynos: list[Dyno] | None = None  # the dyno list that proved a release live

    # --- reading live state -------------------------------------------------------

    def refresh(self) -> AppHistory:
        self.history = AppHistory(self.api, self.app, self._labels, self._slugs)
        return self.history

    def names(self, release: Release, version: str) -> bool:
        """Whether `release`'s label names `version` (or the commit it resolved to)."""
        return names_version(self.history.label(release), version, self.op.commit)

    def running(self, version: str) -> Release | None:
        """The current release, if it runs `version` and release phase succeeded."""
        current = self.history.current()
        if current and current.status == "succeeded" and self.names(current, version):
            return current
        return None

    def in_flight(self, version: str) -> Release | None:
        """A release of `version` newer than the current one, still in release phase."""
        current = self.history.current()
        for release in self.history.releases():
            if current and release.version <= current.version:
                break
            if not release.is_final and self.names(release, version):
                return release
        return None

    def state_of(self, release: Release, label: str | None) -> TargetState:
        return release_state(self.history, release, label)

    def done(self, release: Release, label: str | None, message: str) -> TargetResult:
        return TargetResult(self.target, Verdict.SUCCEEDED, self.state_of(release, label), message)

    def failed(self, message: str) -> TargetResult:
        return TargetResult(self.target, Verdict.FAILED, message=message)

    # --- source and slug ----------------------------------------------------------

    def prepare_build(self, version: str, source_url: str) -> Prepared:
        """Make sure a build of `version` exists and has finished, then say what to
        follow. Adopts a running or finished build of the version instead of building
        again."""
        self.history.read_both()
        running = self.running(version)
        if running:
            return Prepared(
                result=self.done(running, version, f"already runs {version}"),
                slug_id=running.slug_id,
            )
        pending = self.in_flight(version)
        if pending:
            self.op.progress(self.target, "releasing", f"following release v{pending.version}")
            return Prepared(release=pending, slug_id=pending.slug_id)
        build = self.history.build_for(version)
        fresh = build is None
        if build is None:
            build = self.create_build(version, source_url)
        else:
            self.op.progress(self.target, "building", f"following build {build.id}")
        watched = follow(
            self.api,
            f"{app_path(self.app)}/builds/{build.id}",
            f"read build {build.id} of {self.app}",
            Build.parse,
            lambda b: b.is_final,
            self.op,
            self._poll,
            lambda b: self.op.progress(self.target, "building", f"build {b.status}"),
            lambda b: b.output_stream_url,
            # as the POST (or the list a moment ago) answered it: not read again first
            first=build,
        )
        build = watched.value
        if watched.stopped is not None:
            return Prepared(
                result=TargetResult(
                    self.target,
                    watched.stopped,
                    message=self._stopped_msg(watched.stopped, f"build {build.id}"),
                )
            )
        if build.status != "succeeded":
            tail = self.api.stream_tail(build.output_stream_url) if build.output_stream_url else ""
            self._log_tail(tail)
            return Prepared(
                result=self.failed(_with_tail(f"build {build.id} of {version} failed", tail))
            )
        if build.release_id:
            release = Release.parse(
                self.api.get(
                    f"{app_path(self.app)}/releases/{build.release_id}",
                    f"read the release of build {build.id} on {self.app}",
                )
            )
            # A build made now is followed to its own release, whatever became of it;
            # an old build whose release is long gone is released again from its slug.
            if fresh or not release.is_final or release.current:
                return Prepared(release=release, slug_id=build.slug_id)
        if build.slug_id:
            return Prepared(
                release=self.release_slug(build.slug_id, version), slug_id=build.slug_id
            )
        return Prepared(
            result=self.failed(f"build {build.id} of {version} succeeded but made no release")
        )

    def create_build(self, version: str, source_url: str) -> Build:
        body: dict[str, Json] = {"source_blob": {"url": source_url, "version": version}}
        self.op.intend(
            self.target, "create build", {"version": version, "source": public_url(source_url)}
        )
        self.op.progress(self.target, "building", f"creating a build of {version}")
        return self.create_adopting(
            lambda: Build.parse(
                self.api.post(f"{app_path(self.app)}/builds", f"create a build on {self.app}", body)
            ),
            lambda: self.refresh().build_for(version),
            f"build of {version}",
        )

    def release_slug(self, slug_id: str, version: str) -> Release:
        """A new release of `slug_id` carrying ship's description of `version`."""
        description = ship_description(version, int(self.op.release))
        newest = self.history.newest()
        floor = newest.version if newest else 0
        self.op.intend(self.target, "create release", {"slug": slug_id, "version": version})
        self.op.progress(self.target, "releasing", f"releasing slug {slug_id}")

        def find() -> Release | None:
            return next(
                (
                    r
                    for r in self.refresh().releases()
                    if r.version > floor and r.description == description
                ),
                None,
            )

        return self.create_adopting(
            lambda: Release.parse(
                self.api.post(
                    f"{app_path(self.app)}/releases",
                    f"create a release on {self.app}",
                    {"slug": slug_id, "description": description},
                )
            ),
            find,
            f"release of {version}",
        )

    # --- container image ----------------------------------------------------------

    def release_image(self, version: str, digest: str, process_types: tuple[str, ...]) -> Prepared:
        """PATCH the formation with the image (Heroku then makes a release) and find
        that release by comparing the newest release before and after."""
        running = self.running(version)
        if running:
            return Prepared(result=self.done(running, version, f"already runs {version}"))
        newest = self.history.newest()
        short = digest.removeprefix("sha256:")[:12]
        if newest and short in newest.description and (not newest.is_final or newest.current):
            self._labels.put(newest.id, version)
            return Prepared(release=newest)
        self.op.intend(
            self.target,
            "release image",
            {"version": version, "image": digest, "process_types": list(process_types)},
        )
        self.op.progress(self.target, "releasing", f"releasing image {short}")
        updates: list[Json] = [{"type": p, "docker_image": digest} for p in process_types]
        try:
            self.api.patch(
                f"{app_path(self.app)}/formation",
                f"release an image on {self.app}",
                {"updates": updates},
                accept=ACCEPT_DOCKER,
                # This PATCH makes a release: like a POST, it is re-sent only when it
                # surely did not arrive, and otherwise looked for below.
                policy=CREATE,
            )
        except HerokuUnavailable as exc:
            if not exc.sent:
                raise
            log.warning("%s; looking for the release it may have made", exc)
        after = self.refresh().newest()
        if after is None or (newest is not None and after.id == newest.id):
            return Prepared(result=self.failed("Heroku made no new release from the image"))
        self._labels.put(after.id, version)
        return Prepared(release=after)

    # --- following a release ------------------------------------------------------

    def _watch_release(
        self,
        release: Release,
        on_change: Callable[[Release], None] | None,
        until: float | None = None,
        settled: Callable[[Release], Release | None] | None = None,
    ) -> Watched[Release]:
        """Wait for `release` (read a moment ago) to leave release phase, through its
        output stream when it has one."""
        return follow(
            self.api,
            f"{app_path(self.app)}/releases/{release.id}",
            f"read release v{release.version} of {self.app}",
            Release.parse,
            lambda r: r.is_final,
            self.op,
            self._poll,
            on_change,
            lambda r: r.output_stream_url,
            first=release,
            until=until,
            settled=settled,
        )

    def _gone_live(self, release: Release) -> Release | None:
        """After `release`'s release-phase stream reached its end: the dyno list (which a
        deploy reads next anyway, to wait out preboot) proves it succeeded and went live
        when a formation dyno runs it. None when none does yet: the release is read."""
        dynos = list_dynos(self.api, self.app)
        if not runs_on(dynos, release):
            return None
        self._dynos = dynos
        return replace(release, status="succeeded", current=True)

    def await_release_phase(self, release: Release, longest: float) -> Release | None:
        """Wait up to `longest` seconds for `release` (not ship's to follow: a stopped
        deploy's, say) to leave release phase, whatever its outcome; None when it has not
        by then (or the wait was cut short)."""
        watched = self._watch_release(release, None, self.op.clock.monotonic() + longest)
        return watched.value if watched.stopped is None else None

    def follow_release(self, release: Release, label: str | None) -> TargetResult:
        """Wait for `release` to leave release phase; SUCCEEDED only once it is current."""
        watched = self._watch_release(
            release,
            lambda r: self.op.progress(self.target, "release phase", f"v{r.version} {r.status}"),
            settled=self._gone_live if self._settle else None,
        )
        release = watched.value
        if watched.stopped is not None:
            return TargetResult(
                self.target,
                watched.stopped,
                self.state_of(release, label),
                self._stopped_msg(watched.stopped, f"release v{release.version}"),
            )
        if release.status != "succeeded":
            tail = (
                self.api.stream_tail(release.output_stream_url) if release.output_stream_url else ""
            )
            self._log_tail(tail)
            return TargetResult(
                self.target,
                Verdict.FAILED,
                self.state_of(release, label),
                _with_tail(f"release v{release.version} {release.status} in release phase", tail),
            )
        if not release.current:
            # `current` may lag `status` by a moment (unconfirmed): look once more.
            self.op.pause(self._poll.first)
            release = Release.parse(
                self.api.get(
                    f"{app_path(self.app)}/releases/{release.id}",
                    f"read release v{release.version} of {self.app}",
                )
            )
            if not release.current:
                return TargetResult(
                    self.target,
                    Verdict.FAILED,
                    self.state_of(release, label),
                    f"release v{release.version} succeeded but another release is current",
                )
        if label is not None:
            self._labels.put(release.id, label)
        if self._on_live is not None:
            self._on_live(release)
        self.op.progress(self.target, "released", f"v{release.version} is live")
        if self._settle:
            dynos, self._dynos = self._dynos, None
            waited = await_preboot(
                self.api, self.app, self.target, self.op, self._poll, release, dynos
            )
            if waited is not None:
                return TargetResult(
                    self.target,
                    waited,
                    self.state_of(release, label),
                    self._stopped_msg(waited, f"preboot of release v{release.version}"),
                )
        return self.done(release, label, f"v{release.version} is live")

    # --- helpers ------------------------------------------------------------------

    def create_adopting(self, post: Callable[[], T], find: Callable[[], T | None], what: str) -> T:
        """POST once (the CREATE policy retries only what never arrived); after an
        ambiguous failure, adopt what the POST made, or re-raise if it made nothing."""
        try:
            return post()
        except HerokuUnavailable as exc:
            if not exc.sent:
                raise
            failure = exc
        log.warning("%s on %s failed ambiguously; looking for it", what, self.app)
        for look in range(ADOPT_LOOKS):
            found = find()
            if found is not None:
                self.op.progress(self.target, "adopted", f"found the {what} the failed call made")
                return found
            if look + 1 < ADOPT_LOOKS:
                self.op.pause(ADOPT_PAUSE * (look + 1))
        raise HerokuUnavailable(
            f"{failure}; no {what} appeared on {self.app}, so nothing was created; "
            "run the command again",
            status=failure.status,
            sent=True,
        )

    def _stopped_msg(self, stopped: Verdict, what: str) -> str:
        if stopped is Verdict.TIMED_OUT:
            return f"{what} on {self.app} did not finish within {self.op.limit}"
        return f"stopped waiting for {what} on {self.app}"

    def _log_tail(self, tail: str) -> None:
        for line in tail.splitlines():
            self.op.log(f"{self.app}: {line}")


def _with_tail(message: str, tail: str) -> str:
    if not tail:
        return message
    return f"{message}; last output:\n{tail}"
