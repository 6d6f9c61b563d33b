"""Planning: the migration decision and the dry-run plan."""

from __future__ import annotations

import pytest

from shipper.core.config import MigrationPolicy
from shipper.core.model import Side, Snapshot, Target, TargetState, Version
from shipper.core.plan import MigrationDecision, build_plan, decide_migrations, matches_any
from shipper.errors import MigrationsUndecided
from tests.fakes.ports import FakeHistory

POLICY = MigrationPolicy(paths=("db/migrate/**", "db/schema.rb"), command=("rake", "db:migrate"))
V2 = Version("v2")


def decide(
    flag: bool | None,
    deployed: list[str | None],
    changed: list[str] | None = None,
    applied: int | None = None,
) -> MigrationDecision:
    history = FakeHistory({("v1", "v2"): changed} if changed is not None else {})
    return decide_migrations(
        flag, POLICY, V2, [Version(v) if v else None for v in deployed], history, applied_in=applied
    )


@pytest.mark.parametrize(
    ("path", "hit"),
    [
        ("db/migrate/20261126_add.rb", True),
        ("db/migrate/a/b.rb", True),
        ("db/schema.rb", True),
        ("app/db/migrate/x.rb", False),
        ("db/seeds.rb", False),
    ],
)
def test_migration_paths_are_globs(path: str, hit: bool) -> None:
    """`**` spans folders, and a pattern is anchored at the repository root."""
    assert matches_any(path, POLICY.paths) is hit


def test_flags_win_over_detection() -> None:
    """--no-migrations and --migrations decide without git."""
    assert decide(False, ["v1"]).run is False
    assert decide(True, ["v1"]).run is True


def test_applied_migrations_are_not_run_again() -> None:
    """Even with --migrations, a version whose migration release succeeded is not re-run."""
    decision = decide(True, ["v1"], applied=4)
    assert decision.run is False and "4" in decision.why


def test_git_diff_with_a_migration_runs_migrations() -> None:
    """A changed file under migrations.paths means the version brings migrations."""
    decision = decide(None, ["v1", "v1"], ["db/migrate/1_x.rb", "app/a.rb"])
    assert decision.run and "db/migrate/1_x.rb" in decision.why


def test_unknown_history_stops_instead_of_guessing() -> None:
    """When git cannot compare the versions, ship asks for a flag (exit 2)."""
    with pytest.raises(MigrationsUndecided, match="--migrations or --no-migrations"):
        decide(None, ["v1"], None)


def test_unknown_deployed_version_stops_instead_of_guessing() -> None:
    """A target whose version cannot be read makes the decision impossible."""
    with pytest.raises(MigrationsUndecided):
        decide(None, ["v1", None], [])


def test_no_migrations_section_never_runs_migrations() -> None:
    """A pipeline without migrations ships code only; --migrations there is an error."""
    assert decide_migrations(None, None, V2, [Version("v1")], None).run is False
    with pytest.raises(MigrationsUndecided):
        decide_migrations(True, None, V2, [Version("v1")], None)


def test_plan_lists_each_target_from_and_to() -> None:
    """The plan says what each target goes from and to, and which phases run."""
    snap = Snapshot(
        (
            TargetState(Target(Side.HEROKU, "a"), Version("v1")),
            TargetState(Target(Side.KUBERNETES, "deployment/w"), V2),
        )
    )
    plan = build_plan(V2, snap, MigrationDecision(True, "--migrations"))
    assert [(t.target.name, t.from_version, t.action) for t in plan.targets] == [
        ("a", "v1", "deploy"),
        ("deployment/w", "v2", "none"),
    ]
    assert plan.phases[:5] == ("lock", "gate", "snapshot", "migrate", "migration_bake")


def test_the_plans_phases_are_the_machines_order() -> None:
    """The phases a plan lists are machine.ORDER's for a code release, in that order,
    less those the release skips: no phase list of its own to drift from the machine's."""
    from shipper.core.machine import ORDER
    from shipper.core.model import Phase, ReleaseKind
    from shipper.core.plan import planned_phases

    order = ORDER[ReleaseKind.CODE]
    for migrations in (True, False):
        for verify in (True, False):
            phases = planned_phases(migrations=migrations, verify=verify)
            assert list(phases) == [p for p in order if p in phases]
            assert (Phase.MIGRATE in phases) is migrations
            assert (Phase.MIGRATION_BAKE in phases) is migrations
            assert (Phase.VERIFY in phases) is verify
            assert Phase.DONE not in phases and Phase.RELEASE in phases
