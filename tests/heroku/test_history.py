"""AppHistory: what a deploy step reads of one app, and how many round trips it waits."""

from __future__ import annotations

import threading
from typing import Any, cast

from shipper.heroku.api import HerokuApi, Json
from shipper.heroku.history import AppHistory, LabelCache


class TwoReads:
    """Answers the releases list only once the builds list has been asked for too: a
    history that reads them one after the other never gets its releases."""

    def __init__(self) -> None:
        self.builds_asked = threading.Event()
        self.paths: list[str] = []

    def get_list(
        self, path: str, action: str, range_header: str | None = None, *, follow: bool = True
    ) -> list[Json]:
        self.paths.append(path)
        if path.endswith("/builds"):
            self.builds_asked.set()
            return []
        if not self.builds_asked.wait(timeout=5):
            raise AssertionError("the releases were read before the builds were asked for")
        return []


def test_a_deploy_step_reads_releases_and_builds_together() -> None:
    """The two lists a deploy step needs are in flight at once (one round trip, not two),
    and neither is read again afterwards."""
    api = TwoReads()
    history = AppHistory(cast(HerokuApi, api), "acme-web", LabelCache())
    history.read_both()
    assert sorted(api.paths) == ["/apps/acme-web/builds", "/apps/acme-web/releases"]
    assert history.releases() == [] and history.builds() == []
    assert len(api.paths) == 2


def test_reading_both_again_costs_nothing() -> None:
    api: Any = TwoReads()
    history = AppHistory(cast(HerokuApi, api), "acme-web", LabelCache())
    history.read_both()
    history.read_both()
    assert len(api.paths) == 2
