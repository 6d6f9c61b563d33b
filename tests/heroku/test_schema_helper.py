"""The schema helper itself: it must refuse what the Platform API schema does not describe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.heroku.schema import ACCEPT, ACCEPT_DOCKER, PlatformSchema

UUID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def schema() -> PlatformSchema:
    return PlatformSchema()


def _req(method: str, path: str, body: Any = None, accept: str = ACCEPT) -> httpx.Request:
    return httpx.Request(
        method, f"https://api.heroku.com{path}", json=body, headers={"Accept": accept}
    )


def test_rollback_body_matches_the_rollback_link(schema: PlatformSchema) -> None:
    """{"release": <uuid>} on POST releases is the schema's Rollback link."""
    assert (
        schema.link_for(_req("POST", "/apps/acme-web/releases", {"release": UUID})).title
        == "Rollback"
    )


def test_unknown_body_field_is_refused(schema: PlatformSchema) -> None:
    """A field the link's schema does not list fails, even beside valid ones."""
    with pytest.raises(AssertionError, match="not in the schema"):
        schema.link_for(_req("POST", "/apps/acme-web/releases", {"slug": UUID, "note": "x"}))


def test_nested_strict_properties_are_enforced(schema: PlatformSchema) -> None:
    """source_blob is strict in the schema: a misspelt key inside it fails."""
    body = {"source_blob": {"url": "https://x/y.tgz", "verison": "v42"}}
    with pytest.raises(AssertionError, match="verison"):
        schema.link_for(_req("POST", "/apps/acme-web/builds", body))


def test_path_identity_is_checked(schema: PlatformSchema) -> None:
    """A build is addressed by UUID only: a number in its place matches no link."""
    with pytest.raises(AssertionError, match="bad path segment"):
        schema.link_for(_req("GET", "/apps/acme-web/builds/42"))


def test_release_may_be_addressed_by_version_number(schema: PlatformSchema) -> None:
    """release/identity is a UUID or an integer version, so /releases/42 is described."""
    assert schema.link_for(_req("GET", "/apps/acme-web/releases/42")).title == "Info"


def test_docker_image_needs_the_docker_accept_variant(schema: PlatformSchema) -> None:
    """docker_image in a formation PATCH passes only with version=3.docker-releases."""
    body = {"updates": [{"type": "web", "docker_image": DIGEST}]}
    assert schema.link_for(_req("PATCH", "/apps/acme-web/formation", body, ACCEPT_DOCKER))
    with pytest.raises(AssertionError):
        schema.link_for(_req("PATCH", "/apps/acme-web/formation", body))


def test_missing_accept_is_refused(schema: PlatformSchema) -> None:
    """A request without Heroku's Accept header is not one ship may send."""
    with pytest.raises(AssertionError, match="Accept"):
        schema.link_for(_req("GET", "/apps/acme-web/releases", accept="application/json"))
