"""Every pipeline in pipelines/ loads and plans; loading resolves paths and policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.core.config import DEFAULT_VERSION_PATTERN
from shipper.core.model import Side, Snapshot, Target, TargetState, Version
from shipper.core.plan import MigrationDecision, build_plan
from shipper.errors import PipelineError
from shipper.pipeline import load_pipeline, parse_duration, render, workload_key

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_pipeline_files_load_and_plan(path: Path) -> None:
    """Each committed pipeline is valid and yields a plan over its targets."""
    pipeline = load_pipeline(path)
    targets = []
    if pipeline.heroku:
        targets += [
            TargetState(Target(Side.HEROKU, a), Version("v1")) for a in pipeline.heroku.apps
        ]
    if pipeline.kubernetes:
        targets += [
            TargetState(Target(Side.KUBERNETES, workload_key(w)), Version("v1"))
            for w in pipeline.kubernetes.workloads
        ]
    plan = build_plan(Version("v2"), Snapshot(tuple(targets)), MigrationDecision(False, "test"))
    assert {t.action for t in plan.targets} == {"deploy"}


@pytest.mark.parametrize(
    ("raw", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5)]
)
def test_durations(raw: str, seconds: float) -> None:
    """Durations read as people write them."""
    assert parse_duration(raw) == seconds


def test_render_is_plain_substitution() -> None:
    """A version is substituted, never formatted."""
    assert render("ghcr.io/a:{version}", "v1.2") == "ghcr.io/a:v1.2"


def test_paths_in_a_pipeline_are_relative_to_the_file(tmp_path: Path) -> None:
    """kubeconfig, netrc and ledger paths are anchored to the pipeline file's folder."""
    (tmp_path / "p").mkdir()
    path = tmp_path / "p" / "x.yaml"
    path.write_text(
        "name: web\n"
        "heroku: {apps: [acme-web], netrc: creds/netrc,"
        " artifact: {type: source, url: 'https://x/{version}'}}\n"
        "kubernetes: {namespace: web, image: 'a:{version}', workloads: [deployment/web],"
        " kubeconfig: kubeconfig}\n"
        "ledger: {path: state/ledger.db}\n"
    )
    pipeline = load_pipeline(path)
    assert pipeline.heroku is not None and pipeline.kubernetes is not None
    assert pipeline.heroku.netrc == str(tmp_path / "p" / "creds" / "netrc")
    assert pipeline.kubernetes.kubeconfig == str(tmp_path / "p" / "kubeconfig")
    assert pipeline.ledger.path == str(tmp_path / "p" / "state" / "ledger.db")


def test_versions_are_checked() -> None:
    """Spaces, shell characters and over-long versions are refused; normal ones pass."""
    from dataclasses import replace

    policy = replace(
        load_pipeline(ROOT / "pipelines" / "example.yaml").policy(),
        version_pattern=DEFAULT_VERSION_PATTERN,
    )
    assert policy.check_version("v1.2.3-build.7") == "v1.2.3-build.7"
    assert policy.check_version("3e4f5a6") == "3e4f5a6"
    for bad in [
        "1.0; rm -rf /",
        "v1 2",
        "$(id)",
        "a" * 129,
        "",
        "-rf",
        "a/../../x",
        "v1+b",
        "v1@sha256",
        ".hidden",
    ]:
        assert policy.check_version(bad) != bad


def test_a_pipeline_pattern_narrows_the_versions() -> None:
    """versions.pattern refuses what it does not match, within the default grammar."""
    policy = load_pipeline(ROOT / "pipelines" / "example.yaml").policy()
    assert policy.check_version("v1.2.3") == "v1.2.3"
    assert policy.check_version("3e4f5a6") == "3e4f5a6"
    assert policy.check_version("main") != "main"


def test_rollout_wait_can_be_set_for_one_run() -> None:
    """`--rollout-wait` overrides kubernetes.rollout_wait on a copy; the file's value stays."""
    pipeline = load_pipeline(ROOT / "pipelines" / "example.yaml")
    assert pipeline.kubernetes is not None
    longer = pipeline.with_rollout_wait(300.0)
    assert longer.kubernetes is not None
    assert longer.kubernetes.rollout_wait == 300.0
    assert pipeline.kubernetes.rollout_wait != 300.0
    assert longer.kubernetes.workloads == pipeline.kubernetes.workloads


def test_rollout_wait_needs_a_kubernetes_section() -> None:
    """A Heroku-only pipeline refuses `--rollout-wait` as bad input, naming the option."""
    pipeline = load_pipeline(ROOT / "pipelines" / "example.yaml")
    heroku_only = pipeline.model_copy(update={"kubernetes": None, "migrations": None})
    with pytest.raises(PipelineError, match="--rollout-wait"):
        heroku_only.with_rollout_wait(60.0)
