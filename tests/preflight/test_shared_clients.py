"""The preflight's estate reads through the command's own Heroku client: one token
resolved, one set of connections, one client that sees every `RateLimit-Remaining`."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest

from shipper.core.estate import HerokuApp
from shipper.core.model import Side
from shipper.heroku import estate as heroku_estate
from shipper.heroku.api import HerokuApi
from shipper.pipeline import Pipeline
from shipper.preflight.checks import Estate
from shipper.wiring import Wiring
from tests.fakes.clock import FakeClock

PIPELINE = Pipeline.model_validate(
    {
        "name": "web",
        "heroku": {
            "api_url": "http://127.0.0.1:9",
            "apps": ["acme-web", "acme-worker"],
            "artifact": {"type": "source", "url": "https://x.invalid/{version}.tgz"},
        },
        "kubernetes": {
            "kubeconfig": "/nonexistent/kubeconfig",
            "namespace": "shop",
            "image": "r/web:{version}",
            "workloads": ["deployment/web"],
        },
        "preflight": {},
    }
)
ENV = {"HEROKU_API_KEY": "shared-client-test-token"}


def _estate(wiring: Wiring) -> Estate:
    """The estate the wired preflight checks share (every check holds the same one)."""
    estates = {id(e): e for c in wiring.preflight_checks() if (e := getattr(c, "estate", None))}
    [estate] = estates.values()
    assert isinstance(estate, Estate)
    return estate


def test_the_estate_reads_through_the_heroku_side_s_own_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every app's estate is read with the client the Heroku side deploys with."""
    used: list[HerokuApi] = []

    def read_app(api: HerokuApi, app: str, numbers: Collection[str] = ()) -> Any:
        used.append(api)
        return HerokuApp(app, (), frozenset(), None)

    monkeypatch.setattr(heroku_estate, "read_app", read_app)
    wiring = Wiring(PIPELINE, dict(ENV), FakeClock())
    side = wiring.platforms()[Side.HEROKU]
    assert [a.app for a in _estate(wiring).heroku.get()] == ["acme-web", "acme-worker"]
    assert side is wiring.heroku_platform() and side is wiring.platforms()[Side.HEROKU]
    assert used == [wiring.heroku_platform().api] * 2
