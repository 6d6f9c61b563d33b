"""`ship` against sandbox namespaces the preflight must handle: a StatefulSet with
OnDelete, an init container on the app image, rights the user lacks, a container name
the pipeline gets wrong, and someone else's rollout waited out with --rollout-wait.
Each ends in exit 0 with the work done, exit 3 (or 2, for the pipeline file) before any
change; never 4."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client

from tests.e2e.conftest import Project
from tests.e2e.test_real_namespaces import APP, NS, assert_nothing_written, rolled_out, set_image
from tests.narrow import present

pytestmark = pytest.mark.slow

PIPELINE = "pipelines/sandbox.yaml"


def edit_workloads(project: Project, old: str, new: str) -> None:
    """Change the workload list of the project's sandbox pipeline (for this test only)."""
    path = project.root / PIPELINE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def kube_action(project: Project, action: str, **args: str) -> None:
    project.control("POST", "/kubernetes/faults", {"action": action, **args})


def test_an_on_delete_statefulset_is_refused_with_nothing_written(
    project: Project, apps: client.AppsV1Api
) -> None:
    """A StatefulSet with updateStrategy OnDelete stops the release with exit 3 before
    any change on either side, naming the workload and the opt-in."""
    project.control(
        "POST",
        "/kubernetes/workloads",
        {
            "kind": "statefulset",
            "name": "db",
            "replicas": 2,
            "update_strategy": {"type": "OnDelete"},
        },
    )
    edit_workloads(project, "deployment/web,", "deployment/web, statefulset/db,")
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--migrations", "--yes")
    assert done.returncode == 3, done.stderr
    assert "statefulset/db has updateStrategy OnDelete" in done.stderr
    assert "kubernetes.statefulset_partitioned" in done.stderr
    assert_nothing_written(project, before)
    assert set(project.running().values()) == {"v1"}
    template = present(apps.read_namespaced_stateful_set("db", NS).spec.template.spec)
    assert template.containers[0].image == f"{APP}:v1"


def test_an_init_container_on_the_app_image_changes_with_the_app_and_comes_back(
    project: Project, apps: client.AppsV1Api
) -> None:
    """An init container on the app's image is deployed with the app container (exit 0)
    and `ship rollback` puts it back on v1 with the rest."""
    body = {
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [
                        {"name": "assets", "image": f"{APP}:v1", "command": ["bin/assets"]}
                    ]
                }
            }
        }
    }
    apps.patch_namespaced_deployment("web", NS, body, field_manager="kubectl-edit")
    rolled_out(apps)

    def init_image() -> str:
        spec = present(apps.read_namespaced_deployment("web", NS).spec.template.spec)
        return str(present(spec.init_containers)[0].image)

    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 0, done.stderr
    assert init_image() == f"{APP}:v2"
    back = project.ship("rollback", "-p", "sandbox", "--yes")
    assert back.returncode == 0, back.stderr
    assert init_image() == f"{APP}:v1"
    assert set(project.running().values()) == {"v1"}


def test_a_missing_patch_right_is_refused_before_any_change(project: Project) -> None:
    """Without the right to patch Deployments the release stops with exit 3 before any
    change on either side, naming the right."""
    kube_action(project, "deny", verb="patch", resource="deployments")
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 3, done.stderr
    assert "may not patch deployments.apps in namespace shop" in done.stderr
    assert_nothing_written(project, before)


def test_a_missing_diagnostics_right_is_a_warning_and_the_deploy_goes_on(
    project: Project,
) -> None:
    """Without the right to read pod logs (diagnostics only) ship warns and deploys."""
    kube_action(project, "deny", verb="get", resource="pods", subresource="log")
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    assert "may not get pods/log" in shown
    assert "diagnostics only" in shown
    assert set(project.running().values()) == {"v2"}


def test_a_wrong_container_name_is_a_pipeline_error(project: Project) -> None:
    """A container name the pod doesn't have, configured in the pipeline, exits 2
    naming the file, line and key, with nothing written; the lock is not left held."""
    edit_workloads(project, "deployment/web,", "deployment/web:app,")
    before = project.journal()
    done = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert done.returncode == 2, done.stderr
    assert f"{PIPELINE}:" in done.stderr
    assert "kubernetes.workloads[0]: deployment/web has no container named app" in done.stderr
    assert "Traceback" not in done.stderr
    assert_nothing_written(project, before)
    edit_workloads(project, "deployment/web:app,", "deployment/web,")
    again = project.ship("deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes")
    assert again.returncode == 0, again.stderr


def test_rollout_wait_waits_out_someone_elses_rollout(
    project: Project, apps: client.AppsV1Api
) -> None:
    """`--rollout-wait` lets the preflight wait for a rollout another writer started;
    once it finishes, the deploy goes ahead (exit 0)."""
    kube_action(project, "pause_controller")
    set_image(apps, f"{APP}:v1-hotfix", "kubectl-set", **{"kubernetes.io/change-cause": "hotfix"})
    resume = threading.Timer(3.0, kube_action, (project, "resume_controller"))
    resume.start()
    started = time.monotonic()
    try:
        done = project.ship(
            "deploy", "v2", "-p", "sandbox", "--no-migrations", "--yes", "--rollout-wait", "45s"
        )
    finally:
        resume.cancel()
        kube_action(project, "resume_controller")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 3.0
    assert set(project.running().values()) == {"v2"}
