"""The migration runner follows its pod's log (`follow=true`) instead of reading it whole:
lines arrive while the Job runs, a stream that ended leaves no read after the Job
completed, and whatever goes wrong with the stream, one whole read gives the same result
as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from shipper.core.clock import SystemClock
from shipper.core.model import ReleaseNo, Version
from shipper.kubernetes import migration
from shipper.kubernetes.api import KubeApi
from shipper.kubernetes.errors import KubeUnavailable
from shipper.kubernetes.factory import build_kube_api
from shipper.kubernetes.migration import KubernetesMigrationRunner, LogTail, PodLog, job_name
from shipper.kubernetes.workloads import Workload
from shipper.sandbox.kubeapi import FakeKubeApiServer
from shipper.sandbox.kubeapi.controller import Timing
from tests.fakes.operation import RecordingOperation
from tests.kubernetes.conftest import FAST, IMAGE, make_pipeline
from tests.kubernetes.conftest import NAMESPACE as NS

COMMAND = ("bin/rails", "db:migrate")
RELEASE = 7
JOB = job_name("web", RELEASE)


@pytest.fixture
def kube() -> Iterator[FakeKubeApiServer]:
    """The fake cluster, its migration Job running for 0.25 s (5 simulated seconds at 20x):
    long enough for the runner to see the pod run before it ends, on a busy machine too."""
    server = FakeKubeApiServer(speed=20.0, token="test-token", timing=Timing(job_run=5.0))
    server.start()
    server.seed_deployment(NS, "web", "ghcr.io/acme/web:v1", replicas=1)
    try:
        yield server
    finally:
        server.stop()


def runner(kubeconfig: Path) -> KubernetesMigrationRunner:
    pipeline = make_pipeline(kubeconfig, ["deployment/web"])
    return KubernetesMigrationRunner(
        build_kube_api(pipeline, clock=SystemClock(), env={}),
        pipeline="web",
        image_template=IMAGE,
        timeout=20.0,
        template_from=Workload.parse("deployment/web"),
        tuning=FAST,
    )


def job_complete(kube: FakeKubeApiServer) -> bool:
    job = kube.get("jobs", NS, JOB) or {}
    return any(
        c.get("type") == "Complete" and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def migrate_running(kube: FakeKubeApiServer) -> bool:
    """The Job's migration container runs right now, as the cluster has it."""
    pods = kube.store.list("pods", NS)[0]
    return any(
        s.get("name") == "migrate" and "running" in (s.get("state") or {})
        for pod in pods
        if (pod["metadata"].get("labels") or {}).get("job-name") == JOB
        for s in (pod.get("status") or {}).get("containerStatuses") or []
    )


def full_log(kube: FakeKubeApiServer) -> str:
    """The migration container's whole log, as the kubelet wrote it."""
    return next(text for (ns, pod, c), text in kube.controller.logs.items() if c == "migrate")


@dataclass(frozen=True)
class LogRequest:
    follow: bool
    after_completion: bool


@dataclass
class LogRequests:
    """Every log request the fake server received, and whether the Job had completed."""

    kube: FakeKubeApiServer
    seen: list[LogRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        counted = self.kube.count_call

        def noting(method: str, path: str, query: Any) -> None:
            if path.endswith("/log"):
                follow = query.get("follow") == "true"
                self.seen.append(LogRequest(follow, job_complete(self.kube)))
            counted(method, path, query)

        self.kube.count_call = noting  # type: ignore[method-assign]  # notes log requests

    @property
    def plain_after_completion(self) -> int:
        return sum(1 for r in self.seen if not r.follow and r.after_completion)


@dataclass
class WatchingOperation(RecordingOperation):
    """Notes, for each log line, whether the migration container was still running."""

    kube: FakeKubeApiServer | None = None
    while_running: list[bool] = field(default_factory=list)

    def log(self, line: str) -> None:
        assert self.kube is not None
        self.while_running.append(migrate_running(self.kube))
        super().log(line)


def operation(kube: FakeKubeApiServer) -> WatchingOperation:
    return WatchingOperation(
        version=Version("v2"), release=ReleaseNo(RELEASE), clock=SystemClock(), kube=kube
    )


def test_lines_reach_op_log_while_the_job_still_runs(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """Lines go to op.log as the container writes them, not only once the Job is over;
    every line goes once, in order, and the result keeps the whole log."""
    op = operation(kube)
    result = runner(kubeconfig).run(Version("v2"), COMMAND, op)
    assert result.succeeded, result.message
    assert any(op.while_running), "no line arrived while the migration ran"
    assert result.log == full_log(kube)
    assert op.lines == result.log.rstrip("\n").split("\n")


def test_a_stream_that_ended_leaves_no_log_read_after_the_job_completed(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The one log request is the follow; once the Job has completed, nothing is read."""
    requests = LogRequests(kube)
    result = runner(kubeconfig).run(Version("v2"), COMMAND, operation(kube))
    assert result.succeeded, result.message
    assert [r.follow for r in requests.seen] == [True]
    assert requests.plain_after_completion == 0
    assert result.log == full_log(kube)


def test_a_stream_that_breaks_midway_gives_way_to_one_whole_read(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The stream breaks after its first chunk: the log is read whole once at the end,
    and the result and the lines are what they would have been."""
    migrate = runner(kubeconfig)
    followed = migrate.api.follow_pod_log

    def breaking(name: str, container: str, **kw: Any) -> Iterator[bytes]:
        chunks = followed(name, container, **kw)
        yield next(chunks)
        raise KubeUnavailable("the log stream broke (test)")

    migrate.api.follow_pod_log = breaking  # type: ignore[method-assign]  # breaks the stream
    requests = LogRequests(kube)
    op = operation(kube)
    result = migrate.run(Version("v2"), COMMAND, op)
    assert result.succeeded, result.message
    assert requests.seen[0].follow
    assert requests.plain_after_completion == 1
    assert result.log == full_log(kube)
    assert op.lines == result.log.rstrip("\n").split("\n")


@pytest.mark.parametrize("status", [400, 403])
def test_a_refused_follow_gives_way_to_one_whole_read(
    kube: FakeKubeApiServer, kubeconfig: Path, status: int
) -> None:
    """A follow answered 400 or 403 (which ship otherwise stops on) only means the log
    is read whole at the end, as before."""
    kube.faults.fail_next(1, status=status, method="GET", path="/log")
    requests = LogRequests(kube)
    op = operation(kube)
    result = runner(kubeconfig).run(Version("v2"), COMMAND, op)
    assert result.succeeded, result.message
    assert requests.seen[0].follow
    assert requests.plain_after_completion == 1
    assert result.log == full_log(kube)
    assert op.lines == result.log.rstrip("\n").split("\n")


def test_a_stream_that_does_not_end_is_waited_for_briefly(
    kube: FakeKubeApiServer, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream still open after the Job completed is waited for FOLLOW_END_WAIT at
    most; then one whole read gives the log, and the hung thread adds nothing more."""
    monkeypatch.setattr(migration, "FOLLOW_END_WAIT", 0.2)
    migrate = runner(kubeconfig)
    followed = migrate.api.follow_pod_log
    release = threading.Event()

    def hanging(name: str, container: str, **kw: Any) -> Iterator[bytes]:
        chunks = followed(name, container, **kw)
        yield next(chunks)
        release.wait(10)
        yield b"a late line nobody must see\n"

    migrate.api.follow_pod_log = hanging  # type: ignore[method-assign]  # never ends
    requests = LogRequests(kube)
    op = operation(kube)
    try:
        result = migrate.run(Version("v2"), COMMAND, op)
        assert result.succeeded, result.message
        assert requests.plain_after_completion == 1
    finally:
        release.set()
    time.sleep(0.05)  # the released thread would feed now, were it not given up
    assert result.log == full_log(kube)
    assert op.lines == result.log.rstrip("\n").split("\n")


# --- PodLog and the runner's look at the log, with a stand-in API -----------------------


class StubApi:
    """Just the log calls: a follow that sends `chunks` and ends, and a whole read."""

    def __init__(self, chunks: list[bytes], whole: str = "") -> None:
        self.chunks = chunks
        self.whole = whole
        self.reads = 0

    def follow_pod_log(self, name: str, container: str, **kw: Any) -> Iterator[bytes]:
        yield from self.chunks

    def pod_log(self, name: str, container: str) -> str:
        self.reads += 1
        return self.whole


def started(stub: StubApi, op: RecordingOperation) -> PodLog:
    podlog = PodLog(cast(KubeApi, stub), LogTail(), op)
    assert podlog.follow("pod-1")
    assert podlog.settle(1.0)  # the stub's stream ends at once, cleanly
    return podlog


def test_followed_chunks_become_whole_lines_across_split_characters() -> None:
    """Chunks cut anywhere, even inside a character, give the lines as written."""
    text = "caf\u00e9 migrated\nnext\n".encode()
    op = RecordingOperation()
    podlog = started(StubApi([text[:4], text[4:6], text[6:]]), op)
    assert op.lines == ["caf\u00e9 migrated", "next"]
    assert podlog.tail.text == "caf\u00e9 migrated\nnext\n"
    assert not podlog.follow("pod-1")  # one follow per run


def test_a_follow_never_started_settles_at_once_as_incomplete() -> None:
    """Nothing followed: nothing to wait for, and the whole read is due."""
    podlog = PodLog(cast(KubeApi, StubApi([])), LogTail(), RecordingOperation())
    begun = time.monotonic()
    assert podlog.settle(5.0) is False
    assert time.monotonic() - begun < 1.0
    assert not podlog.follow("pod-1")  # given up: no follow from now on


def _pod(state: dict[str, Any]) -> dict[str, Any]:
    status = {"containerStatuses": [{"name": "migrate", "state": state}]}
    return {"metadata": {"name": "pod-1"}, "status": status}


def test_a_stream_ended_while_a_later_listing_shows_the_container_running_is_not_trusted() -> None:
    """The server ended the stream cleanly, yet a listing made after that still shows the
    migration running: the stream was cut short, so the log is read whole."""
    stub = StubApi([b"first\n"], whole="first\nsecond\n")
    op = RecordingOperation()
    podlog = started(stub, op)
    runner = KubernetesMigrationRunner(
        cast(KubeApi, stub), pipeline="web", image_template=IMAGE, timeout=10
    )
    running = _pod({"running": {}})
    runner._look_at_log(running, podlog, ended_before=False)  # listed before the end
    runner._look_at_log(_pod({"terminated": {"exitCode": 0}}), podlog, ended_before=True)
    assert stub.reads == 0
    runner._look_at_log(running, podlog, ended_before=True)
    assert stub.reads == 1
    assert op.lines == ["first", "second"]


def test_log_tail_takes_appended_chunks_then_a_whole_read() -> None:
    """Appended chunks and a later whole read add up: each line goes out once."""
    tail = LogTail()
    assert tail.append("a\nb") == ["a"]
    assert tail.append("\nc") == ["b"]
    assert tail.feed("a\nb\nc\nd\n") == ["c", "d"]
    assert tail.text == "a\nb\nc\nd\n"
