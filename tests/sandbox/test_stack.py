"""The assembled sandbox in-process: live versions, the journal, the control endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shipper.sandbox.stack import Sandbox, SandboxSpec

KUBE_TOKEN = "kube-test-token"
DEPLOY = "/apis/apps/v1/namespaces/shop/deployments/web"
JOBS = "/apis/batch/v1/namespaces/shop/jobs"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxSpec(kube_speed=20.0), "heroku-test-token", KUBE_TOKEN)
    box.start()
    yield box
    box.stop()


def _kube(box: Sandbox) -> httpx.Client:
    return httpx.Client(
        base_url=box.endpoints["kubernetes_api"],
        headers={"Authorization": f"Bearer {KUBE_TOKEN}"},
        timeout=5,
    )


def _until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _set_image(box: Sandbox, version: str) -> None:
    body = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": f"registry.sandbox.invalid/shop:{version}"}
                    ]
                }
            }
        }
    }
    with _kube(box) as kube:
        answer = kube.patch(
            DEPLOY, json=body, headers={"Content-Type": "application/strategic-merge-patch+json"}
        )
    assert answer.status_code == 200


def _job(box: Sandbox, name: str, version: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "migrate",
                            "image": f"registry.sandbox.invalid/shop:{version}",
                            "command": ["bin/rails", "db:migrate"],
                        }
                    ],
                }
            },
        },
    }
    with _kube(box) as kube:
        assert kube.post(JOBS, json=job).status_code == 201


def test_seeded_sides_both_run_v1(sandbox: Sandbox) -> None:
    """A fresh sandbox runs v1 on every Heroku app and every Kubernetes workload."""
    state = sandbox.state()
    assert {a["version"] for a in state["heroku"]["apps"].values()} == {"v1"}
    assert {w["version"] for w in state["kubernetes"]["workloads"].values()} == {"v1"}


def test_kubernetes_health_follows_the_rollout(sandbox: Sandbox) -> None:
    """After the web Deployment's image changes, the side's /health reports the new version."""
    _set_image(sandbox, "v2")
    url = f"{sandbox.endpoints['kubernetes_app']}/health"
    body = _until(lambda: (b := httpx.get(url).json())["targets"]["deployment/web"] == "v2" and b)
    assert body["status"] == "ok"


def test_broken_image_fails_kubernetes_health(sandbox: Sandbox) -> None:
    """Once pods of a `broken` image are ready, the side's /health answers 503."""
    _set_image(sandbox, "v2-broken")
    url = f"{sandbox.endpoints['kubernetes_app']}/health"
    assert _until(lambda: httpx.get(url).status_code == 503)


def test_image_change_is_journalled(sandbox: Sandbox) -> None:
    """Changing a workload's image is recorded once, with its version and time."""
    _set_image(sandbox, "v2")
    journal = sandbox.state()["kubernetes"]["journal"]
    images = [e for e in journal if e["kind"] == "image"]
    assert [(e["target"], e["version"]) for e in images] == [("deployment/web", "v2")]


def test_a_change_records_when_its_call_arrived_before_the_added_latency(
    sandbox: Sandbox,
) -> None:
    """The journal tells when ship's call reached the stand-in from when the stand-in
    applied it (after its latency): the benchmark separates the two."""
    sandbox.set_latency(0.05)
    _set_image(sandbox, "v2")
    sandbox.set_latency(0.0)
    (image,) = [e for e in sandbox.state()["kubernetes"]["journal"] if e["kind"] == "image"]
    assert image["sent"] is not None
    assert image["at"] - image["sent"] >= 0.05
    with httpx.Client(
        base_url=sandbox.endpoints["heroku_api"],
        headers={
            "Authorization": "Bearer heroku-test-token",
            "Accept": "application/vnd.heroku+json; version=3",
        },
        timeout=5,
    ) as heroku:
        releases = heroku.get("/apps/shop-web/releases").json()
        older = next(r for r in releases if r["slug"] and not r["current"])
        sandbox.set_latency(0.05)
        made = heroku.post("/apps/shop-web/releases", json={"release": older["id"]})
        sandbox.set_latency(0.0)
    assert made.status_code == 201, made.text
    app = sandbox.world.apps["shop-web"]
    rollback = next(r for r in app.releases if r.id == made.json()["id"])
    assert rollback.requested_at is not None
    assert rollback.created_at - rollback.requested_at >= 0.05


def test_failed_migration_job_is_journalled(sandbox: Sandbox) -> None:
    """A `badmigrate` Job is recorded when created and when it fails."""
    _job(sandbox, "migrate-r1", "v2-badmigrate")

    def finished() -> list[dict[str, Any]]:
        journal = sandbox.state()["kubernetes"]["journal"]
        return [e for e in journal if e["kind"] == "job_finished"]

    assert [e["result"] for e in _until(finished)] == ["Failed"]
    assert sandbox.state()["kubernetes"]["jobs"] == {"migrate-r1": "failed"}


def test_control_switches_the_status_page(sandbox: Sandbox) -> None:
    """PUT /status on the control endpoint turns the chosen system yellow."""
    control = sandbox.endpoints["control"]
    answer = httpx.put(f"{control}/status", json={"colour": "yellow", "systems": ["Apps"]})
    assert answer.json() == {"Apps": "yellow", "Data": "green", "Tools": "green"}


def test_control_arms_a_heroku_fault(sandbox: Sandbox) -> None:
    """POST /faults arms a fault on the named stand-in."""
    control = sandbox.endpoints["control"]
    httpx.post(f"{control}/faults", json={"target": "heroku_api", "kind": "status", "status": 503})
    answer = httpx.get(f"{sandbox.endpoints['heroku_api']}/apps")
    assert answer.status_code == 503


def test_control_refuses_a_bad_fault(sandbox: Sandbox) -> None:
    """A fault with an unknown kind is refused with 400 and arms nothing."""
    control = sandbox.endpoints["control"]
    answer = httpx.post(f"{control}/faults", json={"kind": "explode"})
    assert answer.status_code == 400
    assert sandbox.state()["faults"]["heroku_api"]["armed"] == []


def test_control_sets_prometheus_mode(sandbox: Sandbox) -> None:
    """PUT /prometheus makes one side's query API answer an empty vector."""
    control = sandbox.endpoints["control"]
    httpx.put(f"{control}/prometheus", json={"side": "heroku", "mode": "empty"})
    url = f"{sandbox.endpoints['heroku_app']}/api/v1/query"
    assert httpx.get(url, params={"query": "up"}).json()["data"]["result"] == []


def test_control_drives_kubernetes_faults(sandbox: Sandbox) -> None:
    """POST /kubernetes/faults makes the fake API server fail the next request."""
    control = sandbox.endpoints["control"]
    armed = httpx.post(
        f"{control}/kubernetes/faults", json={"action": "fail_next", "n": 1, "status": 503}
    )
    assert armed.status_code == 200
    with _kube(sandbox) as kube:
        assert kube.get(DEPLOY).status_code == 503
        assert kube.get(DEPLOY).status_code == 200


def test_control_refuses_unknown_kubernetes_fault(sandbox: Sandbox) -> None:
    """An unknown Kubernetes fault action is refused with 400."""
    control = sandbox.endpoints["control"]
    answer = httpx.post(f"{control}/kubernetes/faults", json={"action": "explode"})
    assert answer.status_code == 400


def test_control_shutdown_stops_every_stand_in() -> None:
    """POST /shutdown stops the sandbox: every port stops answering."""
    box = Sandbox(SandboxSpec(), "heroku-test-token", KUBE_TOKEN)
    endpoints = box.start()
    assert httpx.post(f"{endpoints['control']}/shutdown").status_code == 202
    assert box.stopped.wait(10)
    for url in endpoints.values():
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=1)
