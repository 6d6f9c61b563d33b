"""Backends of the Platform port, for the Platform contract suite to run over.

Each rig is one side with two targets (`web-a` and `web-b`), both running one version at the
start, plus what the suite needs to script and observe it: make one target's next
deploy fail, count the changes made on the platform (writes, never reads), and hand out
an Operation. The fake runs in memory, Heroku behind respx (`tests/heroku/fake_heroku`),
Kubernetes as the real client against the sandbox's API server on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import respx

from shipper.core.model import Side, Target, Version
from shipper.heroku.api import HerokuApi
from shipper.heroku.auth import Token
from shipper.ports import Operation, Platform
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.fakes.ports import FakePlatform
from tests.heroku.conftest import CANARY
from tests.heroku.conftest import platform as heroku_platform
from tests.heroku.fake_heroku import API, STREAMS, FakeHeroku
from tests.kubernetes.conftest import NAMESPACE, make_platform, real_op

NEW = Version("v2")  # what the suite deploys; every rig starts on something else


@dataclass
class PlatformRig:
    """One backend of the Platform port with the hooks the contract suite needs."""

    platform: Platform
    fail_next_deploy: Callable[[Target], None]  # that target's next deploy fails
    changes: Callable[[], int]  # writes made on the platform so far
    operation: Callable[[], Operation]


@contextmanager
def fake_rig(tmp_path: Path) -> Iterator[PlatformRig]:
    side = FakePlatform(Side.HEROKU, ["web-a", "web-b"])
    clock = FakeClock()
    yield PlatformRig(
        platform=side,
        fail_next_deploy=lambda t: side.fail_deploy.__setitem__(t.name, "injected failure"),
        changes=lambda: len(side.deploys) + len(side.rollbacks),
        operation=lambda: RecordingOperation(version=NEW, clock=clock, budget=600.0),
    )


@contextmanager
def heroku_rig(tmp_path: Path) -> Iterator[PlatformRig]:
    clock = FakeClock()
    fake = FakeHeroku(["web-a", "web-b"], clock, CANARY)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(url__startswith=API).mock(side_effect=fake.handle)
        router.route(url__startswith=STREAMS).mock(side_effect=fake.stream)
        fake.router = router
        api = HerokuApi(httpx.Client(base_url=API), Token(CANARY, "HEROKU_API_KEY"), clock=clock)
        yield PlatformRig(
            platform=heroku_platform(api, apps=["web-a", "web-b"]),
            fail_next_deploy=lambda t: fake.build_outcome.__setitem__(t.name, "failed"),
            changes=lambda: sum(1 for r in fake.requests if r.method != "GET"),
            operation=lambda: RecordingOperation(version=NEW, clock=clock, budget=3600.0),
        )


READS = {"get", "list", "watch"}


@contextmanager
def kubernetes_rig(tmp_path: Path) -> Iterator[PlatformRig]:
    kube = FakeKubeApiServer(speed=20.0, token="test-token")
    kube.start()
    try:
        for name in ("web-a", "web-b"):
            kube.seed_deployment(NAMESPACE, name, "ghcr.io/acme/web:v1", replicas=2)
        config = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)

        def fail(target: Target) -> None:
            name = target.name.removeprefix("deployment/")
            kube.faults.fail_next(1, method="PATCH", status=422, path=f"/deployments/{name}")

        def changes() -> int:
            return sum(n for (verb, _), n in kube.api_calls.items() if verb not in READS)

        yield PlatformRig(
            platform=make_platform(config, ["deployment/web-a", "deployment/web-b"]),
            fail_next_deploy=fail,
            changes=changes,
            operation=lambda: real_op(version=NEW),
        )
    finally:
        kube.stop()


RIGS: dict[str, Callable[[Path], AbstractContextManager[PlatformRig]]] = {
    "fake": fake_rig,
    "heroku": heroku_rig,
    "kubernetes": kubernetes_rig,
}
