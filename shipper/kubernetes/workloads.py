"""Workload references and where each kind keeps its pod template. Pure.

A pipeline names workloads as `kind/name` or `kind/name:container,container`
(`shipper.pipeline.parse_workload`). With a list, ship changes exactly those containers
(in `containers` or `initContainers`). Without one, it changes the containers, init
containers and native sidecars whose current image comes from the pipeline image's
repository, and nothing else: a `cloud-sql-proxy` beside the application keeps its
image, as `kubectl set image deploy/web app=...` would keep it. The target of a workload
is always `kind/name`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shipper.core.model import Side, Target, Version
from shipper.kubernetes.images import parse_image, repository_of, template_repository
from shipper.pipeline import parse_workload, workload_key

# JSON pointer / key path of the pod template, per kind.
TEMPLATE_PATH: dict[str, tuple[str, ...]] = {
    "deployment": ("spec", "template"),
    "statefulset": ("spec", "template"),
    "cronjob": ("spec", "jobTemplate", "spec", "template"),
}
RELEASE_ANNOTATION = "ship.dev/release"
CHANGE_CAUSE = "kubernetes.io/change-cause"
REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class Container:
    """One container of a pod template. `init` for an `initContainers` entry; `sidecar`
    for a native sidecar (an init container with `restartPolicy: Always`)."""

    name: str
    image: str
    init: bool = False
    sidecar: bool = False


def pod_containers(template: Mapping[str, Any]) -> list[Container]:
    """Every container of a pod template: init containers first, as the kubelet starts
    them. (Names are unique across both lists: the API server refuses duplicates.)"""
    spec = template.get("spec") or {}
    found = [
        Container(
            str(c.get("name")),
            str(c.get("image") or ""),
            init=True,
            sidecar=c.get("restartPolicy") == "Always",
        )
        for c in spec.get("initContainers") or []
    ]
    found += [
        Container(str(c.get("name")), str(c.get("image") or ""))
        for c in spec.get("containers") or []
    ]
    return found


@dataclass(frozen=True)
class Workload:
    kind: str  # deployment | statefulset | cronjob
    name: str
    containers: tuple[str, ...] = ()  # empty: those running `repository`
    repository: str = ""  # the pipeline image's repository (normalised); "" = unknown

    @classmethod
    def parse(cls, raw: str, image_template: str | None = None) -> Workload:
        kind, name, containers = parse_workload(raw)
        repository = template_repository(image_template) if image_template else ""
        return cls(kind, name, containers, repository)

    def for_image(self, image_template: str) -> Workload:
        """This workload, choosing its containers by `image_template`'s repository."""
        return replace(self, repository=template_repository(image_template))

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def target(self) -> Target:
        return Target(Side.KUBERNETES, self.ref)

    @property
    def template_pointer(self) -> str:
        return "/" + "/".join(TEMPLATE_PATH[self.kind])

    def template(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        node: Any = obj
        for key in TEMPLATE_PATH[self.kind]:
            node = node.get(key) if isinstance(node, Mapping) else None
        return dict(node) if isinstance(node, Mapping) else {}

    def pod_containers(self, obj: Mapping[str, Any]) -> list[Container]:
        return pod_containers(self.template(obj))

    def images(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Container name -> image, for every container and init container."""
        return {c.name: c.image for c in self.pod_containers(obj)}

    def init_names(self, obj: Mapping[str, Any]) -> set[str]:
        return {c.name for c in self.pod_containers(obj) if c.init}

    def selected(self, obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """(containers ship changes, configured containers the template lacks).

        With a configured list: exactly those, wherever they are. Without: every
        container whose image is from the pipeline image's repository (all regular
        containers when the repository is unknown, which only a hand-built Workload has).
        """
        found = self.pod_containers(obj)
        names = {c.name for c in found}
        if self.containers:
            return [c for c in self.containers if c in names], [
                c for c in self.containers if c not in names
            ]
        if not self.repository:
            return [c.name for c in found if not c.init], []
        return [c.name for c in found if repository_of(c.image) == self.repository], []

    def image_patch(
        self,
        containers: Sequence[str],
        image: str,
        release: str,
        cause: str,
        init: Collection[str] = (),
    ) -> dict[str, Any]:
        """A strategic merge patch: the image of each named container (those in `init`
        under `initContainers`, merged by name like the others), the release annotation
        on the pod template (so every ship release is its own revision) and the
        change-cause and release annotations on the workload, each key on its own: a
        strategic merge patch of a map touches only the keys it names."""
        regular = [{"name": c, "image": image} for c in containers if c not in init]
        inits = [{"name": c, "image": image} for c in containers if c in init]
        pod: dict[str, Any] = {}
        if regular:
            pod["containers"] = regular
        if inits:
            pod["initContainers"] = inits
        template: dict[str, Any] = {
            "metadata": {"annotations": {RELEASE_ANNOTATION: release}},
            "spec": pod,
        }
        node: dict[str, Any] = template
        for key in reversed(TEMPLATE_PATH[self.kind]):
            node = {key: node}
        node["metadata"] = {"annotations": {CHANGE_CAUSE: cause, RELEASE_ANNOTATION: release}}
        return node


def workloads(raw: Sequence[str], image_template: str | None = None) -> list[Workload]:
    return [Workload.parse(w, image_template) for w in raw]


def target_of(raw: str) -> Target:
    return Target(Side.KUBERNETES, workload_key(raw))


def version_pattern(image_template: str) -> re.Pattern[str]:
    """A regex that reads `{version}` back out of an image made from `image_template`."""
    before, _, after = image_template.partition("{version}")
    return re.compile(re.escape(before) + r"(?P<version>[^@\s]+?)" + re.escape(after) + r"(@.*)?")


def label_of(image: str, pattern: re.Pattern[str]) -> str | None:
    """The version one image names: what the template's `{version}` stands for (a digest
    after a tag only pins it), else, for an image pinned by digest alone, the digest."""
    match = pattern.fullmatch(image)
    if match is not None:
        return match.group("version")
    ref = parse_image(image)
    return ref.digest if ref.tag is None else None


def version_of(
    images: Mapping[str, str], containers: Sequence[str], pattern: re.Pattern[str]
) -> Version | None:
    """The version the selected containers run, when they all name one; None for a
    foreign image or a mix (shown as unknown, never by itself a failure)."""
    found: set[str] = set()
    for name in containers:
        label = label_of(images.get(name, ""), pattern)
        if label is None:
            return None
        found.add(label)
    return Version(found.pop()) if len(found) == 1 else None


def identity_of(images: Mapping[str, str], containers: Sequence[str]) -> str | None:
    """The platform's identity of the code a workload runs: its selected containers'
    images exactly as the template holds them (digests included). None when none is
    selected, since nothing ship can compare runs."""
    pairs = sorted((c, images[c]) for c in containers if c in images)
    if not pairs:
        return None
    return "k8s:" + ",".join(f"{name}={image}" for name, image in pairs)
