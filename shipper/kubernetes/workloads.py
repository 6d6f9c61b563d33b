"""Workload references and where each kind keeps its pod template. Pure.

A pipeline names workloads as `kind/name` or `kind/name:container,container`
(`shipper.pipeline.parse_workload`); without containers, every container of the pod
template gets the new image. The target of a workload is always `kind/name`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipper.core.model import Side, Target, Version
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
class Workload:
    kind: str  # deployment | statefulset | cronjob
    name: str
    containers: tuple[str, ...] = ()  # empty: all of them

    @classmethod
    def parse(cls, raw: str) -> Workload:
        kind, name, containers = parse_workload(raw)
        return cls(kind, name, containers)

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

    def images(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Container name -> image, for every container of the pod template."""
        spec = self.template(obj).get("spec") or {}
        return {str(c.get("name")): str(c.get("image")) for c in spec.get("containers") or []}

    def selected(self, obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """(containers ship changes, configured containers the template lacks)."""
        names = list(self.images(obj))
        if not self.containers:
            return names, []
        return [c for c in self.containers if c in names], [
            c for c in self.containers if c not in names
        ]

    def image_patch(
        self, containers: Sequence[str], image: str, release: str, cause: str
    ) -> dict[str, Any]:
        """A strategic merge patch: the image of each named container, the release
        annotation on the pod template (so every ship release is its own revision) and
        the change-cause and release annotations on the workload."""
        template: dict[str, Any] = {
            "metadata": {"annotations": {RELEASE_ANNOTATION: release}},
            "spec": {"containers": [{"name": c, "image": image} for c in containers]},
        }
        node: dict[str, Any] = template
        for key in reversed(TEMPLATE_PATH[self.kind]):
            node = {key: node}
        node["metadata"] = {"annotations": {CHANGE_CAUSE: cause, RELEASE_ANNOTATION: release}}
        return node


def workloads(raw: Sequence[str]) -> list[Workload]:
    return [Workload.parse(w) for w in raw]


def target_of(raw: str) -> Target:
    return Target(Side.KUBERNETES, workload_key(raw))


def version_pattern(image_template: str) -> re.Pattern[str]:
    """A regex that reads `{version}` back out of an image made from `image_template`."""
    before, _, after = image_template.partition("{version}")
    return re.compile(re.escape(before) + r"(?P<version>[^@\s]+?)" + re.escape(after) + r"(@.*)?")


def version_of(
    images: Mapping[str, str], containers: Sequence[str], pattern: re.Pattern[str]
) -> Version | None:
    """The version the selected containers run, when they all run one the pipeline's image
    template can read; None for a foreign image or a mix."""
    found: set[str] = set()
    for name in containers:
        match = pattern.fullmatch(images.get(name, ""))
        if match is None:
            return None
        found.add(match.group("version"))
    return Version(found.pop()) if len(found) == 1 else None
