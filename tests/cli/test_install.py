"""Installing ship: a distribution name of our own, the `ship` command, and a CI example
that installs from the repository and shares the ledger and lock through the cluster."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / ".github" / "examples" / "ship-deploy.yml"
DOC = ROOT / "docs" / "github-actions.md"


def test_the_distribution_is_not_the_unrelated_shipper_on_the_index() -> None:
    """`shipper` on the package index is someone else's: ours has its own name, keeps the
    import package shipper/ and installs the `ship` command."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "ship-both-sides"
    assert project["scripts"] == {"ship": "shipper.cli:main"}


def test_the_example_workflow_installs_ship_from_its_repository_at_a_pinned_ref() -> None:
    """The workflow never installs a name someone else owns: a git ref or a built wheel."""
    text = EXAMPLE.read_text()
    assert '"shipper==' not in text and "install shipper" not in text
    assert re.search(r"ship-both-sides @ git\+\$\{SHIP_REPO\}@\$\{SHIP_REF\}", text)
    ref = yaml.safe_load(text)["env"]["SHIP_REF"]
    assert ref and ref not in ("main", "master", "HEAD")


def test_the_example_workflow_serializes_waits_and_takes_the_migrations_input() -> None:
    """concurrency per pipeline, never cancelled; --lock-wait; a migrations input that
    becomes --migrations or --no-migrations."""
    flow = yaml.safe_load(EXAMPLE.read_text())
    assert flow["concurrency"]["cancel-in-progress"] is False
    assert "inputs.pipeline" in flow["concurrency"]["group"]
    inputs = flow[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as true
    assert inputs["migrations"]["options"] == ["detect", "migrations", "no-migrations"]
    script = next(s["run"] for s in flow["jobs"]["deploy"]["steps"] if s.get("id") == "ship")
    assert "--lock-wait" in script
    assert "flags+=(--migrations)" in script and "flags+=(--no-migrations)" in script


def test_the_example_and_its_doc_keep_ledger_and_lock_in_the_cluster() -> None:
    """Both name the Kubernetes backends, since runners share nothing."""
    for text in (EXAMPLE.read_text(), DOC.read_text()):
        assert "ledger: {backend: kubernetes}" in text
        assert "lock: {backend: kubernetes}" in text
        assert "--lock-wait" in text and "concurrency" in text
