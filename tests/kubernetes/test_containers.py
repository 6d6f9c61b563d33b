"""Container selection and version reading: which containers ship changes, and what
version a workload runs. Pure: objects in, names and labels out."""

from __future__ import annotations

from typing import Any

import pytest

from shipper.kubernetes.images import parse_image, repository_of
from shipper.kubernetes.workloads import (
    Workload,
    identity_of,
    version_of,
    version_pattern,
)

IMAGE = "ghcr.io/acme/web:{version}"
DIGEST = "sha256:" + "ab" * 32


def deployment(
    containers: dict[str, str], init: dict[str, str] | None = None, **kw: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": n, "image": i} for n, i in containers.items()]}
    if init:
        spec["initContainers"] = [
            {
                "name": n,
                "image": i,
                **({"restartPolicy": "Always"} if n.endswith("sidecar") else {}),
            }
            for n, i in init.items()
        ]
    return {"metadata": {"name": "web"}, "spec": {"template": {"spec": spec}, **kw}}


@pytest.mark.parametrize(
    ("image", "repository", "tag", "digest"),
    [
        ("ghcr.io/acme/web:v2", "ghcr.io/acme/web", "v2", None),
        (f"ghcr.io/acme/web@{DIGEST}", "ghcr.io/acme/web", None, DIGEST),
        (f"ghcr.io/acme/web:v2@{DIGEST}", "ghcr.io/acme/web", "v2", DIGEST),
        ("registry:5000/acme/web:v2", "registry:5000/acme/web", "v2", None),
        ("registry:5000/acme/web", "registry:5000/acme/web", None, None),
        ("nginx:1.27", "docker.io/library/nginx", "1.27", None),
        ("acme/web:v1", "docker.io/acme/web", "v1", None),
        ("index.docker.io/library/nginx", "docker.io/library/nginx", None, None),
    ],
)
def test_image_references_split_into_repository_tag_and_digest(
    image: str, repository: str, tag: str | None, digest: str | None
) -> None:
    """Registry ports, Docker Hub defaults, tags and digests are read as the runtime does."""
    ref = parse_image(image)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)


def test_without_a_list_only_containers_on_the_pipeline_repository_are_chosen() -> None:
    """A sidecar from another repository is never chosen; an init container and a native
    sidecar on the application's repository are."""
    obj = deployment(
        {"web": "ghcr.io/acme/web:v1", "cloud-sql-proxy": "gcr.io/cloud-sql-connectors/proxy:2.8"},
        init={"migrate-check": "ghcr.io/acme/web:v1", "log-sidecar": "fluent/fluent-bit:3"},
    )
    w = Workload.parse("deployment/web", IMAGE)
    assert w.selected(obj) == (["migrate-check", "web"], [])


def test_with_a_list_exactly_those_containers_are_chosen_and_missing_ones_named() -> None:
    """A configured list chooses exactly its names, init containers included, and names
    those the pod spec lacks."""
    obj = deployment({"app": "other/img:1"}, init={"prep": "ghcr.io/acme/web:v1"})
    w = Workload.parse("deployment/web:app,prep,nope", IMAGE)
    assert w.selected(obj) == (["app", "prep"], ["nope"])


def test_no_container_on_the_repository_chooses_nothing() -> None:
    """A workload running only foreign images chooses nothing (the preflight refuses it)."""
    obj = deployment({"proxy": "gcr.io/x/proxy:1"})
    assert Workload.parse("deployment/web", IMAGE).selected(obj) == ([], [])


def test_image_patch_puts_init_containers_under_init_containers() -> None:
    """The strategic merge patch sets init containers' images in `initContainers`."""
    w = Workload.parse("deployment/web", IMAGE)
    patch = w.image_patch(["prep", "web"], "ghcr.io/acme/web:v2", "7", "cause", init={"prep"})
    spec = patch["spec"]["template"]["spec"]
    assert spec == {
        "containers": [{"name": "web", "image": "ghcr.io/acme/web:v2"}],
        "initContainers": [{"name": "prep", "image": "ghcr.io/acme/web:v2"}],
    }


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("ghcr.io/acme/web:v2", "v2"),
        (f"ghcr.io/acme/web:v2@{DIGEST}", "v2"),
        (f"ghcr.io/acme/web@{DIGEST}", DIGEST),
        ("ghcr.io/other/web:v2", None),
    ],
)
def test_version_reads_the_tag_else_the_digest(image: str, version: str | None) -> None:
    """`repo:tag@digest` reads as its tag, `repo@digest` as the digest, a foreign image
    as unknown."""
    assert version_of({"web": image}, ["web"], version_pattern(IMAGE)) == version


def test_version_is_read_from_the_chosen_containers_only() -> None:
    """A sidecar on its own version does not make the workload's version unknown."""
    images = {"web": "ghcr.io/acme/web:v2", "proxy": "gcr.io/p/proxy:2.8"}
    assert version_of(images, ["web"], version_pattern(IMAGE)) == "v2"


def test_identity_names_the_chosen_images_with_digests() -> None:
    """The identity changes with a digest and ignores containers ship does not change."""
    a = identity_of({"web": f"ghcr.io/acme/web:v2@{DIGEST}", "proxy": "p:1"}, ["web"])
    b = identity_of({"web": "ghcr.io/acme/web:v2", "proxy": "p:2"}, ["web"])
    assert a == f"k8s:web=ghcr.io/acme/web:v2@{DIGEST}"
    assert a != b
    assert identity_of({"proxy": "p:1"}, []) is None


def test_repository_of_a_template_ignores_the_version() -> None:
    """The pipeline's repository is the template's, whatever version fills it."""
    assert repository_of("ghcr.io/acme/web:v9") == Workload.parse("deployment/w", IMAGE).repository
