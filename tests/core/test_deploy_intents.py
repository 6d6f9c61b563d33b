"""The code release writes ahead once per side: every target's deploy intent is durable
before the side's first platform call, in one ledger write, and the release counts as
changed only once an adapter is about to change a target."""

from __future__ import annotations

from collections.abc import Sequence

from shipper.core.model import ReleaseState, Side, TargetResult, Version
from shipper.core.ports import Operation
from shipper.errors import PlatformError
from tests.core.conftest import World
from tests.fakes.ports import FakePlatform


def _watch(world: World, platform: FakePlatform, seen: dict[Side, tuple[list[str], bool]]) -> None:
    """Note, when the core calls `platform.deploy`, which deploy intents of the side the
    ledger holds and whether the release is marked changed yet."""
    real = platform.deploy

    def deploy(version: Version, op: Operation) -> Sequence[TargetResult]:
        intents = [
            str(e.fields["target"])
            for e in world.ledger.entries(op.release)
            if e.event == "intent"
            and e.fields["action"] == "deploy"
            and str(e.fields["target"]).startswith(f"{platform.side.value}:")
        ]
        seen[platform.side] = (intents, world.release(op.release).changed)
        return real(version, op)

    platform.deploy = deploy  # type: ignore[method-assign]  # a spy around the fake's own


def test_every_targets_intent_is_written_before_the_sides_first_call(world: World) -> None:
    seen: dict[Side, tuple[list[str], bool]] = {}
    _watch(world, world.heroku, seen)
    _watch(world, world.kube, seen)
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    assert sorted(seen[Side.HEROKU][0]) == ["heroku:acme-web", "heroku:acme-worker"]
    assert sorted(seen[Side.KUBERNETES][0]) == [
        "kubernetes:cronjob/report",
        "kubernetes:deployment/web",
        "kubernetes:deployment/worker",
    ]
    # one intent per target, the adapters' own first intend adding none
    intents = [e for e in world.entries(outcome.release) if e.event == "intent"]
    assert sorted(str(e.fields["target"]) for e in intents) == sorted(world.versions())
    assert world.release(outcome.release).changed


def test_a_release_whose_adapters_changed_nothing_is_not_marked_changed(world: World) -> None:
    """The Kubernetes side already runs v2 and the Heroku side is refused before any
    change: the intents are in the ledger, yet nothing had been changed, so there is
    nothing to roll back."""
    for name in world.kube.running:
        world.kube.running[name] = Version("v2")

    def refuse() -> None:
        raise PlatformError("the build service is down")

    world.heroku.during_deploy = refuse
    outcome = world.deploy("v2", force=True)
    assert outcome.exit_code == 1
    assert "nothing had been changed" in outcome.message, outcome.message
    release = world.release(outcome.release)
    assert not release.changed
    assert release.state is ReleaseState.FAILED
    assert world.heroku.rollbacks == [] and world.kube.rollbacks == []
