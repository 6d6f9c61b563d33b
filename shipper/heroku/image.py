"""From an image reference to the config digest a Heroku container release needs.

Heroku's formation PATCH takes `docker_image: sha256:<config digest>` (the image id),
not a tag and not the manifest digest. A template that renders to `sha256:<hex>` is used
as is. Otherwise the reference's manifest is read from its registry (Docker Registry
HTTP API v2): the Heroku registry with Basic auth `_:<token>`, as `heroku container`
does; any other registry anonymously, through its Bearer token challenge. The Heroku
token is never sent to any other host.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from shipper.errors import PlatformError, PlatformRejected
from shipper.heroku.auth import Token
from shipper.heroku.errors import from_response, from_transport, malformed

HEROKU_REGISTRY = "registry.heroku.com"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)
_REFERENCE = re.compile(
    r"^(?P<host>[a-zA-Z0-9.-]+(?::\d+)?)/(?P<repo>[a-z0-9._/-]+)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ImageRef:
    host: str
    repo: str
    reference: str  # a tag or a manifest digest

    @classmethod
    def parse(cls, raw: str) -> ImageRef:
        match = _REFERENCE.match(raw.strip())
        if match is None or ("." not in match.group("host") and ":" not in match.group("host")):
            raise PlatformRejected(
                f'"{raw[:100]}" is not an image reference like registry.heroku.com/app/web:TAG '
                "or a sha256 config digest; fix heroku.artifact.image"
            )
        ref = match.group("digest") or match.group("tag") or "latest"
        return cls(match.group("host"), match.group("repo"), ref)


class _RegistryAuth(httpx.Auth):
    """Basic `_:token` for the Heroku registry only; an anonymous Bearer token from the
    challenge for any other registry."""

    def __init__(self, host: str, token: Token | None, client: httpx.Client) -> None:
        self._host = host
        self._token = token
        self._client = client

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._host == HEROKU_REGISTRY and self._token is not None:
            pair = base64.b64encode(f"_:{self._token.value}".encode()).decode()
            request.headers["Authorization"] = f"Basic {pair}"
            yield request
            return
        response = yield request
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code != 401 or not challenge.lower().startswith("bearer "):
            return
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.pop("realm", "")
        if not realm.startswith("https://") and not realm.startswith("http://127.0.0.1"):
            return
        answer = self._client.get(realm, params=params)
        if answer.status_code != 200:
            return
        body = answer.json()
        bearer = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if isinstance(bearer, str):
            request.headers["Authorization"] = f"Bearer {bearer}"
            yield request

    def __repr__(self) -> str:
        return "<RegistryAuth [redacted]>"


class ImageResolver:
    """Reads image config digests from registries."""

    def __init__(self, client: httpx.Client, token: Token | None = None, scheme: str = "https"):
        self._client = client
        self._token = token
        self._scheme = scheme

    def config_digest(self, raw: str) -> str:
        if DIGEST.match(raw.strip()):
            return raw.strip()
        ref = ImageRef.parse(raw)
        manifest = self._manifest(ref, ref.reference)
        if "manifests" in manifest:  # an index: take linux/amd64, what dynos run
            chosen = next(
                (
                    m.get("digest")
                    for m in manifest["manifests"]
                    if isinstance(m, dict)
                    and (m.get("platform") or {}).get("os") == "linux"
                    and (m.get("platform") or {}).get("architecture") == "amd64"
                ),
                None,
            )
            if not isinstance(chosen, str):
                raise PlatformRejected(
                    f"{raw[:100]} has no linux/amd64 image; push one for Heroku to run"
                )
            manifest = self._manifest(ref, chosen)
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not DIGEST.match(digest):
            raise malformed(f"read the manifest of {raw[:100]}", "no config digest")
        return digest

    def _manifest(self, ref: ImageRef, reference: str) -> dict[str, Any]:
        url = f"{self._scheme}://{ref.host}/v2/{ref.repo}/manifests/{quote(reference, safe=':')}"
        action = f"read the image manifest {ref.host}/{ref.repo}:{reference}"
        redact = self._token.redact if self._token else (lambda s: s)
        try:
            response = self._client.get(
                url,
                headers={"Accept": MANIFEST_TYPES},
                auth=_RegistryAuth(ref.host, self._token, self._client),
            )
        except httpx.RequestError as exc:
            raise from_transport(exc, action) from None
        if response.status_code != 200:
            error: PlatformError = from_response(response, action, redact)
            raise error
        try:
            body = response.json()
        except ValueError:
            raise malformed(action, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise malformed(action, "expected an object")
        return body
