"""`ship` against sandbox namespaces shaped like production ones: a sidecar, a paused
Deployment, someone else's unfinished rollout, a GitOps-owned workload, a GitOps
controller reverting ship's change, an image pinned by digest. Each ends in exit 0 with
the work done, exit 3 before any change, or exit 1 with both sides back; never 4."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.conftest import Project
from tests.narrow import present

pytestmark = pytest.mark.slow

NS = "shop"
APP = "registry.sandbox.invalid/shop"
PROXY = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.0"


def images(apps: client.AppsV1Api, name: str = "web") -> dict[str, str]:
    spec = present(apps.read_namespaced_deployment(name, NS).spec.template.spec)
    return {c.name: present(c.image) for c in spec.containers}


def set_image(apps: client.AppsV1Api, image: str, manager: str, **notes: str) -> None:
    body: dict[str, Any] = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
    }
    if notes:
        body["metadata"] = {"annotations": notes}
    apps.patch_namespaced_deployment("web", NS, body, field_manager=manager)


def rolled_out(apps: client.AppsV1Api, timeout: float = 20) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        d = apps.read_namespaced_deployment("web", NS)
        s = present(d.status)
        if (
            (s.observed_generation or 0) >= present(present(d.metadata).generation)
            and (s.updated_replicas or 0) == d.spec.replicas
            and (s.available_replicas or 0) == d.spec.replicas
            and (s.replicas or 0) == d.spec.replicas
        ):
            return
        time.sleep(0.05)
    raise AssertionError("deployment/web did not roll out")


def assert_nothing_written(project: Project, before: list[dict[str, Any]]) -> None:
    """Neither side saw a change since `before`: no build, release, image change or Job."""
    assert project.journal() == before


def test_the_sidecar_keeps_its_image_through_a_deploy(
    project: Project, apps: client.AppsV1Api
) -> None:
    """The README's first run changes the app container and leaves cloud-sql-proxy alone;
    `ship rollback` puts v1 back the same way."""
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations", "--yes")
    assert done.returncode == 0, done.stderr
    assert images(apps) == {"web": f"{APP}:v2", "cloud-sql-proxy": PROXY}
    back = project.ship("rollback", "-p", "sandbox", "--yes")
    assert back.returncode == 0, back.stderr
    assert images(apps) == {"web": f"{APP}:v1", "cloud-sql-proxy": PROXY}


def test_a_paused_deployment_is_refused_with_nothing_written(
    project: Project, apps: client.AppsV1Api
) -> None:
    """A paused Deployment stops the release with exit 3 before any change on either side."""
    apps.patch_namespaced_deployment("web", NS, {"spec": {"paused": True}})
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations", "--yes")
    assert done.returncode == 3, done.stderr
    assert "deployment/web is paused" in done.stderr
    assert_nothing_written(project, before)
    assert images(apps)["web"] == f"{APP}:v1"


def test_someone_elses_unfinished_rollout_is_refused_naming_its_cause(
    project: Project, apps: client.AppsV1Api
) -> None:
    """A crash-looping hotfix still rolling out is refused (exit 3), naming its change-cause."""
    set_image(
        apps,
        f"{APP}:v1-hotfix-crashloop",
        "kubectl-edit",
        **{"kubernetes.io/change-cause": "hotfix by ana"},
    )
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 3, done.stderr
    assert "has not finished its last rollout" in done.stderr
    assert "hotfix by ana" in done.stderr
    assert_nothing_written(project, before)


def test_a_gitops_owned_workload_is_refused_naming_the_application(
    project: Project, apps: client.AppsV1Api
) -> None:
    """An Argo CD tracking annotation refuses the release (exit 3) naming the application."""
    note = {"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}
    apps.patch_namespaced_deployment("web", NS, {"metadata": {"annotations": note}})
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 3, done.stderr
    assert "Argo CD (application shop-web)" in done.stderr
    assert_nothing_written(project, before)


def test_a_gitops_revert_during_the_rollout_fails_and_rolls_back(
    project: Project, apps: client.AppsV1Api
) -> None:
    """A controller putting v1 back right after ship's patch fails the release (exit 1,
    both sides back on v1), naming the manager; it is never counted as success."""
    stop = threading.Event()

    def self_heal() -> None:
        while not stop.is_set():
            if images(apps)["web"] == f"{APP}:v2":
                set_image(apps, f"{APP}:v1", "argocd-controller")
                return
            time.sleep(0.01)

    healer = threading.Thread(target=self_heal, daemon=True)
    healer.start()
    try:
        done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    finally:
        stop.set()
        healer.join(timeout=5)
    assert done.returncode == 1, done.stderr
    assert "changed by argocd-controller during the rollout" in done.stdout + done.stderr
    assert set(project.running().values()) == {"v1"}


def test_a_digest_pinned_workload_fails_forward_and_comes_back_exactly(
    project: Project, apps: client.AppsV1Api
) -> None:
    """With the app pinned by digest, a failing deploy exits 1 (not 4), the exact pinned
    image is back afterwards; after a good deploy, `ship rollback` puts it back too."""
    pinned = f"{APP}@sha256:" + "ef" * 32
    set_image(apps, pinned, "kubectl-set")
    rolled_out(apps)
    done = project.ship("deploy", "v2-crashloop", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 1, done.stderr
    assert images(apps)["web"] == pinned
    forward = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert forward.returncode == 0, forward.stderr
    back = project.ship("rollback", "-p", "sandbox", "--yes")
    assert back.returncode == 0, back.stderr
    assert images(apps)["web"] == pinned
