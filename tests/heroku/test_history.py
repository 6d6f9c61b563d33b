"""AppHistory: what a deploy step reads of one app, and how many round trips it waits."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest

from shipper.heroku.api import HerokuApi, Json
from shipper.heroku.history import AppHistory, LabelCache
from shipper.heroku.labels import label_from_deploy
from shipper.heroku.resources import Release


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


class Slugs:
    """Answers `GET /apps/{app}/slugs/{id}` with a commit, and counts what was asked."""

    def __init__(self, commit: str | None = "c0ffee" * 6 + "c0ff") -> None:
        self.commit = commit
        self.paths: list[str] = []

    def get(self, path: str, action: str) -> Json:
        self.paths.append(path)
        return {"id": path.rsplit("/", 1)[-1], "commit": self.commit}

    def get_list(
        self, path: str, action: str, range_header: str | None = None, *, follow: bool = True
    ) -> list[Json]:
        self.paths.append(path)
        return []


def release(version: int, description: str, slug: str | None = "slug-a") -> Release:
    return Release(
        id=f"release-{version}",
        version=version,
        status="succeeded",
        current=False,
        description=description,
        slug_id=slug,
        output_stream_url=None,
        created_at="",
    )


def label_of(
    target: Release, listed: list[Release] | None, api: Slugs | None = None
) -> tuple[str | None, list[str]]:
    api = api or Slugs()
    history = AppHistory(cast(HerokuApi, api), "acme-web", LabelCache(), releases=listed)
    return history.label(target), api.paths


@pytest.mark.parametrize(
    ("description", "label"),
    [
        ("Deploy 1a2b3c4d", "1a2b3c4d"),  # git push: the short SHA
        ("Deploy 1.8.0+g3e4f5a6", "1.8.0+g3e4f5a6"),  # Build API: source_blob.version
        ("Deploy v2", "v2"),
        ("Deploy v2 by someone@example.com", "v2"),
        ("  Deploy v2  ", "v2"),
        ("Deployed web (1a2b3c4d5e6f)", None),  # a container release names no version
        ("Deploy ", None),
        ("Promote acme-staging v12 1a2b3c4", None),
        ("Set FOO config vars", None),
    ],
)
def test_a_deploy_description_names_one_token(description: str, label: str | None) -> None:
    assert label_from_deploy(description) == label


def test_a_deploy_description_labels_its_release_before_any_call() -> None:
    """Heroku wrote "Deploy " and the build's version on this very release: no slug read."""
    target = release(3, "Deploy 1.8.0+g3e4f5a6")
    assert label_of(target, [target]) == ("1.8.0+g3e4f5a6", [])


def test_a_config_release_is_labelled_by_the_listed_release_of_its_slug() -> None:
    """A config-var or add-on release re-releases the slug before it: that release's
    description labels it, read off the list already held."""
    pushed = release(2, "Deploy 1a2b3c4d")
    addon = release(3, "Attach HEROKU_POSTGRESQL_AMBER (@ref:postgresql-1)")
    config = release(4, "Set FOO config vars")
    assert label_of(config, [config, addon, pushed]) == ("1a2b3c4d", [])
    shipped = release(2, "ship: v42 (release 7)")
    assert label_of(config, [config, shipped]) == ("v42", [])


def test_another_slug_says_nothing_of_this_one() -> None:
    """Only a release of the same slug labels another: otherwise the slug is read."""
    other = release(2, "Deploy 1a2b3c4d", slug="slug-b")
    config = release(3, "Set FOO config vars")
    label, paths = label_of(config, [config, other])
    assert label == "c0ffee" * 6 + "c0ff"
    assert paths == ["/apps/acme-web/slugs/slug-a"]


def test_a_promotion_is_labelled_by_its_slug_unless_a_listed_release_says() -> None:
    """A promotion names no version of its own: its slug's commit labels it, unless a
    listed release of the same slug (an earlier promotion, pushed here) already says."""
    promoted = release(5, "Promote acme-staging v12 1a2b3c4")
    label, paths = label_of(promoted, [promoted])
    assert label == "c0ffee" * 6 + "c0ff" and paths == ["/apps/acme-web/slugs/slug-a"]
    assert label_of(promoted, [promoted, release(4, "Deploy 1a2b3c4d")]) == ("1a2b3c4d", [])


def test_no_list_is_read_only_to_label_a_release() -> None:
    """Without the releases list in hand, the slug is read, not the list."""
    config = release(4, "Set FOO config vars")
    label, paths = label_of(config, None)
    assert label == "c0ffee" * 6 + "c0ff"
    assert paths == ["/apps/acme-web/slugs/slug-a"]
