"""Estates ship did not write: targets whose labels can't be read, or differ per target.

What runs and whether it is back are decided by identity (the fakes' `code:` ids stand for
a Heroku slug or a pod template's images), so none of these rolls back correctly and then
reports failure.
"""

from __future__ import annotations

import pytest

from shipper.core.model import Finding, Severity, Side, Target, Version
from shipper.errors import BadInput
from tests.core.conftest import World


def unlabelled(world: World, *versions: str) -> None:
    world.heroku.unlabelled.update(versions)
    world.kube.unlabelled.update(versions)


def test_migration_bake_measures_the_old_code_whatever_its_label(world: World) -> None:
    """The old code's label is unknown: the migration bake still passes (it checks that
    nothing changed and the running code is healthy), and the code ships, exit 0."""
    unlabelled(world, "v1")
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")


def test_failing_deploy_over_unknown_labels_rolls_back_and_exits_1(world: World) -> None:
    """Both sides go back by identity and the rollback is verified by it: exit 1, never
    4 because the label of what came back can't be read."""
    unlabelled(world, "v1")
    world.kube.unhealthy_versions.add("v2")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.everywhere("v1")
    assert "rolled back" in outcome.message


def test_rollback_to_an_unlabelled_snapshot_exits_0(world: World) -> None:
    """`ship rollback` after a good deploy over a brownfield estate: exit 0."""
    unlabelled(world, "v1")
    world.deploy("v2")
    world.releaser = None
    outcome = world.rollback()
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v1")


def test_skewed_estate_deploys_and_rolls_back(world: World) -> None:
    """Two apps on different known versions: the deploy's rollback puts each back on its
    own, and exits 1 with both sides healthy."""
    world.heroku.running["acme-worker"] = Version("v0")
    world.kube.unhealthy_versions.add("v2")
    outcome = world.deploy("v2")
    assert outcome.exit_code == 1, outcome.message
    assert world.heroku.running == {"acme-web": "v1", "acme-worker": "v0"}


def test_a_preflight_block_changes_nothing_and_exits_3(world: World) -> None:
    """A BLOCK finding on either side stops the release before any change, migrations
    included: exit 3, every finding emitted, nothing deployed or migrated."""
    world.kube.findings = [
        Finding(Target(Side.KUBERNETES, "deployment/web"), "paused", Severity.BLOCK, "paused"),
        Finding(None, "permissions", Severity.WARN, "cannot read pod logs"),
    ]
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 3, outcome.message
    assert "kubernetes:deployment/web: paused" in outcome.message
    assert world.heroku.deploys == [] and world.kube.deploys == []
    assert world.runner.starts == 0
    found = [e for e in world.sink.events if e.event.name == "preflight_finding"]
    assert [e.event.fields()["severity"] for e in found] == ["block", "warn"]


def test_a_preflight_warning_is_said_and_the_release_goes_on(world: World) -> None:
    world.heroku.findings = [Finding(None, "permissions", Severity.WARN, "no log access")]
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    assert world.everywhere("v2")


def test_a_label_the_platform_no_longer_tells_comes_from_the_ledger(world: World) -> None:
    """Code ship deployed as v2 whose label the platform can't read (a slug without a
    commit): the next release's snapshot names it v2 from the ledger's record of that
    identity, so a redeploy of v2 is a no-op; a label the platform tells is never
    overridden."""
    assert world.deploy("v2").exit_code == 0
    unlabelled(world, "v2")
    world.releaser = None
    again = world.deploy("v2")
    assert again.exit_code == 0, again.message
    assert "already runs on every target" in again.message
    assert world.heroku.deploys == [("acme-web", "v2"), ("acme-worker", "v2")]


def test_a_stopped_traffic_change_neither_blocks_a_deploy_nor_is_rolled_back(
    world: World,
) -> None:
    """A `ship traffic` change killed half-way leaves an open traffic release: a deploy
    goes on, `ship rollback` undoes the code release before it, and `--to` it is refused."""
    from datetime import UTC, datetime

    from shipper.core.model import Phase, Release, ReleaseKind, ReleaseNo, ReleaseState

    assert world.deploy("v2").exit_code == 0
    number = world.ledger.next_number()
    world.ledger.create(
        Release(
            number=number,
            pipeline="web",
            kind=ReleaseKind.TRAFFIC,
            version=Version("percent 30"),
            state=ReleaseState.RUNNING,
            phase=Phase.RELEASE,
            actor="ana",
            started_at=datetime.now(UTC),
        )
    )
    world.releaser = None
    assert world.deploy("v3").exit_code == 0
    world.releaser = None
    back = world.rollback()
    assert back.exit_code == 0, back.message
    assert world.everywhere("v2")
    world.releaser = None
    with pytest.raises(BadInput, match="is a traffic change"):
        world.rollback(to=ReleaseNo(number))
