"""What one app has run and built lately, read once per step and cached for it.

`AppHistory` answers the questions every idempotency check asks ("does the app already
run v42?", "is a build of v42 under way?", "which release did that rollback go back
to?") from at most a few list calls. Release labels are cached across steps in a
`LabelCache`, because a release never changes what it runs.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from shipper.heroku.api import HerokuApi
from shipper.heroku.errors import RangeNotSatisfiable
from shipper.heroku.labels import label_from_description, rollback_target
from shipper.heroku.resources import Build, Release, parse_list

# The Heroku CLI's form, proven in production (reference/heroku.md 1.5).
RECENT_COUNT = 10
RECENT_RELEASES = f"version ..; max={RECENT_COUNT}, order=desc"
DEEPER_RELEASES = "version ..; max=200, order=desc"
# `created_at` as a Range field of builds is unconfirmed; on a 416 ship falls back to
# the whole list and sorts it itself (slower, still correct).
RECENT_BUILDS = "created_at ..; max=20, order=desc"
MAX_ROLLBACK_HOPS = 5


def app_path(app: str) -> str:
    return f"/apps/{quote(app, safe='')}"


class LabelCache:
    """release id -> version label (None: unreadable). Shared by threads."""

    def __init__(self) -> None:
        self._labels: dict[str, str | None] = {}
        self._guard = threading.Lock()

    def get(self, release_id: str) -> tuple[bool, str | None]:
        with self._guard:
            if release_id in self._labels:
                return True, self._labels[release_id]
            return False, None

    def put(self, release_id: str, label: str | None) -> None:
        with self._guard:
            self._labels[release_id] = label


class AppHistory:
    """Recent releases and builds of one app, fetched lazily, newest first."""

    def __init__(self, api: HerokuApi, app: str, labels: LabelCache) -> None:
        self.api = api
        self.app = app
        self._labels = labels
        self._releases: list[Release] | None = None
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
            return
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

    def _read_label(self, release: Release, hops: int) -> str | None:
        own = label_from_description(release.description)
        if own is not None:
            return own
        back_to = rollback_target(release.description)
        if back_to is not None:
            if hops >= MAX_ROLLBACK_HOPS or back_to >= release.version:
                return None
            return self.label(self.release(back_to), hops + 1)
        for build in self.builds():
            if build.release_id == release.id and build.source_version:
                return build.source_version
        if release.slug_id:
            # A config change re-releases the same slug: it runs what the slug's build
            # (or an earlier ship release of that slug) ran.
            for build in self.builds():
                if build.slug_id == release.slug_id and build.status == "succeeded":
                    return build.source_version
            for other in self.releases():
                if other.slug_id == release.slug_id and other.id != release.id:
                    own = label_from_description(other.description)
                    if own is not None:
                        return own
        return None
