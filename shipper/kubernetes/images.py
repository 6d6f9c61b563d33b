"""Reading container image references. Pure.

A reference is `[registry[:port]/]path[:tag][@digest]`. Two references name the same
repository when their registries and paths are equal once Docker Hub's defaults are
filled in (`nginx` is `docker.io/library/nginx`), which is how ship tells the
application's containers from a sidecar's without being told their names.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    repository: str  # normalised: registry/path, no tag, no digest
    tag: str | None
    digest: str | None  # "sha256:..." when pinned

    @property
    def label(self) -> str | None:
        """What a person calls this image's version: its tag when it has one (a digest
        beside a tag only pins it), else its digest."""
        return self.tag or self.digest


def parse_image(image: str) -> ImageRef:
    """Split `image` into repository, tag and digest (never raises: odd input stays whole
    in the repository, so it compares equal only to itself)."""
    rest, _, digest = image.strip().partition("@")
    tag: str | None = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:  # a colon before the last slash is a registry's port
        rest, tag = rest[:colon], rest[colon + 1 :] or None
    return ImageRef(_normalise(rest), tag, digest or None)


def _normalise(repository: str) -> str:
    first, sep, remainder = repository.partition("/")
    has_registry = bool(sep) and ("." in first or ":" in first or first == "localhost")
    if not has_registry:
        remainder = repository
        first = DOCKER_HUB
    if first in ("index.docker.io", "registry-1.docker.io"):
        first = DOCKER_HUB
    if first == DOCKER_HUB and "/" not in remainder:
        remainder = f"library/{remainder}"
    return f"{first}/{remainder}".lower()


def repository_of(image: str) -> str:
    return parse_image(image).repository


def template_repository(image_template: str) -> str:
    """The repository of the images a pipeline's `kubernetes.image` template makes."""
    return repository_of(image_template.replace("{version}", "v0"))
