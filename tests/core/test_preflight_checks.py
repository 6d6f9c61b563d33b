"""Configured preflight checks in the release: severities, overrides, the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from shipper.core.config import CheckSetting
from shipper.core.model import Finding, Severity, Version
from shipper.errors import PlatformUnavailable
from tests.core.conftest import World


@dataclass
class FakePreflightCheck:
    name: str
    severity: Severity
    findings: list[Finding] = field(default_factory=list)
    fails: bool = False
    runs: int = 0

    def run(self, version: Version) -> Sequence[Finding]:
        self.runs += 1
        if self.fails:
            raise PlatformUnavailable("could not reach the database")
        return self.findings


def over_budget() -> FakePreflightCheck:
    return FakePreflightCheck(
        "connections",
        Severity.BLOCK,
        [
            Finding(None, "connections", Severity.BLOCK, "peak 120 over 90", (("a",), ("1",))),
            Finding(None, "connections", Severity.INFO, "figures"),
        ],
    )


def settings(world: World, *given: CheckSetting) -> None:
    world.policy = replace(world.policy, preflight=given)


def test_a_blocking_check_stops_the_release_before_any_change(world: World) -> None:
    """Exit 3, nothing deployed or migrated, the finding (with its table) emitted."""
    world.preflight = [over_budget()]
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 3 and "peak 120 over 90" in outcome.message
    assert world.heroku.deploys == [] and world.kube.deploys == [] and world.runner.starts == 0
    events = [e.event.fields() for e in world.sink.events if e.event.name == "preflight_finding"]
    assert [e["severity"] for e in events] == ["block", "info"]
    assert events[0]["table"] == [["a"], ["1"]]


def test_the_pipeline_can_lower_a_check_to_warn_and_the_override_is_recorded(
    world: World,
) -> None:
    """severity warn: the release goes on; the override is a notice and, with the
    findings, in the ledger of the release."""
    world.preflight = [over_budget()]
    settings(world, CheckSetting("connections", Severity.WARN, reason="pooler next week"))
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0, outcome.message
    notices = [
        str(e.event.fields()["message"]) for e in world.sink.events if e.event.name == "notice"
    ]
    assert any(
        "connections is warn (not block) by the pipeline: pooler next week" in n for n in notices
    )
    kinds = [e.event for r in world.ledger.releases() for e in world.ledger.entries(r.number)]
    assert "preflight_override" in kinds and "preflight_finding" in kinds


def test_a_check_turned_off_does_not_run_and_says_why(world: World) -> None:
    check = over_budget()
    world.preflight = [check]
    settings(world, CheckSetting("connections", off=True, reason="read replica only"))
    assert world.deploy("v2").exit_code == 0
    assert check.runs == 0
    notices = [
        str(e.event.fields()["message"]) for e in world.sink.events if e.event.name == "notice"
    ]
    assert any("turned off by the pipeline: read replica only" in n for n in notices)


def test_a_check_that_cannot_read_what_it_needs_is_a_finding_not_a_crash(world: World) -> None:
    """A BLOCK check that can't tell fails closed: exit 3 saying why."""
    world.preflight = [FakePreflightCheck("connections", Severity.BLOCK, fails=True)]
    outcome = world.deploy("v2")
    assert outcome.exit_code == 3 and "could not run: could not reach" in outcome.message


def test_info_findings_never_block(world: World) -> None:
    world.preflight = [
        FakePreflightCheck(
            "concurrency", Severity.INFO, [Finding(None, "concurrency", Severity.INFO, "4.02")]
        )
    ]
    settings(world, CheckSetting("concurrency", Severity.BLOCK))
    assert world.deploy("v2").exit_code == 0
