"""Releases know the split: a notice of each side's share as the bake starts, and with
`traffic.on_regression: drain`, a side that regressed alone is drained (one call on the
TrafficControl port) before both sides roll back, and undrained once the rollback is
verified; recorded in the ledger and the event stream. A fake port, no HAProxy."""

from __future__ import annotations

from dataclasses import replace

from shipper import __version__
from shipper.core.model import MeasurementStatus, Side
from shipper.core.run import Outcome, Releaser
from shipper.errors import Blocked
from shipper.ports import TrafficMove, TrafficShare
from tests.core.conftest import World
from tests.fakes.ports import holder


class FakeTraffic:
    """The split in memory; `refuse` makes drain raise as HAProxy's adapter would."""

    def __init__(self, percent: int = 30) -> None:
        self.percent = percent
        self.drained: Side | None = None
        self.calls: list[str] = []
        self.refuse = ""

    def share(self) -> TrafficShare:
        return TrafficShare(self.percent, 2, 1, self.drained)

    def drain(self, side: Side) -> TrafficMove:
        self.calls.append(f"drain {side}")
        if self.refuse:
            raise Blocked(self.refuse)
        self.drained = side
        return TrafficMove(True, f"drained {side}")

    def undrain(self, side: Side) -> TrafficMove:
        self.calls.append(f"undrain {side}")
        self.drained = None
        return TrafficMove(True, f"undrained {side}")


def _deploy(world: World, traffic: FakeTraffic, *, drain: bool = True) -> Outcome:
    from shipper.core.model import Version
    from shipper.core.run import DeployRequest

    policy = replace(world.policy, drain_on_regression=drain)
    world.releaser = Releaser(
        policy, replace(world.ports(), traffic=traffic), ship_version=__version__
    )
    return world.releaser.deploy(
        DeployRequest(version=Version("v2"), holder=holder(), migrations=False)
    )


def _kube_fails(world: World) -> None:
    check = next(c for c in world.checks if c.side is Side.KUBERNETES)
    check.when = lambda v: MeasurementStatus.FAILED if v == "v2" else None


def test_bake_says_each_sides_share(world: World) -> None:
    """The verify phase starts with a notice of the split; a side at 0% is still checked."""
    traffic = FakeTraffic(percent=0)
    outcome = _deploy(world, traffic)
    assert outcome.exit_code == 0
    notices = [n["message"] for n in world.sink.of("notice")]
    said = next(n for n in notices if str(n).startswith("traffic during the bake"))
    assert "heroku 100%, kubernetes 0% of sites; 2 pinned, 1 blocked" in str(said)
    assert "kubernetes serves no sites now and is still verified by its health checks" in str(said)
    kube = next(c for c in world.checks if c.side is Side.KUBERNETES)
    assert any(v == "v2" for _, v in kube.measured)  # measured during the bake at 0%
    assert traffic.calls == []


def test_regression_on_one_side_drains_it_before_rollback_and_undrains_after(
    world: World,
) -> None:
    """Kubernetes fails its check: drain kubernetes, roll both back, verify, undrain."""
    traffic = FakeTraffic()
    _kube_fails(world)
    outcome = _deploy(world, traffic)
    assert outcome.exit_code == 1
    assert world.everywhere("v1")
    assert traffic.calls == ["drain kubernetes", "undrain kubernetes"]
    assert traffic.drained is None
    names = world.sink.names()
    drain_at = names.index("traffic_moved")
    assert drain_at < names.index("rollback_started")
    assert names.index("rollback_finished") < len(names) - 1 - names[::-1].index("traffic_moved")
    moved = world.sink.of("traffic_moved")
    assert [(m["action"], m["side"], m["applied"]) for m in moved] == [
        ("drain", "kubernetes", True),
        ("undrain", "kubernetes", True),
    ]
    entries = [e.event for e in world.entries(outcome.release)]
    assert entries.count("traffic_moved") == 2
    assert "kubernetes took traffic again" in outcome.message


def test_no_drain_unless_the_pipeline_asks(world: World) -> None:
    """Without on_regression: drain, the split is left alone."""
    traffic = FakeTraffic()
    _kube_fails(world)
    outcome = _deploy(world, traffic, drain=False)
    assert outcome.exit_code == 1
    assert traffic.calls == []
    assert world.sink.of("traffic_moved") == []


def test_refused_drain_is_recorded_and_the_rollback_goes_on(world: World) -> None:
    """HAProxy refuses the drain (the other side has no usable server): recorded as not
    applied, both sides still roll back, nothing to undrain."""
    traffic = FakeTraffic()
    traffic.refuse = "not drained: heroku has no usable server in HAProxy either"
    _kube_fails(world)
    outcome = _deploy(world, traffic)
    assert outcome.exit_code == 1
    assert world.everywhere("v1")
    assert traffic.calls == ["drain kubernetes"]
    moved = world.sink.of("traffic_moved")
    assert len(moved) == 1 and moved[0]["applied"] is False
    assert "no usable server" in str(moved[0]["message"])


def test_failed_rollback_leaves_the_drain_and_says_so(world: World) -> None:
    """A rollback that fails (exit 4) keeps the drain, the safer state, and says how to undo."""
    traffic = FakeTraffic()
    _kube_fails(world)
    world.heroku.fail_rollback["acme-web"] = "Heroku answered 503"
    outcome = _deploy(world, traffic)
    assert outcome.exit_code == 4
    assert traffic.calls == ["drain kubernetes"]
    assert traffic.drained is Side.KUBERNETES
    assert "kubernetes stays drained in HAProxy: `ship traffic undrain`" in outcome.message
