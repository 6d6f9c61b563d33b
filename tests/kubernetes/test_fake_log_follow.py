"""The fake API server's followed pod log (`follow=true`), through ship's `KubeApi` and
the real client: what is there first, then what the container adds, and a clean end
once the container stops running; refusals as a plain read's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from shipper.core.clock import SystemClock
from shipper.errors import PlatformNotFound, PlatformRejected
from shipper.kubernetes.api import KubeApi
from shipper.kubernetes.factory import build_kube_api
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_pipeline

POD = "logger"
KEY = (NS, POD, "main")


def _state(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "main",
                "image": "busybox:1.36",
                "imageID": "",
                "ready": "running" in state,
                "restartCount": 0,
                "state": state,
            }
        ],
    }


RUNNING = _state({"running": {"startedAt": "2026-01-01T00:00:00Z"}})
WAITING = _state({"waiting": {"reason": "ContainerCreating"}})
TERMINATED = _state({"terminated": {"exitCode": 0, "reason": "Completed"}})


@pytest.fixture
def quiet(kube: FakeKubeApiServer) -> FakeKubeApiServer:
    """The fake server with its controllers paused: only the test moves the pod."""
    kube.controller.paused = True
    return kube


@pytest.fixture
def api(kubeconfig: Path) -> KubeApi:
    pipeline = make_pipeline(kubeconfig, ["deployment/web"])
    return build_kube_api(pipeline, clock=SystemClock(), env={})


def bare_pod(kube: FakeKubeApiServer, status: dict[str, Any]) -> None:
    """A pod nobody owns, with one container `main` in the given status."""
    kube.store.create(
        "pods",
        NS,
        {"metadata": {"name": POD}, "spec": {"containers": [{"name": "main", "image": "b"}]}},
    )
    set_status(kube, status)


def set_status(kube: FakeKubeApiServer, status: dict[str, Any]) -> None:
    kube.store.update("pods", NS, POD, lambda p: {**p, "status": status}, subresource="status")


class Reader:
    """Follows the pod's log on a thread, noting each chunk as it comes."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks: list[bytes] = []
        self.error: BaseException | None = None
        self.arrived = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(chunks,), daemon=True)
        self._thread.start()

    def _read(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                self.chunks.append(chunk)
                self.arrived.set()
        except BaseException as exc:  # handed to the test
            self.error = exc

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode()

    def wait_for(self, text: str, timeout: float = 2.0) -> None:
        give_up = time.monotonic() + timeout
        while self.text != text and time.monotonic() < give_up:
            time.sleep(0.005)
        assert self.text == text

    def ended(self, timeout: float = 2.0) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


def test_follow_sends_what_is_there_then_each_append_and_ends_with_the_container(
    quiet: FakeKubeApiServer, api: KubeApi
) -> None:
    """The stream carries the log so far, then what the container writes while it runs,
    and closes cleanly once the container has terminated."""
    bare_pod(quiet, RUNNING)
    quiet.controller.write_log(KEY, "one\n")
    reader = Reader(api.follow_pod_log(POD, "main", read_timeout=5))
    reader.wait_for("one\n")
    quiet.controller.write_log(KEY, "one\ntwo\n")
    reader.wait_for("one\ntwo\n")
    assert not reader.ended(timeout=0.05)  # still running: the stream stays open
    quiet.controller.write_log(KEY, "one\ntwo\nthree\n")
    set_status(quiet, TERMINATED)
    assert reader.ended()
    assert reader.error is None
    assert reader.text == "one\ntwo\nthree\n"


def test_plain_read_of_a_running_container_still_answers_at_once(
    quiet: FakeKubeApiServer, api: KubeApi
) -> None:
    """Without follow the answer is the log so far, not a stream."""
    bare_pod(quiet, RUNNING)
    quiet.controller.write_log(KEY, "one\n")
    assert api.pod_log(POD, "main") == "one\n"


def test_follow_of_a_terminated_container_sends_its_log_and_ends(
    quiet: FakeKubeApiServer, api: KubeApi
) -> None:
    """A container that already exited: its whole log, then the clean end straight away."""
    bare_pod(quiet, TERMINATED)
    quiet.controller.write_log(KEY, "all\ndone\n")
    assert b"".join(api.follow_pod_log(POD, "main", read_timeout=5)) == b"all\ndone\n"


def test_follow_ends_when_the_pod_is_deleted(quiet: FakeKubeApiServer, api: KubeApi) -> None:
    """A pod that goes away runs nothing more: its stream ends."""
    bare_pod(quiet, RUNNING)
    quiet.controller.write_log(KEY, "one\n")
    reader = Reader(api.follow_pod_log(POD, "main", read_timeout=5))
    reader.wait_for("one\n")
    quiet.store.delete("pods", NS, POD)
    assert reader.ended()
    assert reader.error is None


def test_follow_of_a_waiting_container_is_a_400(quiet: FakeKubeApiServer, api: KubeApi) -> None:
    """A container waiting to start has no log to follow: 400, as the real API answers,
    which ship reads as a refusal; the call is counted."""
    bare_pod(quiet, WAITING)
    before = api.calls
    with pytest.raises(PlatformRejected, match="waiting to start"):
        list(api.follow_pod_log(POD, "main", read_timeout=5))
    assert api.calls == before + 1


def test_follow_answers_400_over_the_wire(
    quiet: FakeKubeApiServer, api_client: client.ApiClient
) -> None:
    """The official client's own follow request meets the same 400 Status."""
    bare_pod(quiet, WAITING)
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(api_client).read_namespaced_pod_log(
            POD, NS, container="main", follow=True, _preload_content=False
        )
    assert caught.value.status == 400


def test_follow_of_a_missing_pod_is_not_found(quiet: FakeKubeApiServer, api: KubeApi) -> None:
    """No such pod: the same 404 as a plain read."""
    with pytest.raises(PlatformNotFound):
        list(api.follow_pod_log("nope", "main", read_timeout=5))


def test_follow_is_a_chunked_text_stream(quiet: FakeKubeApiServer, api: KubeApi) -> None:
    """The answer is text/plain, chunked, without a length, as the API server streams it."""
    bare_pod(quiet, TERMINATED)
    quiet.controller.write_log(KEY, "x\n")
    response = api._send(
        "GET",
        api._path("pod", POD, "log"),
        query=[("container", "main"), ("follow", "true")],
        accept="text/plain",
    )
    try:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        assert response.headers.get("Content-Type") == "text/plain"
        assert response.read() == b"x\n"
    finally:
        response.response.release_conn()
