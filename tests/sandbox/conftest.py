"""Stand-ins served over real HTTP on loopback, with a hand-wound clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shipper.sandbox.heroku_api import HerokuApi
from shipper.sandbox.heroku_world import HerokuWorld, Timings
from shipper.sandbox.web import Served, serve

TOKEN = "sandbox-test-token"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}


@dataclass
class ManualClock:
    """Seconds since the epoch, moved only by `advance`."""

    now: float = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class HerokuStandIn:
    api: HerokuApi
    world: HerokuWorld
    clock: ManualClock
    served: Served
    client: httpx.Client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def heroku(clock: ManualClock) -> Iterator[HerokuStandIn]:
    world = HerokuWorld(("shop-web", "shop-worker"), timings=Timings(), clock=clock)
    api = HerokuApi(world, TOKEN)
    served = serve("heroku-test", api)
    with httpx.Client(base_url=served.url, headers=HEADERS, timeout=5) as client:
        yield HerokuStandIn(api, world, clock, served, client)
    served.close()
