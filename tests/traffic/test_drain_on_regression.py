"""`traffic.on_regression: drain` against a real HAProxy: the release core, with fake
platforms and checks, drives the real TrafficControl adapter; the drain is one runtime
call (one server per backend), requests really move, and the drain is undone once the
rollback is verified."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shipper import __version__
from shipper.core.model import MeasurementStatus, Side, Version
from shipper.core.run import DeployRequest, Releaser
from shipper.pipeline import load_pipeline, parse_pipeline
from shipper.traffic.control import DrainRefused, traffic_control
from shipper.traffic.runtime import HAProxyRuntime
from tests.core.conftest import World
from tests.fakes.ports import holder
from tests.traffic.harness import Stack


def test_on_regression_drain_is_accepted() -> None:
    """The key parses, and the policy carries it; absent, nothing drains."""
    text = "name: web\nheroku: {apps: [acme-web], artifact: {type: source, url: 'https://x/{version}'}}\n"
    text += "traffic: {runtime: /s, maps_dir: /m, heroku: {servers: ['a:1']}, "
    text += "kubernetes: {servers: ['b:1']}, on_regression: drain}\n"
    assert parse_pipeline(text, "web.yaml").policy().drain_on_regression is True
    assert (
        parse_pipeline(text.replace("drain", "none"), "web.yaml").policy().drain_on_regression
        is False
    )


def test_drain_and_undrain_move_requests(stack: Stack) -> None:
    """drain(kubernetes) at 100%: every site goes to Heroku at once, one command sent;
    undrain puts them back; the server-state file keeps what HAProxy holds."""
    section = load_pipeline(stack.pipeline).traffic
    assert section is not None
    control = traffic_control(section)
    runtime = HAProxyRuntime(stack.runtime, stack.maps)
    assert runtime.send(f"set map {stack.maps / 'settings.map'} percent 100").strip() == ""
    assert stack.get("acme") == (200, "kubernetes")
    moved = control.drain(Side.KUBERNETES)
    assert moved.changed and moved.message.count("set server") == 1
    assert {stack.get(f"site-{i}")[1] for i in range(20)} == {"heroku"}
    assert control.share().drained is Side.KUBERNETES
    assert control.drain(Side.KUBERNETES).changed is False  # already drained: left alone
    back = control.undrain(Side.KUBERNETES)
    assert back.changed
    assert stack.get("acme") == (200, "kubernetes")
    assert control.share().drained is None


def test_drain_refused_when_the_other_side_is_down(stack: Stack) -> None:
    """Heroku failing its health check too: the regression is not confined; no drain."""
    section = load_pipeline(stack.pipeline).traffic
    assert section is not None
    stack.heroku.healthy = False
    control = traffic_control(section)
    import time

    give_up = time.monotonic() + 5
    while HAProxyRuntime(stack.runtime, stack.maps).read().usable(Side.HEROKU):
        assert time.monotonic() < give_up
        time.sleep(0.1)
    with pytest.raises(DrainRefused, match="not confined to kubernetes"):
        control.drain(Side.KUBERNETES)
    assert control.share().drained is None


def test_a_release_drains_the_regressed_side_through_haproxy(stack: Stack) -> None:
    """A deploy whose Kubernetes check fails in the bake: while both sides roll back, every
    request goes to Heroku (seen through HAProxy); after the verified rollback the split
    applies again."""
    section = load_pipeline(stack.pipeline).traffic
    assert section is not None
    runtime = HAProxyRuntime(stack.runtime, stack.maps)
    assert runtime.send(f"set map {stack.maps / 'settings.map'} percent 100").strip() == ""
    world = World()
    seen_during_rollback: list[str] = []
    rolled_back = world.kube.roll_back

    def watching_roll_back(to, op):
        seen_during_rollback.extend(stack.get(f"site-{i}")[1] for i in range(10))
        return rolled_back(to, op)

    world.kube.roll_back = watching_roll_back  # type: ignore[method-assign]  # reads traffic mid-way
    kube = next(c for c in world.checks if c.side is Side.KUBERNETES)
    kube.when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    policy = replace(world.policy, drain_on_regression=True)
    releaser = Releaser(
        policy,
        replace(world.ports(), traffic=traffic_control(section)),
        ship_version=__version__,
    )
    outcome = releaser.deploy(
        DeployRequest(version=Version("v2"), holder=holder(), migrations=False)
    )
    assert outcome.exit_code == 1, outcome.message
    assert set(seen_during_rollback) == {"heroku"}
    assert stack.get("acme") == (200, "kubernetes")
    moved = world.sink.of("traffic_moved")
    assert [(m["action"], m["applied"]) for m in moved] == [("drain", True), ("undrain", True)]
    assert "set server kubernetes/app1 state drain" in str(moved[0]["message"])
