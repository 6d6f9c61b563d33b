"""One app's health during a bake: is it running the expected code, done with release
phase, and are none of its dynos crashed? One call a measurement: the dyno list names
each dyno's release and state."""

from __future__ import annotations

import threading
from collections.abc import Callable

from shipper.core.model import TargetState
from shipper.heroku.api import HerokuApi
from shipper.heroku.history import AppHistory, app_path
from shipper.heroku.labels import identity, rollback_target
from shipper.heroku.resources import Dyno, Release, parse_list


class AppHealth:
    """Judges apps against their expected states; remembers the releases it read, by id
    (what a release runs never changes)."""

    def __init__(self, api: HerokuApi, history: Callable[[str], AppHistory]) -> None:
        self._api = api
        self._history = history
        self._releases: dict[str, Release] = {}
        self._guard = threading.Lock()

    def problem(self, app: str, expected: TargetState) -> str:
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
            problem = not_expected(current, expected, history)
            if problem:
                return f"{app} {problem}"
            return (
                ""
                if current.status == "succeeded"
                else (f"{app} release v{current.version} is {current.status}")
            )
        newest = max(serving, key=lambda d: d.release_version or 0)
        if newest.release_id != expected.detail.get("release_id"):
            problem = not_expected(self._release(app, newest), expected, history)
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

    def know(self, release: Release) -> None:
        """A release read elsewhere (one a deploy or rollback just followed to live): a
        measurement that finds the dynos on it need not read it."""
        with self._guard:
            self._releases[release.id] = release

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


def not_expected(current: Release, expected: TargetState, history: AppHistory) -> str:
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
