"""Whether the ledger and lock are shared by everyone who releases a pipeline.

A CI runner starts empty and is thrown away: a SQLite ledger and lock in its home record a
release nobody else will see (the next runner's `ship history` is empty, an on-call
laptop's `ship rollback` has nothing to roll back) and serialize nothing between runners
and people. That is a setting to fix, so ship says so, once, naming the keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipper.pipeline import Pipeline

CI_VARIABLES = ("CI", "GITHUB_ACTIONS")


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in CI (CI=true, as most CI systems set, or GITHUB_ACTIONS=true)."""
    return any(env.get(name, "").strip().lower() in ("true", "1") for name in CI_VARIABLES)


def local_state(pipeline: Pipeline) -> list[str]:
    """The pipeline's parts kept on this machine only: `ledger`, `lock`, both or neither."""
    return [
        name
        for name, backend in (("ledger", pipeline.ledger.backend), ("lock", pipeline.lock.backend))
        if backend != "kubernetes"
    ]


def unshared_warning(pipeline: Pipeline, env: Mapping[str, str], *, ci: bool) -> str:
    """One line naming the problem and the fix, or "" when everything is shared (or, with
    `ci`, when this is not a CI run)."""
    local = local_state(pipeline)
    if not local or (ci and not in_ci(env)):
        return ""
    what = " and ".join(local)
    fix = " and ".join(f"`{name}: {{backend: kubernetes}}`" for name in local)
    where = "this CI runner" if ci else "this machine"
    harm = []
    if "ledger" in local:
        harm.append(
            "other runners and on-call won't see its releases (`ship history`, `ship rollback`)"
        )
    if "lock" in local:
        harm.append("the lock serializes nothing between runners and people")
    return (
        f"the {what} of {pipeline.name} {'are' if len(local) > 1 else 'is'} SQLite on {where} "
        f"only: {' and '.join(harm)}; set {fix} in the pipeline file"
    )
