"""What one app has run and built lately, read once per step and cached for it.

`AppHistory` answers the questions every idempotency check asks ("does the app already
run v42?", "is a build of v42 under way?", "which release did that rollback go back
to?") from at most a few list calls. A label the releases list already says (a release's
description, or that of another release of its slug) costs no further call; only then is
the slug read. Release labels are cached across steps in a `LabelCache`, and slug
commits in a `SlugCache`, because neither a release nor a slug ever changes what it
runs. The list windows below only make the common case fast: a label or identity older
than any window is read by id (`GET .../releases/{n}`, `GET .../slugs/{id}`), never
given up on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from shipper.heroku.api import HerokuApi
from shipper.heroku.errors import RangeNotSatisfiable
from shipper.heroku.labels import (
    identity,
    label_from_deploy,
    label_from_description,
    rollback_target,
)
from shipper.heroku.resources import Build, Release, Slug, parse_list

# The Heroku CLI's form, proven in production (reference/heroku.md 1.5).
RECENT_COUNT = 10
RECENT_RELEASES = f"version ..; max={RECENT_COUNT}, order=desc"
DEEPER_RELEASES = "version ..; max=200, order=desc"
# `created_at` as a Range field of builds is unconfirmed; on a 416 ship falls back to
# the whole list and sorts it itself (slower, still correct).
RECENT_BUILDS = "created_at ..; max=20, order=desc"
MAX_ROLLBACK_HOPS = 20  # a chain of rollbacks of rollbacks; deeper reads as unknown


def app_path(app: str) -> str:
    return f"/apps/{quote(app, safe='')}"


class Remembered:
    """id -> a fact about an immutable Heroku object (None: it records none), shared by
    threads and kept for the life of the process: a release never changes what it runs,
    nor a slug its commit. `get` says whether the id is known, then the fact."""

    def __init__(self) -> None:
        self._facts: dict[str, str | None] = {}
        self._guard = threading.Lock()

    def get(self, ident: str) -> tuple[bool, str | None]:
        with self._guard:
            if ident in self._facts:
                return True, self._facts[ident]
            return False, None

    def put(self, ident: str, fact: str | None) -> None:
        with self._guard:
            self._facts[ident] = fact


class LabelCache(Remembered):
    """release id -> version label (None: unreadable)."""


class SlugCache(Remembered):
    """slug id -> its `commit` (None: the slug records none)."""


class AppHistory:
    """Recent releases and builds of one app, fetched lazily, newest first."""

    def __init__(
        self,
        api: HerokuApi,
        app: str,
        labels: LabelCache,
        slugs: SlugCache | None = None,
        releases: list[Release] | None = None,
    ) -> None:
        self.api = api
        self.app = app
        self._labels = labels
        self._slugs = slugs if slugs is not None else SlugCache()
        self._releases: list[Release] | None = releases  # None: not read yet
        self._builds: list[Build] | None = None

    def releases(self) -> list[Release]:
        if self._releases is None:
            body = self.api.get_list(
                f"{app_path(self.app)}/releases",
                f"list the releases of {self.app}",
                RECENT_RELEASES,
                follow=False,
            )
            releases = parse_list(body, Release.parse, "releases")
            self._releases = sorted(releases, key=lambda r: r.version, reverse=True)
        return self._releases

    def builds(self) -> list[Build]:
        if self._builds is None:
            path = f"{app_path(self.app)}/builds"
            action = f"list the builds of {self.app}"
            try:
                body = self.api.get_list(path, action, RECENT_BUILDS, follow=False)
            except RangeNotSatisfiable:
                body = self.api.get_list(path, action, None, follow=True)
            builds = parse_list(body, Build.parse, "builds")
            self._builds = sorted(builds, key=lambda b: b.created_at, reverse=True)
        return self._builds

    def read_both(self) -> None:
        """Releases and builds in the time of one round trip: a deploy step asks about
        both (does the app run the version? is a build of it under way?)."""
        if self._releases is not None or self._builds is not None:
            return  # what is missing is read when asked for: one call, nothing to overlap
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="heroku-builds") as pool:
            builds = pool.submit(self.builds)
            self.releases()
            builds.result()

    def current(self) -> Release | None:
        """The live release: the one Heroku marks `current`.

        While a newer release is in release phase the current one is older, so the
        newest ten are read, not just the newest.
        """
        found = next((r for r in self.releases() if r.current), None)
        if found is None and len(self.releases()) >= RECENT_COUNT:
            # Ten newer releases that never went live: look further back, once.
            body = self.api.get_list(
                f"{app_path(self.app)}/releases",
                f"list the releases of {self.app}",
                DEEPER_RELEASES,
                follow=False,
            )
            deeper = parse_list(body, Release.parse, "releases")
            found = next((r for r in deeper if r.current), None)
        return found

    def newest(self) -> Release | None:
        releases = self.releases()
        return releases[0] if releases else None

    def release(self, version: int) -> Release:
        for known in self.releases():
            if known.version == version:
                return known
        body = self.api.get(
            f"{app_path(self.app)}/releases/{version}", f"read release v{version} of {self.app}"
        )
        return Release.parse(body)

    def build_for(self, version: str) -> Build | None:
        """The newest build of `version` that has not failed."""
        return next(
            (b for b in self.builds() if b.source_version == version and b.status != "failed"),
            None,
        )

    def label(self, release: Release, hops: int = 0) -> str | None:
        known, cached = self._labels.get(release.id)
        if known:
            return cached
        label = self._read_label(release, hops)
        self._labels.put(release.id, label)
        return label

    def identity(self, release: Release, hops: int = 0) -> str:
        """The id of the code `release` runs (`labels.identity`): its slug; for a slugless
        rollback release, the identity of the release it went back to."""
        back_to = rollback_target(release.description)
        if release.slug_id or back_to is None or hops >= MAX_ROLLBACK_HOPS:
            return identity(release.slug_id, release.id)
        if back_to >= release.version:
            return identity(None, release.id)
        return self.identity(self.release(back_to), hops + 1)

    def slug_commit(self, slug_id: str) -> str | None:
        """The slug's `commit` (`GET /apps/{app}/slugs/{id}`), read once per process."""
        known, commit = self._slugs.get(slug_id)
        if known:
            return commit
        body = self.api.get(
            f"{app_path(self.app)}/slugs/{quote(slug_id, safe='')}",
            f"read slug {slug_id} of {self.app}",
        )
        commit = Slug.parse(body).commit
        self._slugs.put(slug_id, commit)
        return commit

    def _read_label(self, release: Release, hops: int) -> str | None:
        """The label, from the first source that has one (see `shipper.heroku.labels`).

        Every source is a fact Heroku keeps about this release or its slug. What the
        releases list already says comes first and costs no call: the release's own
        description, then that of another listed release of the same slug (a config-var
        or add-on release re-releases the slug before it, so that one labels it). Only
        then the slug's commit (a call), the build that made the slug, the rollback."""
        said = _said(release.description)
        if said is not None:
            return said
        if release.slug_id and self._releases is not None:
            said = _said_by_same_slug(release, self._releases)
            if said is not None:
                return said
        if release.slug_id:
            commit = self.slug_commit(release.slug_id)
            if commit:
                return commit
            for build in self.builds():
                if build.slug_id == release.slug_id and build.source_version:
                    return build.source_version
        back_to = rollback_target(release.description)
        if back_to is not None:
            if hops >= MAX_ROLLBACK_HOPS or back_to >= release.version:
                return None
            return self.label(self.release(back_to), hops + 1)
        if release.slug_id:
            # a slug with no commit, released again: another listed release of it may say
            return _said_by_same_slug(release, self.releases())
        return None


def _said(description: str) -> str | None:
    """The label a release's description gives: ship's own, or `Deploy <version>`."""
    return label_from_description(description) or label_from_deploy(description)


def _said_by_same_slug(release: Release, releases: list[Release]) -> str | None:
    """The label another release of the same slug gives by its own description."""
    for other in releases:
        if other.slug_id == release.slug_id and other.id != release.id:
            said = _said(other.description)
            if said is not None:
                return said
    return None
