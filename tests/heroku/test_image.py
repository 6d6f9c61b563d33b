"""Container image releases through the formation endpoint, and digest resolution."""

from __future__ import annotations

import json

import httpx
import pytest

from shipper.core.model import Verdict, Version
from shipper.errors import PlatformRejected
from shipper.heroku.api import ACCEPT_DOCKER, HerokuApi
from shipper.heroku.auth import Token
from shipper.heroku.image import ImageResolver
from shipper.heroku.platform import HerokuArtifact, HerokuPlatform
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import CANARY
from tests.heroku.fake_heroku import FakeHeroku

V42 = Version("v42")
DIGEST = "sha256:" + "ab" * 32
CONFIG = "sha256:" + "cd" * 32


def _image_side(api: HerokuApi, image: str) -> HerokuPlatform:
    artifact = HerokuArtifact("image", image=image, process_types=("web", "release"))
    resolver = ImageResolver(httpx.Client(), Token(CANARY, "HEROKU_API_KEY"))
    return HerokuPlatform(api, ["acme-web"], artifact, images=resolver)


def test_image_release_patches_the_formation_with_the_docker_variant(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """An image deploy PATCHes formation with version=3.docker-releases and every process."""
    heroku.apps["acme-web"].release_phase = False
    results = _image_side(api, "{version}").deploy(Version(DIGEST), op)
    patches = heroku.calls("PATCH", "/formation$")
    assert len(patches) == 1
    assert patches[0].headers["Accept"] == ACCEPT_DOCKER
    assert json.loads(patches[0].content) == {
        "updates": [
            {"type": "web", "docker_image": DIGEST},
            {"type": "release", "docker_image": DIGEST},
        ]
    }
    assert results[0].verdict is Verdict.SUCCEEDED
    assert op.intents[0][1] == "release image"


def test_image_release_follows_the_new_release_through_release_phase(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The release the PATCH made is found by comparing the newest release before and after."""
    heroku.release_outcome["acme-web"] = "failed"
    results = _image_side(api, "{version}").deploy(Version(DIGEST), op)
    assert results[0].verdict is Verdict.FAILED
    assert "release phase" in results[0].message


def test_image_reference_is_resolved_to_its_config_digest(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A registry.heroku.com reference is read with Basic _:token and its config digest used."""
    heroku.apps["acme-web"].release_phase = False
    route = heroku.router.get("https://registry.heroku.com/v2/acme-web/web/manifests/v42").respond(
        200, json={"schemaVersion": 2, "config": {"digest": CONFIG}}
    )
    _image_side(api, "registry.heroku.com/acme-web/web:{version}").deploy(V42, op)
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")
    body = json.loads(heroku.calls("PATCH", "/formation$")[0].content)
    assert body["updates"][0]["docker_image"] == CONFIG


def test_other_registries_never_get_the_heroku_token(heroku: FakeHeroku) -> None:
    """A ghcr.io manifest is fetched through the anonymous token challenge, without the key."""
    heroku.router.get("https://ghcr.io/v2/acme/web/manifests/v42").mock(
        side_effect=[
            httpx.Response(
                401,
                headers={
                    "WWW-Authenticate": 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/web:pull"'
                },
            ),
            httpx.Response(200, json={"config": {"digest": CONFIG}}),
        ]
    )
    token_route = heroku.router.get("https://ghcr.io/token").respond(200, json={"token": "anon"})
    resolver = ImageResolver(httpx.Client(), Token(CANARY, "HEROKU_API_KEY"))
    assert resolver.config_digest("ghcr.io/acme/web:v42") == CONFIG
    assert CANARY not in str(token_route.calls.last.request.headers)


def test_bad_image_reference_is_rejected_with_the_key_to_fix(heroku: FakeHeroku) -> None:
    """A reference that is neither an image nor a digest names heroku.artifact.image."""
    resolver = ImageResolver(httpx.Client())
    with pytest.raises(PlatformRejected, match=r"heroku\.artifact\.image"):
        resolver.config_digest("not an image")


def test_image_patch_that_timed_out_is_adopted_not_resent(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A formation PATCH that timed out after Heroku released is not sent again."""
    heroku.apps["acme-web"].release_phase = False

    def made_then_timed_out(request: httpx.Request) -> httpx.Response:
        heroku._route(request)
        raise httpx.ReadTimeout("read timed out", request=request)

    heroku.fail("PATCH", "/formation$", made_then_timed_out)
    results = _image_side(api, "{version}").deploy(Version(DIGEST), op)
    assert results[0].verdict is Verdict.SUCCEEDED
    assert len(heroku.calls("PATCH", "/formation$")) == 1
