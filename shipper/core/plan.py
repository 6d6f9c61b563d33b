"""What a release will do, decided before anything is done: what --dry-run prints and
what `Deploy` then carries out. Its phases are the code release's in `machine.ORDER`,
less those this release skips."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from shipper.core.config import MigrationPolicy
from shipper.core.machine import ORDER
from shipper.core.model import Phase, ReleaseKind, Snapshot, Target, Version, names_version
from shipper.core.ports import SourceHistory
from shipper.errors import MigrationsUndecided


@dataclass(frozen=True)
class MigrationDecision:
    run: bool
    why: str


@dataclass(frozen=True)
class PlannedTarget:
    target: Target
    from_version: Version | None
    to_version: Version
    action: str  # "deploy" | "none" (already there)


@dataclass(frozen=True)
class Plan:
    version: Version
    migrations: MigrationDecision
    targets: tuple[PlannedTarget, ...]
    phases: tuple[str, ...]

    @property
    def changes_anything(self) -> bool:
        return self.migrations.run or any(t.action == "deploy" for t in self.targets)

    def runs(self, phase: Phase) -> bool:
        """Whether this release goes through `phase`."""
        return phase.value in self.phases


def planned_phases(*, migrations: bool, verify: bool = True) -> tuple[Phase, ...]:
    """The code release's phases (`machine.ORDER`) that a release with or without
    migrations, and with or without a bake, goes through; `done` is no step of a plan."""
    skipped = {Phase.DONE}
    if not migrations:
        skipped |= {Phase.MIGRATE, Phase.MIGRATION_BAKE}
    if not verify:
        skipped.add(Phase.VERIFY)
    return tuple(p for p in ORDER[ReleaseKind.CODE] if p not in skipped)


def build_plan(
    version: Version,
    snapshot: Snapshot,
    migrations: MigrationDecision,
    *,
    verify: bool = True,
    commit: str | None = None,
) -> Plan:
    targets = tuple(
        PlannedTarget(
            target=t.target,
            from_version=t.version,
            to_version=version,
            action="none" if names_version(t.version, version, commit) else "deploy",
        )
        for t in sorted(snapshot.targets, key=lambda s: s.target)
    )
    phases = planned_phases(migrations=migrations.run, verify=verify)
    return Plan(version, migrations, targets, tuple(p.value for p in phases))


def decide_migrations(
    flag: bool | None,
    policy: MigrationPolicy | None,
    version: Version,
    deployed: Sequence[Version | None],
    history: SourceHistory | None,
    applied_in: int | None = None,
) -> MigrationDecision:
    """Whether `version` brings migrations. Never guesses: when it cannot tell, it raises
    MigrationsUndecided (exit 2) asking for --migrations or --no-migrations."""
    if policy is None:
        if flag:
            raise MigrationsUndecided(
                "--migrations was given but the pipeline has no migrations section"
            )
        return MigrationDecision(False, "the pipeline configures no migrations")
    if flag is False:
        return MigrationDecision(False, "--no-migrations")
    if applied_in is not None:
        return MigrationDecision(False, f"already applied by migration release {applied_in}")
    if flag:
        return MigrationDecision(True, "--migrations")
    olds = sorted({v for v in deployed if v is not None and v != version})
    if any(v is None for v in deployed):
        raise MigrationsUndecided(
            "cannot tell which version runs on every target, so cannot tell whether "
            f"{version} brings migrations; pass --migrations or --no-migrations"
        )
    if not olds:
        return MigrationDecision(False, f"{version} already runs everywhere")
    if history is None:
        raise MigrationsUndecided(
            f"no git repository at hand to compare {', '.join(olds)} with {version}; "
            "pass --migrations or --no-migrations"
        )
    for old in olds:
        changed = history.changed_paths(old, version)
        if changed is None:
            raise MigrationsUndecided(
                f"git cannot compare {old} with {version} here (is this the app's repository, "
                "with both fetched?); pass --migrations or --no-migrations"
            )
        hits = [p for p in changed if matches_any(p, policy.paths)]
        if hits:
            more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
            return MigrationDecision(True, f"{old}..{version} changes {hits[0]}{more}")
    return MigrationDecision(
        False, f"{', '.join(olds)}..{version} changes nothing under {', '.join(policy.paths)}"
    )


def matches_any(path: str, patterns: Sequence[str]) -> bool:
    return any(_glob(p).fullmatch(path) for p in patterns)


@lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    """`db/migrate/**` matches everything below db/migrate; `*` stays within one folder."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)
